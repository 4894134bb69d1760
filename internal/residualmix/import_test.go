package residualmix

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/originhub/originhub/internal/declaration"
	"github.com/originhub/originhub/internal/testkit"
)

func TestMain(m *testing.M) { testkit.Main(m) }

const header = "hour_utc,sector,technology,share,co2_g_per_kwh\n"

// hours writes a file of n hours from start for sector, each Coal c / Wind 1-c.
func hours(sector string, start time.Time, n int, coal string) string {
	var b strings.Builder
	b.WriteString(header)
	for i := range n {
		h := start.Add(time.Duration(i) * time.Hour).Format(time.RFC3339)
		wind := map[string]string{"0.5": "0.5", "0.25": "0.75", "1": "0"}[coal]
		fmt.Fprintf(&b, "%s,%s,Coal,%s,820\n%s,%s,Wind,%s,11\n", h, sector, coal, h, sector, wind)
	}
	return b.String()
}

// stored returns the kind's rows as "sector hour technology share co2 source" lines.
func stored(t *testing.T, s *Store, kind Kind, sector string) []string {
	t.Helper()
	var rows []string
	if err := s.db.NewRaw(`SELECT format('%s %s %s %s %s %s', sector, to_char(begin_at AT TIME ZONE 'UTC', 'DD"T"HH24'), technology, share_ppm, co2eq_mg_per_kwh, source)
		FROM energy_mix WHERE kind = ? AND sector = ? ORDER BY begin_at, technology`, string(kind), sector).Scan(t.Context(), &rows); err != nil {
		t.Fatal(err)
	}
	return rows
}

