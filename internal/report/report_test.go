package report

import (
	"bytes"
	"encoding/csv"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/originhub/originhub/internal/declaration"
)

var h0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func hour(n int) time.Time { return h0.Add(time.Duration(n) * time.Hour) }

// example is the hand-computed declaration of internal/declaration's
// TestCalculateHandComputedExample (its comments work out every number): consumption
// 3.801 kWh, matched 1.200 kWh (31.57 %), individual emissions 625,912,000 µg
// (0.626 kg, 173.816 g/kWh), general 200,311,000 µg (0.200 kg, 57.215 g/kWh).
func example(t *testing.T) declaration.Declaration {
	t.Helper()
	mix := func(parts ...declaration.MixPart) declaration.Mix {
		return declaration.Mix{Source: "test", Parts: parts}
	}
	part := func(tech string, ppm, f int64) declaration.MixPart {
		return declaration.MixPart{Technology: tech, SharePPM: ppm, CO2eqMgPerKWh: f}
	}
	d, err := declaration.Calculate(declaration.Input{
		Hours: []declaration.HourInput{
			{Sector: "DK2", Hour: hour(0), ConsumedWh: 300, Retired: []declaration.Retired{{Technology: "Wind", Wh: 100, CO2eqMgPerKWh: 11_000}}},
			{Sector: "DK1", Hour: hour(2), ConsumedWh: 2001},
			{Sector: "DK1", Hour: hour(0), ConsumedWh: 1000, Retired: []declaration.Retired{{Technology: "Wind", Wh: 600, CO2eqMgPerKWh: 11_000}}},
			{Sector: "DK1", Hour: hour(1), ConsumedWh: 500, Retired: []declaration.Retired{{Technology: "Solar", Wh: 800, CO2eqMgPerKWh: 48_000}}},
		},
		Residual: declaration.MixTable{
			Hourly: map[declaration.Key]declaration.Mix{
				{Sector: "DK1", Hour: hour(0)}: mix(part("Coal", 500_000, 820_000), part("Wind", 500_000, 11_000)),
				{Sector: "DK1", Hour: hour(1)}: mix(part("Coal", 500_000, 820_000), part("Wind", 500_000, 11_000)),
			},
			Defaults: map[string]declaration.Mix{"DK1": mix(part("Coal", 250_000, 820_000), part("Nuclear", 750_000, 12_000))},
		},
		Grid: declaration.MixTable{
			Hourly:   map[declaration.Key]declaration.Mix{{Sector: "DK1", Hour: hour(0)}: mix(part("Wind", 800_000, 11_000), part("Coal", 200_000, 820_000))},
			Defaults: map[string]declaration.Mix{"DK1": mix(part("Wind", 1_000_000, 11_000))},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func meta(t *testing.T) Meta {
	loc, err := time.LoadLocation("Europe/Copenhagen")
	if err != nil {
		loc = time.UTC
	}
	return Meta{
		Title: "Environmental declaration", Holder: "Test Holder ApS", Lines: []string{"Metering points: 571313000000000001 (DK1), 571313000000000002 (DK2)"},
		From: hour(0), To: hour(3), Location: loc, Generated: time.Date(2026, 2, 1, 12, 0, 0, 0, time.UTC),
	}
}

// wh reads a kWh value with 3 decimals back as an exact number of Wh.
func wh(t *testing.T, s string) int64 {
	t.Helper()
	whole, frac, ok := strings.Cut(s, ".")
	if !ok || len(frac) != 3 {
		t.Fatalf("amount %q does not have 3 decimals", s)
	}
	n, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil {
		t.Fatalf("amount %q: %v", s, err)
	}
	return n
}

func TestWriteCSVParsesBack(t *testing.T) {
	d := example(t)
	var buf bytes.Buffer
	if err := WriteCSV(&buf, meta(t), d); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatalf("the CSV does not parse: %v\n%s", err, buf.String())
	}
	head := recs[0]
	col := map[string]int{}
	for i, h := range head {
		col[h] = i
	}
	wantHead := strings.Join(csvColumns, ",") + ",kwh:Coal,kwh:Nuclear,kwh:Solar,kwh:Unknown,kwh:Wind,general_kwh:Coal,general_kwh:Unknown,general_kwh:Wind"
	if got := strings.Join(head, ","); got != wantHead {
		t.Fatalf("header = %s\nwant %s", got, wantHead)
	}
	if len(recs) != 1+len(d.Hours)+1 {
		t.Fatalf("%d records, want header + %d hours + totals", len(recs), len(d.Hours))
	}
	check := func(rec []string, s declaration.Summary, gen declaration.Summary) {
		t.Helper()
		for name, want := range map[string]int64{
			"consumed_kwh": s.ConsumedWh, "retired_kwh": s.RetiredWh, "matched_kwh": s.MatchedWh, "excess_kwh": s.ExcessWh,
		} {
			if got := wh(t, rec[col[name]]); got != want {
				t.Errorf("%s %s = %d Wh, want %d", rec[0], name, got, want)
			}
		}
		for _, tech := range s.Technologies {
			if got := wh(t, rec[col["kwh:"+tech.Technology]]); got != tech.Wh {
				t.Errorf("%s kwh:%s = %d Wh, want %d", rec[0], tech.Technology, got, tech.Wh)
			}
		}
		for _, tech := range gen.Technologies {
			if got := wh(t, rec[col["general_kwh:"+tech.Technology]]); got != tech.Wh {
				t.Errorf("%s general_kwh:%s = %d Wh, want %d", rec[0], tech.Technology, got, tech.Wh)
			}
		}
		// g with 3 decimals is mg: the µg total rounded half up.
		if got, want := wh(t, rec[col["co2_g"]]), (s.EmissionsUG+500)/1000; got != want {
			t.Errorf("%s co2_g = %d mg, want %d", rec[0], got, want)
		}
		if got, want := wh(t, rec[col["general_co2_g"]]), (gen.EmissionsUG+500)/1000; got != want {
			t.Errorf("%s general_co2_g = %d mg, want %d", rec[0], got, want)
		}
	}
	for i, h := range d.Hours {
		rec := recs[1+i]
		if rec[col["hour_utc"]] != h.Hour.Format(time.RFC3339) || rec[col["sector"]] != h.Sector ||
			rec[col["residual_mix"]] != h.Residual.String() || rec[col["grid_mix"]] != h.Grid.String() {
			t.Errorf("row %d = %q, want hour %s sector %s mixes %s/%s", i, rec, h.Hour, h.Sector, h.Residual, h.Grid)
		}
		check(rec, h.Individual, h.General)
	}
	total := recs[len(recs)-1]
	if total[col["hour_utc"]] != TotalLabel || total[col["sector"]] != "DK1 DK2" {
		t.Fatalf("totals row = %q", total)
	}
	check(total, d.Individual, d.General)
	// The hand-computed figures, as text.
	for name, want := range map[string]string{
		"consumed_kwh": "3.801", "matched_kwh": "1.200", "matched_share": "0.315706", "co2_g": "625.912",
		"co2_g_per_kwh": "173.816", "general_co2_g": "200.311", "general_co2_g_per_kwh": "57.215",
		"residual_mix": "hourly 2; default 1; missing 1", "grid_mix": "hourly 1; default 2; missing 1",
		"kwh:Nuclear": "1.501", "kwh:Unknown": "0.200", "general_kwh:Wind": "3.301",
	} {
		if got := total[col[name]]; got != want {
			t.Errorf("total %s = %s, want %s", name, got, want)
		}
	}
	// The first hour is 01:00 in Copenhagen (CET, UTC+1).
	if got := recs[1][col["hour_local"]]; meta(t).Location != time.UTC && got != "2026-01-01T01:00:00+01:00" {
		t.Errorf("hour_local = %s", got)
	}
}

func TestWritePDF(t *testing.T) {
	d := example(t)
	var buf bytes.Buffer
	if err := WritePDF(&buf, meta(t), d); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(buf.Bytes(), []byte("%PDF-")) {
		t.Fatalf("output starts with %q, want %%PDF-", buf.Bytes()[:min(8, buf.Len())])
	}
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Skip("pdftotext not installed (Debian: apt-get install poppler-utils); PDF text not checked")
	}
	file := filepath.Join(t.TempDir(), "declaration.pdf")
	if err := os.WriteFile(file, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.CommandContext(t.Context(), "pdftotext", "-layout", file, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, out)
	}
	text := string(out)
	for _, want := range []string{
		"Environmental declaration", "Test Holder ApS", "Period: 2026-01-01 01:00 – 2026-01-01 04:00 (Europe/Copenhagen)",
		"Consumption (kWh)", "3.801",
		"24/7 matched share (%)", "31.57",
		"Retired above consumption (kWh)", "0.300",
		"Emissions (kg CO2-eq)", "0.626", "0.200",
		"Emission intensity (g CO2-eq/kWh)", "173.816", "57.215",
		"Nuclear", "1.501", "39.49", // 1501/3801 = 39.489…%
		"Wind", "3.301", "86.85", // general: 3301/3801 = 86.845…%
		"Residual mix, sector-hours: hourly 2; default 1; missing 1.",
		"Hourly coverage", "Matched by retired GGOs",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("PDF text lacks %q:\n%s", want, text)
		}
	}
}

func TestWritePDFLongPeriodAndEmpty(t *testing.T) {
	// A year of hours is charted per day; an empty declaration still renders.
	var hours []declaration.HourInput
	for i := range 24 * 365 {
		hours = append(hours, declaration.HourInput{Sector: "DK1", Hour: hour(i), ConsumedWh: 1_000_000 + int64(i%24)*10_000,
			Retired: []declaration.Retired{{Technology: "Wind", Wh: int64(i%24) * 50_000, CO2eqMgPerKWh: 11_000}}})
	}
	mix := declaration.MixTable{Defaults: map[string]declaration.Mix{"DK1": {Parts: []declaration.MixPart{{Technology: "Coal", SharePPM: declaration.PPM, CO2eqMgPerKWh: 820_000}}}}}
	d, err := declaration.Calculate(declaration.Input{Hours: hours, Residual: mix, Grid: mix})
	if err != nil {
		t.Fatal(err)
	}
	for name, d := range map[string]declaration.Declaration{"year": d, "empty": {}} {
		var buf bytes.Buffer
		if err := WritePDF(&buf, Meta{Title: name, From: hour(0), To: hour(24 * 365), Generated: h0}, d); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !bytes.HasPrefix(buf.Bytes(), []byte("%PDF-")) {
			t.Fatalf("%s: not a PDF", name)
		}
		if _, err := exec.LookPath("pdftotext"); err != nil {
			continue
		}
		file := filepath.Join(t.TempDir(), name+".pdf")
		if err := os.WriteFile(file, buf.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.CommandContext(t.Context(), "pdftotext", "-layout", file, "-").CombinedOutput()
		if err != nil {
			t.Fatalf("%s: pdftotext: %v\n%s", name, err, out)
		}
		want := map[string]string{"year": "Daily coverage", "empty": "No consumption in the period."}[name]
		if !strings.Contains(string(out), want) {
			t.Errorf("%s: PDF text lacks %q:\n%s", name, want, out)
		}
		if name == "year" && !strings.Contains(string(out), "Consumption (MWh)") {
			t.Errorf("year: amounts not in MWh:\n%s", out)
		}
	}
}
