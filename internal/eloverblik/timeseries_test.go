package eloverblik

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// doc wraps TimeSeries JSON into a full GetTimeSeries response.
func doc(timeSeries string) string {
	return `{"result":[{"MyEnergyData_MarketDocument":{"mRID":"x","createdDateTime":"2020-06-09T10:05:27Z",
"sender_MarketParticipant.mRID":{"codingScheme":null,"name":null},
"period.timeInterval":{"start":"2018-12-31T23:00:00Z","end":"2019-01-01T23:00:00Z"},
"TimeSeries":[` + timeSeries + `]},"success":true,"errorCode":"10000","errorText":"NoError","id":"571313000000000001","stackTrace":null}]}`
}

func ts(unit, resolution, points string) string {
	return `{"mRID":"571313000000000001","businessType":"A04","curveType":"A01","measurement_Unit.name":"` + unit + `",
"MarketEvaluationPoint":{"mRID":{"codingScheme":"A10","name":"571313000000000001"}},
"Period":[{"resolution":"` + resolution + `","timeInterval":{"start":"2018-12-31T23:00:00Z","end":"2019-01-01T23:00:00Z"},
"Point":[` + points + `]}]}`
}

func pt(pos, q, quality string) string {
	return `{"position":"` + pos + `","out_Quantity.quantity":` + q + `,"out_Quantity.quality":"` + quality + `"}`
}

type collected struct {
	readings []Reading
	problems []*ReadingError
}

func parseAll(t *testing.T, body string) (collected, Stats, error) {
	t.Helper()
	var c collected
	st, err := ParseTimeSeries(strings.NewReader(body), Sink{
		Reading: func(r Reading) error { c.readings = append(c.readings, r); return nil },
		Problem: func(e *ReadingError) error { c.problems = append(c.problems, e); return nil },
	})
	return c, st, err
}

var jan1 = time.Date(2018, 12, 31, 23, 0, 0, 0, time.UTC)

