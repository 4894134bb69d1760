package declaration

import (
	"errors"
	"reflect"
	"testing"
	"time"
)

var h0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func hour(n int) time.Time { return h0.Add(time.Duration(n) * time.Hour) }

// Emission factors of the example, mg CO2-eq per kWh (= µg per Wh).
const (
	coal    = 820_000
	wind    = 11_000
	solar   = 48_000
	nuclear = 12_000
)

// example is the hand-computed declaration of the package doc's rules:
//
// Residual mix: DK1 hours 0 and 1 hourly Coal 50 % / Wind 50 %; DK1 default Coal 25 % /
// Nuclear 75 %; DK2 has no residual data at all. Grid mix: DK1 hour 0 hourly Wind 80 % /
// Coal 20 %; DK1 default Wind 100 %; DK2 has no grid data.
//
// Individual declaration, per sector-hour:
//
//	DK1 h0: consumed 1000, retired Wind 600 → matched 600, uncovered 400 split 50/50 by the
//	        hourly residual mix → Coal 200, Wind 200.
//	        µg: GGO wind 600×11,000 = 6,600,000; coal 200×820,000 = 164,000,000;
//	        wind 200×11,000 = 2,200,000; hour total 172,800,000 (172.8 g/kWh).
//	DK1 h1: consumed 500, retired Solar 800 → matched 500, excess 300; Solar 500 declared,
//	        nothing uncovered. µg: 500×48,000 = 24,000,000.
//	DK1 h2: consumed 2001, nothing retired; no hourly mix → default 25/75:
//	        2001×0.25 = 500.25 → 500, 2001×0.75 = 1500.75 → 1500, the 1 Wh left over goes
//	        to the larger remainder (.75, Nuclear) → Coal 500, Nuclear 1501.
//	        µg: 500×820,000 = 410,000,000; 1501×12,000 = 18,012,000; total 428,012,000.
//	DK2 h0: consumed 300, retired Wind 100 → matched 100; uncovered 200 has no mix at all →
//	        Unknown 200 (undeclared). µg: 100×11,000 = 1,100,000.
//
// Totals: consumed 1000+500+2001+300 = 3801; retired 600+800+0+100 = 1500; matched
// 600+500+0+100 = 1200; excess 300; undeclared 200. Technologies: Coal 200+500 = 700,
// Nuclear 1501, Solar 500, Unknown 200, Wind 600+200+100 = 900 (sum 3801). Emissions
// 172,800,000 + 24,000,000 + 428,012,000 + 1,100,000 = 625,912,000 µg = 625.912 g.
// Intensity over declared energy 3801−200 = 3601 Wh: 625,912,000 / 3,601,000 =
// 173.81616… g/kWh → "173.816". 24/7 matched share 1200/3801 = 0.3157063… → 315,706 ppm,
// "0.3157", "31.57" %.
//
// General declaration (whole consumption by the grid mix):
//
//	DK1 h0: 1000 → Wind 800, Coal 200; µg 8,800,000 + 164,000,000 = 172,800,000.
//	DK1 h1: 500 by default → Wind 500; µg 5,500,000.
//	DK1 h2: 2001 by default → Wind 2001; µg 22,011,000.
//	DK2 h0: 300 → Unknown (undeclared).
//
// Totals: consumed 3801; Coal 200, Unknown 300, Wind 3301; emissions 200,311,000 µg;
// intensity 200,311,000 / 3,501,000 = 57.21536… → "57.215".
func example() Input {
	return Input{
		Hours: []HourInput{ // deliberately out of order: the result is sorted
			{Sector: "DK2", Hour: hour(0), ConsumedWh: 300, Retired: []Retired{{"Wind", 100, wind}}},
			{Sector: "DK1", Hour: hour(2), ConsumedWh: 2001},
			{Sector: "DK1", Hour: hour(0), ConsumedWh: 1000, Retired: []Retired{{"Wind", 600, wind}}},
			{Sector: "DK1", Hour: hour(1), ConsumedWh: 500, Retired: []Retired{{"Solar", 800, solar}}},
		},
		Residual: MixTable{
			Hourly: map[Key]Mix{
				{"DK1", hour(0)}: {Source: "test", Parts: []MixPart{{"Coal", 500_000, coal}, {"Wind", 500_000, wind}}},
				{"DK1", hour(1)}: {Source: "test", Parts: []MixPart{{"Coal", 500_000, coal}, {"Wind", 500_000, wind}}},
			},
			Defaults: map[string]Mix{"DK1": {Source: "default", Parts: []MixPart{{"Coal", 250_000, coal}, {"Nuclear", 750_000, nuclear}}}},
		},
		Grid: MixTable{
			Hourly:   map[Key]Mix{{"DK1", hour(0)}: {Source: "test", Parts: []MixPart{{"Wind", 800_000, wind}, {"Coal", 200_000, coal}}}},
			Defaults: map[string]Mix{"DK1": {Source: "default", Parts: []MixPart{{"Wind", 1_000_000, wind}}}},
		},
	}
}

