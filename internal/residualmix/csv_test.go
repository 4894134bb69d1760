package residualmix

import (
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

func TestParseDecimal(t *testing.T) {
	tests := []struct {
		in      string
		places  int
		want    int64
		wantErr bool
	}{
		{"0.25", 6, 250_000, false},
		{"1", 6, 1_000_000, false},
		{".5", 6, 500_000, false},
		{"0.1234565", 6, 123_457, false}, // half rounds up
		{"0.1234564", 6, 123_456, false},
		{"820", 3, 820_000, false},
		{"12.3456", 3, 12_346, false},
		{"0", 3, 0, false},
		{"-1", 3, 0, true},
		{"1e3", 3, 0, true},
		{"", 3, 0, true},
		{".", 3, 0, true},
		{"1.2.3", 3, 0, true},
		{"NaN", 3, 0, true},
		{"9999999999999", 3, 0, true},
	}
	for _, tc := range tests {
		got, err := parseDecimal(tc.in, tc.places)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("parseDecimal(%q, %d) = %d, %v; want %d, error %v", tc.in, tc.places, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestReader(t *testing.T) {
	const file = "share,hour_utc,sector,technology,co2_g_per_kwh\n" + // any column order
		"0.5,2026-01-01T00:00:00Z,dk1,Wind,11\n" +
		"0.5,2026-01-01T01:00:00+01:00,DK1,Coal,820.5\n" + // an offset is converted to UTC
		"0.5,2026-01-01 02:00,DK1,Coal,820\n" + // no zone: UTC, as the column says
		"0.5,2026-01-01T00:30:00Z,DK1,Coal,820\n" +
		"0.5,2026-01-01T00:00:00Z,DK3,Coal,820\n" +
		"1.5,2026-01-01T00:00:00Z,DK1,Coal,820\n" +
		"0.5,2026-01-01T00:00:00Z,DK1,,820\n" +
		"0.5,2026-01-01T00:00:00Z,DK1,Coal,-1\n" +
		"0.5,2026-01-01T00:00:00Z,DK1,Coal,10001\n" +
		"0.5,2026-01-01T00:00:00Z,DK1\n"
	rd, err := NewReader(strings.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	var rows []Row
	var problems []string
	for {
		row, err := rd.Next()
		if err == io.EOF {
			break
		}
		var rerr *RowError
		if errors.As(err, &rerr) {
			problems = append(problems, rerr.Error())
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, row)
	}
	want := []Row{
		{Line: 2, Hour: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Sector: "DK1", Technology: "Wind", SharePPM: 500_000, CO2eqMgPerKWh: 11_000},
		{Line: 3, Hour: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Sector: "DK1", Technology: "Coal", SharePPM: 500_000, CO2eqMgPerKWh: 820_500},
		{Line: 4, Hour: time.Date(2026, 1, 1, 2, 0, 0, 0, time.UTC), Sector: "DK1", Technology: "Coal", SharePPM: 500_000, CO2eqMgPerKWh: 820_000},
	}
	if len(rows) != len(want) {
		t.Fatalf("rows = %+v, want %+v", rows, want)
	}
	for i := range want {
		if rows[i].Line != want[i].Line || !rows[i].Hour.Equal(want[i].Hour) || rows[i].Hour.Location() != time.UTC ||
			rows[i].Sector != want[i].Sector || rows[i].Technology != want[i].Technology ||
			rows[i].SharePPM != want[i].SharePPM || rows[i].CO2eqMgPerKWh != want[i].CO2eqMgPerKWh {
			t.Errorf("row %d = %+v, want %+v", i, rows[i], want[i])
		}
	}
	wantProblems := []string{
		"line 5: hour_utc: 2026-01-01T00:30:00Z is not a whole hour",
		`line 6: sector "DK3" is not DK1 or DK2`,
		"line 7: share 1.5 is outside [0, 1]",
		`line 8: technology "" must have 1 to 100 characters`,
		`line 9: co2_g_per_kwh: "-1" is negative`,
		"line 10: co2_g_per_kwh 10001 is outside [0, 10000]",
		"line 11: wrong number of fields",
	}
	if strings.Join(problems, "\n") != strings.Join(wantProblems, "\n") {
		t.Errorf("problems =\n%s\nwant\n%s", strings.Join(problems, "\n"), strings.Join(wantProblems, "\n"))
	}
}

func TestReaderHeader(t *testing.T) {
	tests := []struct{ name, head, want string }{
		{"missing column", "hour_utc,sector,technology,share", "column co2_g_per_kwh missing"},
		{"unknown column", "hour_utc,sector,technology,share,co2_g_per_kwh,price", `unknown column "price"`},
		{"repeated column", "hour_utc,sector,technology,share,share", "column share given twice"},
		{"empty file", "", "read header"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewReader(strings.NewReader(tc.head))
			var verr *ValidationError
			if !errors.As(err, &verr) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("NewReader() = %v, want a ValidationError containing %q", err, tc.want)
			}
		})
	}
	if _, err := NewReader(strings.NewReader("\ufeffHOUR_UTC, Sector,technology,share,co2_g_per_kwh\n")); err != nil {
		t.Fatalf("header with BOM, capitals and spaces: %v", err)
	}
}

// FuzzReader feeds arbitrary files to the reader: it must never panic, and every row it
// accepts must be within the bounds the database enforces.
func FuzzReader(f *testing.F) {
	f.Add("hour_utc,sector,technology,share,co2_g_per_kwh\n2026-01-01T00:00:00Z,DK1,Wind,1,11\n")
	f.Add("hour_utc,sector,technology,share,co2_g_per_kwh\n2026-01-01 00:00,dk2,Coal,.5,820.1234\n")
	f.Fuzz(func(t *testing.T, s string) {
		rd, err := NewReader(strings.NewReader(s))
		if err != nil {
			return
		}
		for range 1000 {
			row, err := rd.Next()
			var rerr *RowError
			if errors.As(err, &rerr) {
				continue
			}
			if err != nil {
				return
			}
			if row.SharePPM < 0 || row.SharePPM > 1_000_000 || row.CO2eqMgPerKWh < 0 || row.CO2eqMgPerKWh > maxCO2MgPerKWh ||
				!row.Hour.Truncate(time.Hour).Equal(row.Hour) || (row.Sector != "DK1" && row.Sector != "DK2") || row.Technology == "" {
				t.Fatalf("accepted out-of-bounds row %+v", row)
			}
		}
	})
}