func TestParseTimeSeries(t *testing.T) {
	tests := []struct {
		name         string
		body         string
		wantWh       []int64
		wantBegins   []time.Time
		wantQuality  []string
		wantProblems []ProblemKind
		wantErr      bool
	}{
		{
			name:        "kwh hourly",
			body:        doc(ts("KWH", "PT1H", pt("1", `"1.0"`, "A04")+","+pt("2", `"0.123"`, "A03")+","+pt("24", `"12.3456"`, "A04"))),
			wantWh:      []int64{1000, 123, 12345},
			wantBegins:  []time.Time{jan1, jan1.Add(time.Hour), jan1.Add(23 * time.Hour)},
			wantQuality: []string{"A04", "A03", "A04"},
		},
		{
			name:   "mwh is a million wh",
			body:   doc(ts("MWH", "PT1H", pt("1", `"1.5"`, "A04")+","+pt("2", `"0.0000019"`, "A04"))),
			wantWh: []int64{1_500_000, 1},
		},
		{
			name:   "quantity as json number",
			body:   doc(ts("KWH", "PT1H", pt("1", `2.5`, "A04"))),
			wantWh: []int64{2500},
		},
		{
			name:   "unknown fields everywhere are ignored",
			body:   strings.Replace(doc(ts("KWH", "PT1H", `{"position":"1","new":{"a":[1,2,{"b":null}]},"out_Quantity.quantity":"3"}`)), `"TimeSeries"`, `"extra":[true,false,null,-1.5e3],"TimeSeries"`, 1),
			wantWh: []int64{3000},
		},
		{
			name:         "bad quantities reported per reading",
			body:         doc(ts("KWH", "PT1H", pt("1", `"abc"`, "A04")+","+pt("2", `null`, "A04")+","+pt("3", `"-1"`, "A04")+","+pt("4", `""`, "A04")+","+pt("5", `"1e3"`, "A04")+","+pt("6", `true`, "A04")+","+pt("7", `"7"`, "A04"))),
			wantWh:       []int64{7000},
			wantProblems: []ProblemKind{ProblemBadQuantity, ProblemMissingQuantity, ProblemBadQuantity, ProblemMissingQuantity, ProblemBadQuantity, ProblemBadQuantity},
		},
		{
			name:         "missing quantity field",
			body:         doc(ts("KWH", "PT1H", `{"position":"1"}`)),
			wantProblems: []ProblemKind{ProblemMissingQuantity},
		},
		{
			name:         "bad positions",
			body:         doc(ts("KWH", "PT1H", pt("0", `"1"`, "A04")+","+pt("25", `"1"`, "A04")+","+pt("x", `"1"`, "A04")+","+pt("3", `"1"`, "A04")+","+pt("3", `"2"`, "A04"))),
			wantWh:       []int64{1000},
			wantProblems: []ProblemKind{ProblemBadPosition, ProblemBadPosition, ProblemBadPosition, ProblemDuplicatePosition},
		},
		{
			name:         "unknown unit",
			body:         doc(ts("GWH", "PT1H", pt("1", `"1"`, "A04")+","+pt("2", `"1"`, "A04"))),
			wantProblems: []ProblemKind{ProblemUnknownUnit, ProblemUnknownUnit},
		},
		{
			name:         "unsupported resolution",
			body:         doc(ts("KWH", "P1D", pt("1", `"1"`, "A04"))),
			wantProblems: []ProblemKind{ProblemBadResolution},
		},
		{
			name: "quarter hours summed, incomplete hour reported",
			body: doc(ts("KWH", "PT15M", pt("1", `"0.1"`, "A04")+","+pt("2", `"0.2"`, "A03")+","+pt("3", `"0.3"`, "A04")+","+pt("4", `"0.4"`, "A04")+","+
				pt("5", `"1"`, "A04")+","+pt("6", `"1"`, "A04"))),
			wantWh:       []int64{1000},
			wantBegins:   []time.Time{jan1},
			wantQuality:  []string{"A03"},
			wantProblems: []ProblemKind{ProblemIncompleteHour},
		},
		{
			name:         "entry failed",
			body:         `{"result":[{"MyEnergyData_MarketDocument":null,"success":false,"errorCode":"20000","errorText":"NoAccess","id":"5713"}]}`,
			wantProblems: []ProblemKind{ProblemEntryFailed},
		},
		{
			name:   "unit and mRID after Period",
			body:   doc(`{"Period":[{"Point":[` + pt("1", `"1"`, "A04") + `],"timeInterval":{"start":"2018-12-31T23:00:00Z"},"resolution":"PT1H"}],"measurement_Unit.name":"KWH","mRID":"5713"}`),
			wantWh: []int64{1000},
		},
		{
			name:         "missing interval start",
			body:         doc(`{"mRID":"5713","measurement_Unit.name":"KWH","Period":[{"resolution":"PT1H","Point":[` + pt("1", `"1"`, "A04") + `]}]}`),
			wantProblems: []ProblemKind{ProblemBadInterval},
		},
		{name: "empty result", body: `{"result":[]}`},
		{name: "null document parts", body: `{"result":[null,{"MyEnergyData_MarketDocument":{"TimeSeries":null}}]}`},
		{name: "truncated", body: doc(ts("KWH", "PT1H", pt("1", `"1"`, "A04")))[:200], wantErr: true},
		{name: "not json", body: `<html>`, wantErr: true},
		{name: "trailing garbage", body: `{"result":[]} x`, wantErr: true},
		{name: "trailing comma", body: `{"result":[1,]}`, wantErr: true},
		{name: "missing colon", body: `{"result" []}`, wantErr: true},
		{name: "empty body", body: ``, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, st, err := parseAll(t, tc.body)
			if (err != nil) != tc.wantErr {
				t.Fatalf("ParseTimeSeries() error = %v, wantErr %v", err, tc.wantErr)
			}
			if tc.wantErr {
				if !errors.Is(err, errSyntax) {
					t.Errorf("error %v is not a syntax error", err)
				}
				return
			}
			var wh []int64
			for _, r := range got.readings {
				wh = append(wh, r.Wh)
				if !r.End.Equal(r.Begin.Add(time.Hour)) || r.Begin.Location() != time.UTC {
					t.Errorf("reading %+v: want UTC hour", r)
				}
			}
			if fmt.Sprint(wh) != fmt.Sprint(tc.wantWh) {
				t.Errorf("Wh = %v, want %v", wh, tc.wantWh)
			}
			for i, b := range tc.wantBegins {
				if !got.readings[i].Begin.Equal(b) {
					t.Errorf("reading %d begin = %v, want %v", i, got.readings[i].Begin, b)
				}
			}
			for i, q := range tc.wantQuality {
				if got.readings[i].Quality != q {
					t.Errorf("reading %d quality = %q, want %q", i, got.readings[i].Quality, q)
				}
			}
			var kinds []ProblemKind
			for _, p := range got.problems {
				kinds = append(kinds, p.Kind)
			}
			if fmt.Sprint(kinds) != fmt.Sprint(tc.wantProblems) {
				t.Errorf("problems = %v, want %v", kinds, tc.wantProblems)
			}
			if st.Readings != int64(len(got.readings)) || st.Problems != int64(len(got.problems)) {
				t.Errorf("stats = %+v, want %d readings %d problems", st, len(got.readings), len(got.problems))
			}
		})
	}
}