func TestCalculateHandComputedExample(t *testing.T) {
	d, err := Calculate(example())
	if err != nil {
		t.Fatal(err)
	}
	wantInd := Summary{
		ConsumedWh: 3801, RetiredWh: 1500, MatchedWh: 1200, ExcessWh: 300, UndeclaredWh: 200,
		EmissionsUG: 625_912_000,
		Technologies: []TechAmount{
			{"Coal", 700, 574_000_000},    // 200×820,000 + 500×820,000
			{"Nuclear", 1501, 18_012_000}, // 1501×12,000
			{"Solar", 500, 24_000_000},
			{"Unknown", 200, 0},
			{"Wind", 900, 9_900_000}, // 900×11,000
		},
	}
	if !reflect.DeepEqual(d.Individual, wantInd) {
		t.Errorf("Individual = %+v\nwant %+v", d.Individual, wantInd)
	}
	wantGen := Summary{
		ConsumedWh: 3801, UndeclaredWh: 300, EmissionsUG: 200_311_000,
		Technologies: []TechAmount{{"Coal", 200, 164_000_000}, {"Unknown", 300, 0}, {"Wind", 3301, 36_311_000}},
	}
	if !reflect.DeepEqual(d.General, wantGen) {
		t.Errorf("General = %+v\nwant %+v", d.General, wantGen)
	}
	for _, c := range []struct {
		name string
		got  string
		want string
	}{
		{"individual g/kWh", d.Individual.Intensity().Decimal(3), "173.816"},
		{"general g/kWh", d.General.Intensity().Decimal(3), "57.215"},
		{"matched", d.Individual.Matched().Decimal(4), "0.3157"},
		{"matched %", d.Individual.Matched().Percent(2), "31.57"},
		{"general matched", d.General.Matched().Decimal(4), "0.0000"},
	} {
		if c.got != c.want {
			t.Errorf("%s = %s, want %s", c.name, c.got, c.want)
		}
	}
	if got := d.Individual.Matched().PPM(); got != 315_706 {
		t.Errorf("matched ppm = %d, want 315706", got)
	}

	// Every hour is in the result, in order, with where its mix came from.
	type hr struct {
		sector    string
		n         int
		res, grid MixUse
		consumed  int64
		matched   int64
		emissions int64
	}
	var got []hr
	for _, h := range d.Hours {
		got = append(got, hr{h.Sector, int(h.Hour.Sub(h0) / time.Hour), h.Residual, h.Grid, h.Individual.ConsumedWh, h.Individual.MatchedWh, h.Individual.EmissionsUG})
	}
	want := []hr{
		{"DK1", 0, MixHourly, MixHourly, 1000, 600, 172_800_000},
		{"DK2", 0, MixMissing, MixMissing, 300, 100, 1_100_000},
		{"DK1", 1, MixHourly, MixDefault, 500, 500, 24_000_000},
		{"DK1", 2, MixDefault, MixDefault, 2001, 0, 428_012_000},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("hours = %+v\nwant %+v", got, want)
	}
	if h := d.Hours[3].Individual.Technologies; !reflect.DeepEqual(h, []TechAmount{{"Coal", 500, 410_000_000}, {"Nuclear", 1501, 18_012_000}}) {
		t.Errorf("DK1 h2 technologies = %+v", h)
	}
	wantMissRes := []Missing{{Key{"DK2", hour(0)}, MixMissing}, {Key{"DK1", hour(2)}, MixDefault}}
	if !reflect.DeepEqual(d.MissingResidual, wantMissRes) {
		t.Errorf("MissingResidual = %+v, want %+v", d.MissingResidual, wantMissRes)
	}
	wantMissGrid := []Missing{{Key{"DK2", hour(0)}, MixMissing}, {Key{"DK1", hour(1)}, MixDefault}, {Key{"DK1", hour(2)}, MixDefault}}
	if !reflect.DeepEqual(d.MissingGrid, wantMissGrid) {
		t.Errorf("MissingGrid = %+v, want %+v", d.MissingGrid, wantMissGrid)
	}
}

