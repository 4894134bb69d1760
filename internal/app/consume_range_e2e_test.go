package app_test

import (
	"sync"
	"testing"
	"time"

	"github.com/originhub/originhub/internal/account"
	"github.com/originhub/originhub/internal/agreement"
	"github.com/originhub/originhub/models"
)

// TestConsumeRacingRanges consumes the first three days of the hand-computed July
// (TestConsumeHandComputedMonth, without A4) by overlapping period runs and single-hour
// runs all at once: ranges lock their hours in ascending order, so they queue behind each
// other and behind single hours instead of deadlocking, every hour moves exactly once, and
// the totals are the hand-computed ones.
func TestConsumeRacingRanges(t *testing.T) {
	const hours = 72
	w := julyWorld(t, hours)
	ctx, acc := t.Context(), w.p.app.Account
	if err := w.facilities.SetRetiringPriority(ctx, w.carol.ID, []int64{w.carolCons}); err != nil {
		t.Fatal(err)
	}
	july := func(d int) time.Time { return time.Date(2036, 7, d, 0, 0, 0, 0, time.UTC) }
	wh, a300, pct := models.UnitWh, int64(300), 50
	a1 := w.accept(t, w.alice, w.bob, agreement.ProposeInput{Reference: "A1", Amount: &a300, Unit: &wh, Technologies: []string{"Solar"}, DateFrom: july(1), DateTo: july(31)})
	a2 := w.accept(t, w.alice, w.bob, agreement.ProposeInput{Reference: "A2", AmountPercent: &pct, FacilityGSRNs: []string{w.windGSRN}, DateFrom: july(1), DateTo: july(31)})
	a3 := w.accept(t, w.alice, w.carol, agreement.ProposeInput{Reference: "A3", LimitToConsumption: true, DateFrom: july(1), DateTo: july(31)})
	names := map[int64]string{a1.ID: "A1", a2.ID: "A2", a3.ID: "A3"}
	points := map[int64]string{w.cons1: "c1", w.cons2: "c2", w.cons3: "c3"}

	var mu sync.Mutex
	moved := make([]int, hours)
	count := func(ops ...models.GgoOperation) {
		mu.Lock()
		defer mu.Unlock()
		for _, op := range ops {
			var hs []time.Time
			if err := w.p.app.DB.NewRaw("SELECT DISTINCT begin_at FROM consumption_entries WHERE operation_id = ?", op.ID).Scan(ctx, &hs); err != nil || len(hs) != 1 {
				t.Errorf("operation %d covers hours %v (%v), want one", op.ID, hs, err)
				continue
			}
			moved[int(hs[0].Sub(w.begin)/time.Hour)]++
		}
	}
	var wg sync.WaitGroup
	for _, span := range [][2]int{{0, hours}, {0, hours}, {24, hours}, {0, 48}, {40, 50}} {
		wg.Go(func() {
			ops, err := acc.ConsumePeriod(ctx, w.alice.ID, w.hour(span[0]), w.hour(span[1]))
			if err != nil {
				t.Errorf("racing ConsumePeriod(hours %d-%d) = %v", span[0], span[1], err)
			}
			count(ops...)
		})
	}
	for g := range 2 {
		wg.Go(func() {
			for i := range 24 {
				h := 30 + i
				if g == 1 {
					h = 53 - i
				}
				ops, err := acc.ConsumeHour(ctx, w.alice.ID, w.hour(h))
				if err != nil {
					t.Errorf("racing ConsumeHour(hour %d) = %v", h, err)
				}
				for _, op := range ops {
					count(op)
				}
			}
		})
	}
	wg.Wait()
	for h, n := range moved {
		if n != 1 {
			t.Errorf("hour %d moved by %d racing runs, want 1", h, n)
		}
	}
	w.checkLimits(t, names, points, a1.ID, a2.ID, a3.ID, 0)
	w.settle(t)

	// Per Copenhagen day (July 1-3), from TestConsumeHandComputedMonth.
	want := map[string]int64{"c1": 15000, "c2": 10800, "A1": 2400, "A2": 5400, "A3": 4200, "alice": 20400}
	for what, got := range map[string]map[monthKey]int64{"ggos": w.monthRoutes(t, names, points), "consumption log": w.monthLog(t, names, points)} {
		days := map[string]map[int]int64{}
		for k, v := range got {
			if days[k.target] == nil {
				days[k.target] = map[int]int64{}
			}
			days[k.target][k.day] += v
		}
		for target, wh := range want {
			if target == "alice" && what == "consumption log" {
				continue // the log records what moved, not what alice kept
			}
			for day := 1; day <= 3; day++ {
				if g := days[target][day]; g != wh {
					t.Errorf("%s: %s on July %d = %d Wh, want %d", what, target, day, g, wh)
				}
			}
		}
		for target := range days {
			if _, ok := want[target]; !ok {
				t.Errorf("%s: %s received %v, want nothing", what, target, days[target])
			}
		}
	}
	if again, err := acc.ConsumePeriod(ctx, w.alice.ID, w.hour(0), w.hour(hours)); err != nil || len(again) != 0 {
		t.Fatalf("re-run ConsumePeriod = %d operations (%v), want none", len(again), err)
	}
}

