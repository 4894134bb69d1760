package outbox

import (
	"testing"
	"time"
)

func TestBackoffDelay(t *testing.T) {
	b := Backoff{First: 200 * time.Millisecond, Max: time.Second}.withDefaults()
	tests := []struct {
		round int
		want  time.Duration
	}{
		{0, 200 * time.Millisecond},
		{1, 100 * time.Millisecond},
		{2, 150 * time.Millisecond},
		{3, 225 * time.Millisecond},
		{6, 759375 * time.Microsecond},
		{7, time.Second}, // 1139 ms capped
		{50, time.Second},
	}
	for _, tc := range tests {
		if got := b.delay(tc.round); got != tc.want {
			t.Errorf("delay(%d) = %s, want %s", tc.round, got, tc.want)
		}
	}
	if d := (Backoff{}).withDefaults(); d.First != 250*time.Millisecond || d.Lease != 30*time.Second || d.ResubmitAfter != 10*time.Second {
		t.Errorf("defaults = %+v", d)
	}
}