func TestCalculateCases(t *testing.T) {
	mix := MixTable{Defaults: map[string]Mix{"DK1": {Parts: []MixPart{{"Coal", 1, coal}, {"Wind", 1, wind}, {"Solar", 1, solar}}}}}
	tests := []struct {
		name      string
		hours     []HourInput
		wantTechs []TechAmount
		wantMatch string
		wantErr   error
	}{
		{
			name:      "no retirement: all residual, remainder to the first of equal remainders",
			hours:     []HourInput{{Sector: "DK1", Hour: hour(0), ConsumedWh: 10}},
			wantTechs: []TechAmount{{"Coal", 4, 4 * coal}, {"Solar", 3, 3 * solar}, {"Wind", 3, 3 * wind}},
			wantMatch: "0.0000",
		},
		{
			name: "over-retired across two technologies is scaled to the consumption",
			// 7 Wh retired (Wind 5, Solar 2) on 3 Wh consumed: 3×5/7 = 2.14 → 2, 3×2/7 = 0.86 → 0 + 1 = 1.
			hours:     []HourInput{{Sector: "DK1", Hour: hour(0), ConsumedWh: 3, Retired: []Retired{{"Wind", 5, wind}, {"Solar", 2, solar}}}},
			wantTechs: []TechAmount{{"Solar", 1, solar}, {"Wind", 2, 2 * wind}},
			wantMatch: "1.0000",
		},
		{
			name:      "zero consumption is an hour, not an error",
			hours:     []HourInput{{Sector: "DK1", Hour: hour(0), ConsumedWh: 0, Retired: []Retired{{"Wind", 5, wind}}}},
			wantTechs: []TechAmount{},
			wantMatch: "n/a",
		},
		{name: "negative consumption", hours: []HourInput{{Sector: "DK1", Hour: hour(0), ConsumedWh: -1}}, wantErr: ErrInvalidInput},
		{name: "negative retired", hours: []HourInput{{Sector: "DK1", Hour: hour(0), ConsumedWh: 1, Retired: []Retired{{"Wind", -1, 0}}}}, wantErr: ErrInvalidInput},
		{name: "half hour", hours: []HourInput{{Sector: "DK1", Hour: hour(0).Add(30 * time.Minute), ConsumedWh: 1}}, wantErr: ErrInvalidInput},
		{name: "no sector", hours: []HourInput{{Hour: hour(0), ConsumedWh: 1}}, wantErr: ErrInvalidInput},
		{name: "hour twice", hours: []HourInput{{Sector: "DK1", Hour: hour(0)}, {Sector: "DK1", Hour: hour(0).In(time.FixedZone("x", 3600))}}, wantErr: ErrInvalidInput},
		{name: "overflow", hours: []HourInput{{Sector: "DK1", Hour: hour(0), ConsumedWh: 1 << 62, Retired: []Retired{{"Coal", 1 << 62, coal}}}}, wantErr: ErrOverflow},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Calculate(Input{Hours: tc.hours, Residual: mix, Grid: mix})
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("Calculate() error = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(d.Individual.Technologies, tc.wantTechs) {
				t.Errorf("technologies = %+v, want %+v", d.Individual.Technologies, tc.wantTechs)
			}
			if got := d.Individual.Matched().Decimal(4); got != tc.wantMatch {
				t.Errorf("matched = %s, want %s", got, tc.wantMatch)
			}
			var sum int64
			for _, a := range d.Individual.Technologies {
				sum += a.Wh
			}
			if sum != d.Individual.ConsumedWh {
				t.Errorf("technologies sum to %d Wh, consumption is %d", sum, d.Individual.ConsumedWh)
			}
		})
	}
}