// TestParseTimeSeriesSmallReads feeds the parser one byte at a time, so every
// token straddles a buffer refill.
func TestParseTimeSeriesSmallReads(t *testing.T) {
	var pts []string
	for i := 1; i <= 24; i++ {
		pts = append(pts, pt(fmt.Sprint(i), fmt.Sprintf(`"%d.%03d"`, i, i), "A04"))
	}
	body := doc(ts("KWH", "PT1H", strings.Join(pts, ",")))
	var sum int64
	st, err := ParseTimeSeries(iotest.OneByteReader(strings.NewReader(body)), Sink{Reading: func(r Reading) error { sum += r.Wh; return nil }})
	if err != nil {
		t.Fatalf("ParseTimeSeries() error = %v", err)
	}
	// Σ i·1001 for i = 1..24
	if st.Readings != 24 || sum != 300*1001 {
		t.Errorf("got %d readings summing %d, want 24 summing %d", st.Readings, sum, 300*1001)
	}
}

func TestParseTimeSeriesSinkErrorStops(t *testing.T) {
	stop := errors.New("stop")
	body := doc(ts("KWH", "PT1H", pt("1", `"1"`, "A04")+","+pt("2", `"1"`, "A04")))
	n := 0
	_, err := ParseTimeSeries(strings.NewReader(body), Sink{Reading: func(Reading) error { n++; return stop }})
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("err = %v after %d readings, want stop after 1", err, n)
	}
}

func TestParseTimeSeriesReadError(t *testing.T) {
	boom := errors.New("connection reset")
	r := io.MultiReader(strings.NewReader(`{"result":[`), iotest.ErrReader(boom))
	_, err := ParseTimeSeries(r, Sink{Reading: func(Reading) error { return nil }})
	if !errors.Is(err, boom) {
		t.Errorf("err = %v, want %v", err, boom)
	}
}

func TestParseQuantity(t *testing.T) {
	tests := []struct {
		in      string
		scale   int
		want    int64
		wantErr bool
	}{
		{"0", 3, 0, false},
		{"1.0", 3, 1000, false},
		{"0.001", 3, 1, false},
		{"0.0019", 3, 1, false}, // truncated toward zero
		{"123456.789", 3, 123456789, false},
		{"1", 6, 1_000_000, false},
		{"9223372036854775.807", 3, 9223372036854775807, false},
		{"9223372036854775.808", 3, 0, true},
		{"99999999999999999999", 3, 0, true},
		{"-1", 3, 0, true},
		{"+1", 3, 0, true},
		{"1.", 3, 0, true},
		{".5", 3, 0, true},
		{"1,5", 3, 0, true},
		{"1e3", 3, 0, true},
		{"", 3, 0, true},
		{" 1", 3, 0, true},
	}
	for _, tc := range tests {
		got, err := parseQuantity([]byte(tc.in), tc.scale)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("parseQuantity(%q, %d) = %d, %v; want %d, err %v", tc.in, tc.scale, got, err, tc.want, tc.wantErr)
		}
	}
}

// TestParseTimeSeriesBounds checks that hostile documents fail instead of
// growing memory without bound.
func TestParseTimeSeriesBounds(t *testing.T) {
	var many strings.Builder
	for i := range maxPointsPerPeriod + 1 {
		if i > 0 {
			many.WriteByte(',')
		}
		many.WriteString(`{"position":"1"}`)
	}
	tests := []struct {
		name string
		body string
	}{
		{"too many points in a period", doc(ts("KWH", "PT1H", many.String()))},
		{"token longer than the limit", `{"result":[{"x":"` + strings.Repeat("a", lexMaxToken+1) + `"}]}`},
		{"nesting too deep", `{"result":[{"x":` + strings.Repeat("[", lexMaxDepth+1) + strings.Repeat("]", lexMaxDepth+1) + `}]}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseTimeSeries(strings.NewReader(tc.body), Sink{Reading: func(Reading) error { return nil }})
			if !errors.Is(err, errSyntax) {
				t.Errorf("ParseTimeSeries() error = %v, want a malformed-document error", err)
			}
		})
	}
}
