package gqltypes_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/originhub/originhub/internal/gqltypes"
)

func TestDateRoundTrip(t *testing.T) {
	tests := []struct {
		name    string
		in      any
		want    string // marshalled; "" when unmarshalling must fail
		wantDay time.Time
	}{
		{"day", "2027-03-01", `"2027-03-01"`, time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)},
		{"leap day", "2028-02-29", `"2028-02-29"`, time.Date(2028, 2, 29, 0, 0, 0, 0, time.UTC)},
		{"no such day", "2027-02-29", "", time.Time{}},
		{"instant", "2027-03-01T00:00:00Z", "", time.Time{}},
		{"number", 20270301, "", time.Time{}},
		{"empty", "", "", time.Time{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := gqltypes.UnmarshalDate(t.Context(), tc.in)
			if tc.want == "" {
				if err == nil {
					t.Fatalf("UnmarshalDate(%v) = %v, want an error", tc.in, got)
				}
				return
			}
			if err != nil || !got.Equal(tc.wantDay) {
				t.Fatalf("UnmarshalDate(%v) = %v, %v, want %v", tc.in, got, err, tc.wantDay)
			}
			var buf bytes.Buffer
			if err := gqltypes.MarshalDate(got).MarshalGQLContext(t.Context(), &buf); err != nil || buf.String() != tc.want {
				t.Fatalf("MarshalDate() = %s, %v, want %s", buf.String(), err, tc.want)
			}
		})
	}
}