func TestSplit(t *testing.T) {
	tests := []struct {
		total   int64
		weights []int64
		want    []int64
	}{
		{10, []int64{1, 1, 1}, []int64{4, 3, 3}},
		{2001, []int64{250_000, 750_000}, []int64{500, 1501}},
		{5, []int64{0, 1, 0}, []int64{0, 5, 0}},
		{7, []int64{333_333, 333_333, 333_334}, []int64{2, 2, 3}},
		{0, []int64{1, 2}, []int64{0, 0}},
		{1 << 62, []int64{1 << 62, 1 << 62}, []int64{1 << 61, 1 << 61}}, // needs 128-bit products
	}
	for _, tc := range tests {
		if got := split(tc.total, tc.weights); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("split(%d, %v) = %v, want %v", tc.total, tc.weights, got, tc.want)
		}
	}
}

func TestRatio(t *testing.T) {
	tests := []struct {
		r       Ratio
		places  int
		dec     string
		percent string
		ppm     int64
	}{
		{Ratio{1, 3}, 4, "0.3333", "33.3333", 333_333},
		{Ratio{2, 3}, 2, "0.67", "66.67", 666_667},
		{Ratio{1, 8}, 2, "0.13", "12.50", 125_000}, // half rounds up
		{Ratio{5, 5}, 0, "1", "100", 1_000_000},
		{Ratio{0, 5}, 3, "0.000", "0.000", 0},
		{Ratio{-1, 8}, 2, "-0.13", "-12.50", -125_000},
		{Ratio{1, 0}, 2, "n/a", "n/a", 0},
		{Ratio{1 << 62, 3}, 1, "1537228672809129301.3", "153722867280912930133.3", 0},
	}
	for _, tc := range tests {
		if got := tc.r.Decimal(tc.places); got != tc.dec {
			t.Errorf("%v.Decimal(%d) = %s, want %s", tc.r, tc.places, got, tc.dec)
		}
		if got := tc.r.Percent(tc.places); got != tc.percent {
			t.Errorf("%v.Percent(%d) = %s, want %s", tc.r, tc.places, got, tc.percent)
		}
		if tc.r.Num < 1<<40 {
			if got := tc.r.PPM(); got != tc.ppm {
				t.Errorf("%v.PPM() = %d, want %d", tc.r, got, tc.ppm)
			}
		}
	}
	if got := FormatScaled(1234, 3); got != "1.234" {
		t.Errorf("FormatScaled(1234, 3) = %s", got)
	}
	if got := FormatScaled(5, 3); got != "0.005" {
		t.Errorf("FormatScaled(5, 3) = %s", got)
	}
}