// TestConsumeRacesRetire has alice retire by hand to her first consumption point while
// automatic consumption runs over the same hours, by period and by hour: whoever comes
// second sees what the first retired, so no hour of a point gets more retired than it
// consumed, and the first point gets exactly what it consumed.
func TestConsumeRacesRetire(t *testing.T) {
	const hours = 24
	w := julyWorld(t, hours)
	ctx, acc := t.Context(), w.p.app.Account
	var gsrn string
	if err := w.p.app.DB.NewRaw("SELECT gsrn FROM metering_points WHERE id = ?", w.cons1).Scan(ctx, &gsrn); err != nil {
		t.Fatal(err)
	}
	points := map[int64]string{w.cons1: "c1", w.cons2: "c2", w.cons3: "c3"}
	// Each hour by a retire and a consumption at once, then the rest of the day by period.
	var wg sync.WaitGroup
	for h := range hours - 4 {
		wg.Go(func() {
			// "Nothing to retire" is a fine answer when consumption came first.
			_, _ = acc.Retire(ctx, w.alice.ID, account.RetireInput{GSRN: gsrn, From: w.hour(h), Until: w.hour(h + 1)})
		})
		wg.Go(func() {
			if _, err := acc.ConsumeHour(ctx, w.alice.ID, w.hour(h)); err != nil {
				t.Errorf("racing ConsumeHour(hour %d) = %v", h, err)
			}
		})
		wg.Wait()
	}
	wg.Go(func() {
		_, _ = acc.Retire(ctx, w.alice.ID, account.RetireInput{GSRN: gsrn, From: w.hour(hours - 4), Until: w.hour(hours)})
	})
	wg.Go(func() {
		if _, err := acc.ConsumePeriod(ctx, w.alice.ID, w.hour(0), w.hour(hours)); err != nil {
			t.Errorf("racing ConsumePeriod = %v", err)
		}
	})
	wg.Wait()
	w.checkLimits(t, nil, points, 0, 0, 0, 0)
	w.settle(t)
	w.checkLimits(t, nil, points, 0, 0, 0, 0)
	// c1 comes first for both, and alice produces more than it consumes every hour: it got
	// exactly what it consumed. (c2 may get less: what a retire by hand splits off stays
	// pending while consumption runs.)
	retired, _ := w.routes(t)
	c1 := daily(200, 800, 500, 1000)
	for h := range hours {
		if got := retired[[2]int64{w.cons1, int64(h)}]; got != c1[h] {
			t.Errorf("c1: %d Wh retired at hour %d, want %d", got, h, c1[h])
		}
	}
}

// julyWorld is the July world's first hours (see TestConsumeHandComputedMonth), with
// alice's consumption points in priority order.
func julyWorld(t *testing.T, hours int) *consumeWorld {
	t.Helper()
	w := newConsumeWorld(t, series{
		begin: time.Date(2036, 6, 30, 22, 0, 0, 0, time.UTC),
		wind:  daily(1000, 1000, 1400, 600)[:hours],
		solar: daily(0, 600, 3000, 0)[:hours],
		wind2: daily(0, 400, 800, 900)[:hours],
		cons1: daily(200, 800, 500, 1000)[:hours],
		cons2: daily(100, 700, 500, 1000)[:hours],
		cons3: daily(500, 500, 500, 500)[:hours],
		carol: daily(100, 500, 200, 1000)[:hours],
	})
	if err := w.facilities.SetRetiringPriority(t.Context(), w.alice.ID, []int64{w.cons1, w.cons2, w.cons3}); err != nil {
		t.Fatal(err)
	}
	return w
}
