package download

import (
	"bytes"
	"encoding/csv"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/originhub/originhub/internal/disclosure"
)

func ptr(s string) *string { return &s }

// parseKWh reads "1.234" back as 1234 Wh exactly.
func parseKWh(t *testing.T, s string) int64 {
	t.Helper()
	whole, frac, ok := strings.Cut(s, ".")
	if !ok || len(frac) != 3 {
		t.Fatalf("kWh %q does not have 3 decimals", s)
	}
	v, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestWriteDisclosureCSVParsesBack(t *testing.T) {
	h0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	buckets := []disclosure.Bucket{
		{Begin: h0, ConsumedWh: 1234, RetiredWh: 1000, MatchedWh: 1000, Covered: ptr("0.810373"), Uncovered: ptr("0.189627"),
			Technologies: []disclosure.TechAmount{{Technology: "Solar", Wh: 250, Share: "0.250000"}, {Technology: "Wind", Wh: 750, Share: "0.750000"}}},
		{Begin: h0.Add(time.Hour), ConsumedWh: 9_007_199_254_740_991, Covered: ptr("0.000000"), Uncovered: ptr("1.000000")},
	}
	tests := []struct {
		name      string
		public    disclosure.Public
		wantHead  string
		wantWh    [][3]int64 // consumed, retired, matched per row; nil when share-only
		wantShare []string   // covered share per row
	}{
		{
			name:     "amounts",
			public:   disclosure.Public{Series: []disclosure.Series{{GSRN: ptr("571313000000000001"), Buckets: buckets}}},
			wantHead: "series,gsrn,address,begin_utc,covered_share,uncovered_share,consumed_kwh,retired_kwh,matched_kwh,share:Solar,share:Wind,kwh:Solar,kwh:Wind",
			wantWh:   [][3]int64{{1234, 1000, 1000}, {9_007_199_254_740_991, 0, 0}}, wantShare: []string{"0.810373", "0.000000"},
		},
		{
			name:     "share only",
			public:   disclosure.Public{ShareOnly: true, Series: []disclosure.Series{{Buckets: buckets}}},
			wantHead: "series,gsrn,address,begin_utc,covered_share,uncovered_share,share:Solar,share:Wind", wantShare: []string{"0.810373", "0.000000"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteDisclosureCSV(&buf, tc.public); err != nil {
				t.Fatal(err)
			}
			recs, err := csv.NewReader(&buf).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(recs[0], ","); got != tc.wantHead {
				t.Fatalf("header = %s, want %s", got, tc.wantHead)
			}
			if len(recs) != 3 {
				t.Fatalf("%d records, want 3", len(recs))
			}
			for i, rec := range recs[1:] {
				if rec[4] != tc.wantShare[i] {
					t.Errorf("row %d covered = %s, want %s", i, rec[4], tc.wantShare[i])
				}
				if tc.wantWh == nil {
					continue
				}
				got := [3]int64{parseKWh(t, rec[6]), parseKWh(t, rec[7]), parseKWh(t, rec[8])}
				if got != tc.wantWh[i] {
					t.Errorf("row %d amounts = %v, want %v", i, got, tc.wantWh[i])
				}
			}
			if tc.wantWh != nil {
				if rec := recs[1]; rec[1] != "571313000000000001" || rec[9] != "0.250000" || parseKWh(t, rec[11]) != 250 || parseKWh(t, rec[12]) != 750 {
					t.Errorf("row 0 = %v", rec)
				}
			}
		})
	}
}