func TestPeriodsInCopenhagenAcrossDST(t *testing.T) {
	loc, err := time.LoadLocation("Europe/Copenhagen")
	if err != nil {
		t.Skipf("no tzdata: %v", err)
	}
	// 2026-03-29 is the spring-forward day in Copenhagen: 00:00 local is 23:00Z on the 28th,
	// and the day has 23 hours, ending at 22:00Z on the 29th.
	start := time.Date(2026, 3, 28, 22, 0, 0, 0, time.UTC) // 23:00 local on the 28th
	var hours []HourInput
	for i := range 26 {
		hours = append(hours, HourInput{Sector: "DK1", Hour: start.Add(time.Duration(i) * time.Hour), ConsumedWh: int64(i + 1)})
	}
	mix := MixTable{Defaults: map[string]Mix{"DK1": {Parts: []MixPart{{"Wind", PPM, wind}}}}}
	d, err := Calculate(Input{Hours: hours, Residual: mix, Grid: mix})
	if err != nil {
		t.Fatal(err)
	}
	ps, err := d.Periods(Day, loc)
	if err != nil {
		t.Fatal(err)
	}
	// 28th: hour 1 (1 Wh). 29th: hours 2..24 (23 hours, 2+…+24 = 299 Wh). 30th: 25, 26 (51 Wh).
	type p struct {
		day   string
		hours int
		wh    int64
	}
	var got []p
	for _, x := range ps {
		got = append(got, p{x.Start.Format("2006-01-02T15:04Z07:00"), x.Hours, x.Individual.ConsumedWh})
	}
	want := []p{{"2026-03-28T00:00+01:00", 1, 1}, {"2026-03-29T00:00+01:00", 23, 299}, {"2026-03-30T00:00+02:00", 2, 51}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Periods(Day) = %+v, want %+v", got, want)
	}
	all, err := d.Periods(All, loc)
	if err != nil || len(all) != 1 || all[0].Individual.ConsumedWh != 351 || !reflect.DeepEqual(all[0].Individual, d.Individual) {
		t.Fatalf("Periods(All) = %+v, %v; want the declaration's totals", all, err)
	}
	if r, err := ParseResolution("Month"); err != nil || r != Month {
		t.Fatalf("ParseResolution(Month) = %v, %v", r, err)
	}
	if _, err := ParseResolution("week"); !errors.Is(err, ErrInvalidInput) {
		t.Fatalf("ParseResolution(week) = %v", err)
	}
}

// BenchmarkCalculate declares a year of hours in both sectors (17,520 sector-hours) with two
// retired technologies per hour against nine-technology mixes.
func BenchmarkCalculate(b *testing.B) {
	parts := []MixPart{{"Coal", 111_112, coal}, {"Naturalgas", 111_111, 490_000}, {"Oil", 111_111, 840_000},
		{"Nuclear", 111_111, nuclear}, {"Wind", 111_111, wind}, {"Solar", 111_111, solar}, {"Hydro", 111_111, 24_000},
		{"Biomass", 111_111, 230_000}, {"Waste", 111_111, 400_000}}
	in := Input{
		Residual: MixTable{Hourly: map[Key]Mix{}, Defaults: map[string]Mix{"DK1": {Parts: parts}, "DK2": {Parts: parts}}},
		Grid:     MixTable{Defaults: map[string]Mix{"DK1": {Parts: parts}, "DK2": {Parts: parts}}},
	}
	for h := range 8760 {
		for _, s := range []string{"DK1", "DK2"} {
			k := Key{s, hour(h)}
			in.Residual.Hourly[k] = Mix{Parts: parts}
			in.Hours = append(in.Hours, HourInput{Sector: s, Hour: k.Hour, ConsumedWh: 1_000_000 + int64(h), Retired: []Retired{{"Wind", int64(h%24) * 30_000, wind}, {"Solar", 200_000, solar}}})
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Calculate(in); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(in.Hours))*float64(b.N)/b.Elapsed().Seconds(), "hours/s")
}