func TestImport(t *testing.T) {
	s := NewStore(testkit.DB(t))
	ctx := t.Context()
	start := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

	res, err := s.Import(ctx, strings.NewReader(hours("DK1", start, 3, "0.5")), ImportOptions{Kind: Residual, Source: "first"})
	if err != nil {
		t.Fatal(err)
	}
	want := ImportResult{Kind: Residual, Rows: 6, Hours: 3, Sectors: []string{"DK1"}, From: start, To: start.Add(3 * time.Hour), Inserted: 6}
	if !reflect.DeepEqual(res, want) {
		t.Fatalf("first import = %+v\nwant %+v", res, want)
	}
	if got := res.String(); got != "imported residual mix: 6 rows, 3 sector-hours (DK1) 2030-01-01T00:00:00Z..2030-01-01T03:00:00Z: 6 inserted, 0 updated, 0 unchanged, 0 deleted" {
		t.Errorf("summary = %s", got)
	}

	// Hour 1 changes and hour 2 becomes all coal: its Wind row goes, as the hour is replaced
	// whole. Hour 0 is identical and untouched.
	file := header +
		"2030-01-01T00:00:00Z,DK1,Coal,0.5,820\n2030-01-01T00:00:00Z,DK1,Wind,0.5,11\n" +
		"2030-01-01T01:00:00Z,DK1,Coal,0.25,820\n2030-01-01T01:00:00Z,DK1,Wind,0.75,11\n" +
		"2030-01-01T02:00:00Z,DK1,Coal,1,820\n"
	res, err = s.Import(ctx, strings.NewReader(file), ImportOptions{Kind: Residual, Source: "first"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Inserted != 0 || res.Updated != 3 || res.Unchanged != 2 || res.Deleted != 1 {
		t.Fatalf("second import = %+v, want 0 inserted, 3 updated, 2 unchanged, 1 deleted", res)
	}
	wantRows := []string{
		"DK1 01T00 Coal 500000 820000 first", "DK1 01T00 Wind 500000 11000 first",
		"DK1 01T01 Coal 250000 820000 first", "DK1 01T01 Wind 750000 11000 first",
		"DK1 01T02 Coal 1000000 820000 first",
	}
	if got := stored(t, s, Residual, "DK1"); !reflect.DeepEqual(got, wantRows) {
		t.Fatalf("stored = %q\nwant %q", got, wantRows)
	}
	if got := stored(t, s, Grid, "DK1"); len(got) != 0 {
		t.Fatalf("grid rows after residual imports: %q", got)
	}

	// --replace-range: a file of hours 0 and 2 removes hour 1, which lies between them.
	file = header + "2030-01-01T00:00:00Z,DK1,Wind,1,11\n2030-01-01T02:00:00Z,DK1,Wind,1,11\n"
	res, err = s.Import(ctx, strings.NewReader(file), ImportOptions{Kind: Residual, Source: "second", ReplaceRange: true})
	if err != nil {
		t.Fatal(err)
	}
	// Deleted: hour 0 Coal, hour 2 Coal (replaced hours), hour 1 Coal and Wind (the range);
	// hour 0 Wind is updated, hour 2 Wind inserted again.
	if res.Deleted != 4 || res.Inserted != 1 || res.Updated != 1 {
		t.Fatalf("replace-range import = %+v, want 4 deleted, 1 inserted, 1 updated", res)
	}
	wantRows = []string{"DK1 01T00 Wind 1000000 11000 second", "DK1 01T02 Wind 1000000 11000 second"}
	if got := stored(t, s, Residual, "DK1"); !reflect.DeepEqual(got, wantRows) {
		t.Fatalf("stored = %q\nwant %q", got, wantRows)
	}
}

func TestImportRejectsWholeFile(t *testing.T) {
	s := NewStore(testkit.DB(t))
	ctx := t.Context()
	tests := []struct {
		name string
		file string
		want []string
	}{
		{
			name: "row errors and sums",
			file: header +
				"2031-01-01T00:00:00Z,DK2,Coal,0.5,820\n" +
				"2031-01-01T00:00:00Z,DK2,Wind,0.4,11\n" + // sums to 0.9
				"2031-01-01T01:00:00Z,DK2,Coal,x,820\n" +
				"2031-01-01T02:00:00Z,DK2,Coal,1,820\n",
			// Row errors come as the file streams, whole-file checks after it.
			want: []string{`line 4: share: "x" is not a decimal number`, "line 2: shares of DK2 2031-01-01T00:00Z sum to 0.9, want 1 (±0.001)"},
		},
		{
			name: "duplicate technology",
			file: header + "2031-01-01T00:00:00Z,DK2,Coal,0.5,820\n2031-01-01T00:00:00Z,DK2,Coal,0.5,820\n",
			want: []string{"line 2: DK2 2031-01-01T00:00Z Coal given 2 times"},
		},
		{
			name: "within tolerance is fine but beyond is not",
			file: header + "2031-01-01T00:00:00Z,DK2,Coal,0.5,820\n2031-01-01T00:00:00Z,DK2,Wind,0.5011,11\n",
			want: []string{"line 2: shares of DK2 2031-01-01T00:00Z sum to 1.0011, want 1 (±0.001)"},
		},
		{name: "no rows", file: header, want: []string{"the file has no rows"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Import(ctx, strings.NewReader(tc.file), ImportOptions{Kind: Grid, Source: "bad"})
			var verr *ValidationError
			if !errors.As(err, &verr) {
				t.Fatalf("Import() = %v, want a ValidationError", err)
			}
			if !reflect.DeepEqual(verr.Problems, tc.want) || verr.Count != len(tc.want) {
				t.Fatalf("problems = %q (count %d)\nwant %q", verr.Problems, verr.Count, tc.want)
			}
			if got := stored(t, s, Grid, "DK2"); len(got) != 0 {
				t.Fatalf("a rejected file left rows: %q", got)
			}
		})
	}
	if _, err := s.Import(ctx, strings.NewReader(header+"2031-01-01T00:00:00Z,DK2,Coal,0.9995,820\n"), ImportOptions{Kind: Grid, Source: "ok"}); err != nil {
		t.Fatalf("a sum within the tolerance: %v", err)
	}
	if _, err := s.Import(ctx, strings.NewReader(header), ImportOptions{Kind: "mixed", Source: "x"}); err == nil {
		t.Fatal("unknown kind accepted")
	}
	if _, err := s.Import(ctx, strings.NewReader(header), ImportOptions{Kind: Grid}); err == nil {
		t.Fatal("empty source accepted")
	}
}

func TestTable(t *testing.T) {
	s := NewStore(testkit.DB(t))
	ctx := t.Context()
	start := time.Date(2032, 6, 1, 0, 0, 0, 0, time.UTC)
	if _, err := s.Import(ctx, strings.NewReader(hours("DK2", start, 2, "0.25")), ImportOptions{Kind: Residual, Source: "test data"}); err != nil {
		t.Fatal(err)
	}
	tab, err := s.Table(ctx, Residual, []string{"DK2"}, start.Add(time.Hour), start.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	want := map[declaration.Key]declaration.Mix{
		{Sector: "DK2", Hour: start.Add(time.Hour)}: {Source: "test data", Parts: []declaration.MixPart{{Technology: "Coal", SharePPM: 250_000, CO2eqMgPerKWh: 820_000}, {Technology: "Wind", SharePPM: 750_000, CO2eqMgPerKWh: 11_000}}},
	}
	if !reflect.DeepEqual(tab.Hourly, want) {
		t.Fatalf("Hourly = %+v, want %+v (only the hour inside the range)", tab.Hourly, want)
	}
	def, ok := tab.Defaults["DK2"]
	if !ok || len(tab.Defaults) != 1 || !strings.HasPrefix(def.Source, "default:") {
		t.Fatalf("Defaults = %+v, want the seeded DK2 default only", tab.Defaults)
	}
	var sum int64
	for _, p := range def.Parts {
		sum += p.SharePPM
	}
	if sum != declaration.PPM {
		t.Fatalf("default shares sum to %d", sum)
	}

	// End to end with the calculator: the imported hour is hourly, the next one falls back to
	// the default and is reported.
	d, err := declaration.Calculate(declaration.Input{
		Hours: []declaration.HourInput{
			{Sector: "DK2", Hour: start.Add(time.Hour), ConsumedWh: 4000},
			{Sector: "DK2", Hour: start.Add(2 * time.Hour), ConsumedWh: 1000},
		},
		Residual: tab,
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := d.Hours[0].Individual.Technologies; !reflect.DeepEqual(got, []declaration.TechAmount{{Technology: "Coal", Wh: 1000, EmissionsUG: 820_000_000}, {Technology: "Wind", Wh: 3000, EmissionsUG: 33_000_000}}) {
		t.Fatalf("hourly hour = %+v", got)
	}
	if len(d.MissingResidual) != 1 || d.MissingResidual[0].Use != declaration.MixDefault || !d.MissingResidual[0].Hour.Equal(start.Add(2*time.Hour)) {
		t.Fatalf("MissingResidual = %+v, want the second hour on the default", d.MissingResidual)
	}
}

func TestDefaultFactors(t *testing.T) {
	f, err := NewStore(testkit.DB(t)).DefaultFactors(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{
		"Biogas": 230_000, "Biomass": 230_000, "Coal": 820_000, "Hydro": 24_000, "Naturalgas": 490_000,
		"Nuclear": 12_000, "Oil": 840_000, "Solar": 48_000, "Waste": 400_000, "Wind": 11_000,
	}
	if !reflect.DeepEqual(f, want) {
		t.Fatalf("DefaultFactors() = %v, want %v", f, want)
	}
}

// BenchmarkImport imports a year of hourly residual mix for both sectors (8,760 hours × 2
// sectors × 9 technologies = 157,680 rows) per iteration, replacing the same hours.
func BenchmarkImport(b *testing.B) {
	s := NewStore(testkit.DB(b))
	techs := []string{"Coal", "Naturalgas", "Oil", "Nuclear", "Wind", "Solar", "Hydro", "Biomass", "Waste"}
	var buf strings.Builder
	buf.WriteString(header)
	start := time.Date(2033, 1, 1, 0, 0, 0, 0, time.UTC)
	rows := 0
	for h := range 8760 {
		at := start.Add(time.Duration(h) * time.Hour).Format(time.RFC3339)
		for _, sector := range Sectors {
			for i, tech := range techs {
				share := "0.111111"
				if i == 0 {
					share = "0.111112"
				}
				fmt.Fprintf(&buf, "%s,%s,%s,%s,%d.5\n", at, sector, tech, share, 10+i*100)
				rows++
			}
		}
	}
	file := buf.String()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := s.Import(b.Context(), strings.NewReader(file), ImportOptions{Kind: Residual, Source: "bench"}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
