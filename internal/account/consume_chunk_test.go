package account

import (
	"slices"
	"testing"
	"time"

	"github.com/originhub/originhub/internal/ledger"
	"github.com/originhub/originhub/models"
)

func TestConsumeChunks(t *testing.T) {
	h := func(i int) time.Time {
		return time.Date(2036, 7, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Hour)
	}
	tests := []struct {
		name           string
		counts         []int
		maxHours, ggos int
		want           []int // hours per chunk
	}{
		{"none", nil, 3, 10, nil},
		{"one chunk", []int{2, 2}, 3, 10, []int{2}},
		{"hour bound", []int{1, 1, 1, 1, 1, 1, 1}, 3, 10, []int{3, 3, 1}},
		{"ggo bound", []int{4, 4, 4, 4}, 10, 10, []int{2, 2}},
		{"exactly full", []int{5, 5, 5}, 10, 10, []int{2, 1}},
		{"an hour over the bound is alone", []int{1, 30, 1}, 10, 10, []int{1, 1, 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hours := make([]time.Time, len(tc.counts))
			for i := range hours {
				hours[i] = h(i)
			}
			chunks := consumeChunks(hours, tc.counts, tc.maxHours, tc.ggos)
			var got []int
			var all []time.Time
			for _, c := range chunks {
				got = append(got, len(c))
				all = append(all, c...)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("chunk sizes = %v, want %v", got, tc.want)
			}
			if !slices.Equal(all, hours) {
				t.Errorf("chunks cover %v, want every hour once, in order", all)
			}
		})
	}
}

func TestHoursBefore(t *testing.T) {
	h := func(i int) time.Time {
		return time.Date(2036, 7, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Hour)
	}
	hours := []time.Time{h(0), h(2), h(3)}
	for _, tc := range []struct{ at, want int }{{-1, 0}, {0, 0}, {1, 1}, {2, 1}, {3, 2}, {4, 3}} {
		if got := hoursBefore(hours, h(tc.at)); got != tc.want {
			t.Errorf("hoursBefore(hour %d) = %d, want %d", tc.at, got, tc.want)
		}
	}
}

// TestOwnKey checks that the builder's key cache derives what DerivePath derives, cold
// and warm, and passes on what it cannot derive itself.
func TestOwnKey(t *testing.T) {
	master, err := ledger.NewMasterKey([]byte("originhub own key test seed 0123"))
	if err != nil {
		t.Fatal(err)
	}
	b := &builder{master: master}
	for range 2 {
		for _, path := range []string{"m/1/7/1782856800", "m/1/7/1782860400", "m/0/12", "m/1/7", "m", "m/0"} {
			want, err := master.DerivePath(path)
			if err != nil {
				t.Fatal(err)
			}
			got, err := b.ownKey(path)
			if err != nil || got.PublicKeyHex() != want.PublicKeyHex() {
				t.Errorf("ownKey(%q) = %v, %v; want the key of DerivePath", path, got, err)
			}
		}
	}
	for _, path := range []string{"", "x/1", "m/2147483648", "m/1/a"} {
		if _, err := b.ownKey(path); err == nil {
			t.Errorf("ownKey(%q) = nil error, want DerivePath's", path)
		}
	}
}

func TestFitBatch(t *testing.T) {
	h := func(i int) time.Time {
		return time.Date(2036, 7, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Hour)
	}
	hours := []time.Time{h(0), h(1), h(2), h(3)}
	tests := []struct {
		name      string
		ggoHours  []int // the hour of each loaded GGO (at most limit+1 are loaded)
		limit     int
		wantGgos  int
		wantHours int
		wantCut   bool
	}{
		{"none", nil, 3, 0, 4, false},
		{"all fit", []int{0, 1, 1}, 3, 3, 4, false},
		{"the last hour does not fit", []int{0, 1, 2, 2}, 3, 2, 2, false},
		{"the extra GGO starts an hour", []int{0, 1, 1, 3}, 3, 3, 3, false},
		{"the first hour alone is too much: cut, the hours before it done", []int{1, 1, 1, 1}, 3, 3, 1, true},
		{"the first hour is too much for one GGO", []int{0, 0}, 1, 1, 0, true},
		{"hours without GGOs before the cut count as done", []int{1, 3}, 1, 1, 3, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ggos := make([]models.Ggo, len(tc.ggoHours))
			for i, x := range tc.ggoHours {
				ggos[i] = models.Ggo{ID: int64(i + 1), BeginAt: h(x)}
			}
			got, done, cut := fitBatch(ggos, hours, tc.limit)
			if len(got) != tc.wantGgos || done != tc.wantHours || cut != tc.wantCut {
				t.Errorf("fitBatch = %d GGOs, %d hours done, cut %v; want %d, %d, %v", len(got), done, cut, tc.wantGgos, tc.wantHours, tc.wantCut)
			}
		})
	}
}
