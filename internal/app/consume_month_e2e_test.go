package app_test

import (
	"sync"
	"testing"
	"time"

	"github.com/originhub/originhub/internal/agreement"
	"github.com/originhub/originhub/internal/testkit"
	"github.com/originhub/originhub/models"
)

// monthHours is July: 31 Copenhagen days of 24 hours (CEST, UTC+2, the whole month).
const monthHours = 31 * 24

// daily repeats one day of four six-hour classes (local 00-05 night, 06-11 morning,
// 12-17 day, 18-23 evening) over the month.
func daily(night, morning, day, evening int64) []int64 {
	out := make([]int64, monthHours)
	for h := range out {
		out[h] = []int64{night, morning, day, evening}[h%24/6]
	}
	return out
}

// monthKey is what moved to a target (a retire point, an agreement, or alice's own
// holding) on a Copenhagen day (1-31) in a class (0-3).
type monthKey struct {
	target     string
	day, class int
}

// TestConsumeHandComputedMonth routes a whole month and checks every total by hand.
//
// The month is July 2036 in Copenhagen: 2036-06-30T22:00Z to 2036-07-31T22:00Z, 744
// hours. July has no DST change, so every local day is 24 hours and the agreement dates
// (Copenhagen dates) begin at 22:00 UTC the day before.
//
// Alice produces at W1 (wind), S (solar) and W2 (wind, another facility), all DK1, issued
// in that order, so within an hour W1 is routed first and W2 last. She consumes at c1
// (retiring priority 0, DK1), c2 (1, DK1) and c3 (2, DK2: never matches a DK1 GGO). Carol
// consumes at K (her priority 0). Agreements by transfer priority:
//
//	A1 to bob, 300 Wh per hour, Solar only, July 1-31, cancelled by bob at local 12:00 on July 16
//	A2 to bob, 50 % of the supply of facility W1, July 1-31
//	A3 to carol, limit-to-consumption (K less what carol already holds or retired), July 1-31
//	A4 to bob, 1 kWh per hour, July 11-20 only
//	D  to bob, 100 Wh per hour: declined; P from alice to bob, 100 Wh: never answered
//
// Per hour (Wh):
//
//	class        W1    S     W2   c1    c2    c3   K
//	N 00-05      1000  0     0    200   100   500  100
//	M 06-11      1000  600   400  800   700   500  500
//	D 12-17      1400  3000  800  500   500   500  200
//	E 18-23      600   0     900  1000  1000  500  1000
//
// N: W1 1000 → c1 200, c2 100; A1 skips (Wind); A2 min(700, 50 % × 1000) = 500; A3 100
// (K); A4 100 while active. Alice keeps 0 with A4, 100 without.
// M: W1 1000 → c1 800, c2 200. S 600 → c2 500; A1 100 (cap 300); without A1, A2 skips
// (not W1) and A3 takes 100. W2 400 → A1 skips (Wind, 200 of its cap left), A2 skips
// (not W1, 500 left), A3 400. So A1 100 + A3 400, or A3 500 once A1 is cancelled; A4
// finds nothing; alice keeps 0.
// D: W1 1400 → c1 500, c2 500, A2 400 (cap 700). S 3000 → A1 300 (cap), A2 skips (not
// W1), A3 200 (K), A4 1000 (cap), the rest stays. W2 800 stays (A1 Wind, A2 not W1, A3
// and A4 full). Alice keeps 1500+800 = 2300 with A1 and A4, 2500+800 = 3300 with A1 only,
// 1800+800 = 2600 with A4 only, 2800+800 = 3600 with neither.
// E: W1 600 → c1 600 (whole GGO, no split). W2 900 → c1 400, c2 500. Nothing transferred.
//
// Per day (× 6 hours per class): c1 1200+4800+3000+6000 = 15000; c2 600+4200+3000+3000 =
// 10800; A1 600+1800 = 2400 (July 16: morning only, 600); A2 3000+2400 = 5400; A3 with
// A1 600+2400+1200 = 4200, without 600+3000+1200 = 4800 (July 16's morning still had A1:
// 4200); A4 600+6000 = 6600 on July 11-20. Alice keeps 600+19800 = 20400 on July 1-10,
// 13800 on 11-15, 15600 on 16-20 (day class without A1, with A4), 600+21600 = 22200 on
// 21-31. Each day adds up to the 58200 produced (W1 24000, S 21600, W2 12600).
//
// Per class over the month (186 hours each; A1's morning on 16 days, its day on 15;
// A4's 10 days): c1 37200/148800/93000/186000; c2 18600/130200/93000/93000; A1
// 0/9600/27000/0; A2 93000/0/74400/0; A3 18600/(400×96 + 500×90 = 83400)/37200/0; A4
// 6000/0/60000/0; alice keeps 100×126 = 12600 at night and 3300×60 + 2300×30 + 2600×30 +
// 3600×66 = 582600 by day.
func TestConsumeHandComputedMonth(t *testing.T) {
	start := time.Now()
	w := newConsumeWorld(t, series{
		begin: time.Date(2036, 6, 30, 22, 0, 0, 0, time.UTC),
		wind:  daily(1000, 1000, 1400, 600),
		solar: daily(0, 600, 3000, 0),
		wind2: daily(0, 400, 800, 900),
		cons1: daily(200, 800, 500, 1000),
		cons2: daily(100, 700, 500, 1000),
		cons3: daily(500, 500, 500, 500),
		carol: daily(100, 500, 200, 1000),
	})
	t.Logf("world of %d hours built in %s", monthHours, time.Since(start).Round(time.Millisecond))
	ctx, db, acc := t.Context(), w.p.app.DB, w.p.app.Account
	if err := w.facilities.SetRetiringPriority(ctx, w.alice.ID, []int64{w.cons1, w.cons2, w.cons3}); err != nil {
		t.Fatal(err)
	}
	if err := w.facilities.SetRetiringPriority(ctx, w.carol.ID, []int64{w.carolCons}); err != nil {
		t.Fatal(err)
	}
	july := func(d int) time.Time { return time.Date(2036, 7, d, 0, 0, 0, 0, time.UTC) }
	wh, kwh := models.UnitWh, models.UnitKWh
	a300, a1k, a100, pct := int64(300), int64(1), int64(100), 50
	a1 := w.accept(t, w.alice, w.bob, agreement.ProposeInput{Reference: "A1", Amount: &a300, Unit: &wh, Technologies: []string{"Solar"}, DateFrom: july(1), DateTo: july(31)})
	a2 := w.accept(t, w.alice, w.bob, agreement.ProposeInput{Reference: "A2", AmountPercent: &pct, FacilityGSRNs: []string{w.windGSRN}, DateFrom: july(1), DateTo: july(31)})
	a3 := w.accept(t, w.alice, w.carol, agreement.ProposeInput{Reference: "A3", LimitToConsumption: true, DateFrom: july(1), DateTo: july(31)})
	a4 := w.accept(t, w.alice, w.bob, agreement.ProposeInput{Reference: "A4", Amount: &a1k, Unit: &kwh, DateFrom: july(11), DateTo: july(20)})
	d, err := w.agreements.Propose(ctx, w.alice.ID, agreement.ProposeInput{Direction: agreement.Outbound, CounterpartID: w.bob.ID, Reference: "D",
		Amount: &a100, Unit: &wh, DateFrom: july(1), DateTo: july(31)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.agreements.Respond(ctx, w.bob.ID, d.ID, agreement.RespondInput{Accept: false}); err != nil {
		t.Fatal(err)
	}
	pending, err := w.agreements.Propose(ctx, w.alice.ID, agreement.ProposeInput{Direction: agreement.Outbound, CounterpartID: w.bob.ID, Reference: "P",
		Amount: &a100, Unit: &wh, DateFrom: july(1), DateTo: july(31)})
	if err != nil {
		t.Fatal(err)
	}
	names := map[int64]string{a1.ID: "A1", a2.ID: "A2", a3.ID: "A3", a4.ID: "A4", d.ID: "D", pending.ID: "P"}
	points := map[int64]string{w.cons1: "c1", w.cons2: "c2", w.cons3: "c3"}

	// July 1 by four racing triggers, two going forward and two backward through the day:
	// each hour moves exactly once.
	start = time.Now()
	var mu sync.Mutex
	moved := make([]int, 24)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 24 {
				h := i
				if g%2 == 1 {
					h = 23 - i
				}
				ops, err := acc.ConsumeHour(ctx, w.alice.ID, w.hour(h))
				if err != nil {
					t.Errorf("racing ConsumeHour(hour %d) = %v", h, err)
					return
				}
				if len(ops) > 0 {
					mu.Lock()
					moved[h]++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	for h, n := range moved {
		if n != 1 {
			t.Errorf("hour %d moved by %d of 4 racing runs, want 1", h, n)
		}
	}
	w.checkLimits(t, names, points, a1.ID, a2.ID, a3.ID, a4.ID)
	t.Logf("4 racing runs over 24 hours in %s", time.Since(start).Round(time.Millisecond))

	// Up to local 12:00 on July 16 (hour 372), then bob cancels A1, then the rest.
	start = time.Now()
	ops, err := acc.ConsumePeriod(ctx, w.alice.ID, w.hour(0), w.hour(372))
	if err != nil || len(ops) != 372-24 {
		t.Fatalf("ConsumePeriod(July 1 - 16 12:00) = %d operations (%v), want %d (July 1 is done)", len(ops), err, 372-24)
	}
	w.settle(t)
	if _, err := w.agreements.Cancel(ctx, w.bob.ID, a1.ID); err != nil {
		t.Fatal(err)
	}
	if ops, err = acc.ConsumePeriod(ctx, w.alice.ID, w.hour(372), w.hour(monthHours)); err != nil || len(ops) != monthHours-372 {
		t.Fatalf("ConsumePeriod(July 16 12:00 - 31) = %d operations (%v), want %d", len(ops), err, monthHours-372)
	}
	w.settle(t)
	t.Logf("month consumed in %s", time.Since(start).Round(time.Millisecond))
	if n := w.checkParts(t); n < monthHours {
		t.Fatalf("consumption made %d parts in a month", n)
	}

	wantDaily := map[string][]struct {
		from, to int
		wh       int64
	}{
		"c1":    {{1, 31, 15000}},
		"c2":    {{1, 31, 10800}},
		"A1":    {{1, 15, 2400}, {16, 16, 600}},
		"A2":    {{1, 31, 5400}},
		"A3":    {{1, 16, 4200}, {17, 31, 4800}},
		"A4":    {{11, 20, 6600}},
		"alice": {{1, 10, 20400}, {11, 15, 13800}, {16, 20, 15600}, {21, 31, 22200}},
	}
	wantByClass := map[string][4]int64{
		"c1":    {37200, 148800, 93000, 186000},
		"c2":    {18600, 130200, 93000, 93000},
		"A1":    {0, 9600, 27000, 0},
		"A2":    {93000, 0, 74400, 0},
		"A3":    {18600, 83400, 37200, 0},
		"A4":    {6000, 0, 60000, 0},
		"alice": {12600, 0, 582600, 0},
	}
	wantMonth := map[string]int64{"c1": 465000, "c2": 334800, "A1": 36600, "A2": 167400, "A3": 139200, "A4": 66000, "alice": 595200}
	// The log records what moved, not what alice kept: without holdings it skips "alice".
	compare := func(t *testing.T, what string, got map[monthKey]int64, holdings bool) {
		t.Helper()
		days, classes, month := map[[2]any]int64{}, map[[2]any]int64{}, map[string]int64{}
		for k, v := range got {
			days[[2]any{k.target, k.day}] += v
			classes[[2]any{k.target, k.class}] += v
			month[k.target] += v
		}
		for target, spans := range wantDaily {
			if target == "alice" && !holdings {
				continue
			}
			for day := 1; day <= 31; day++ {
				var want int64
				for _, s := range spans {
					if day >= s.from && day <= s.to {
						want = s.wh
					}
				}
				if g := days[[2]any{target, day}]; g != want {
					t.Errorf("%s: %s on July %d = %d Wh, want %d", what, target, day, g, want)
				}
			}
		}
		for target, want := range wantByClass {
			if target == "alice" && !holdings {
				continue
			}
			for c, v := range want {
				if g := classes[[2]any{target, c}]; g != v {
					t.Errorf("%s: %s in class %d = %d Wh, want %d", what, target, c, g, v)
				}
			}
		}
		for target, v := range month {
			if _, ok := wantMonth[target]; !ok && v != 0 {
				t.Errorf("%s: %s = %d Wh, want nothing", what, target, v)
			}
		}
		for target, want := range wantMonth {
			if target == "alice" && !holdings {
				continue
			}
			if month[target] != want {
				t.Errorf("%s: %s over the month = %d Wh, want %d", what, target, month[target], want)
			}
		}
	}
	check := func(t *testing.T) {
		t.Helper()
		compare(t, "ggos", w.monthRoutes(t, names, points), true)
		compare(t, "consumption log", w.monthLog(t, names, points), false)
		w.checkLimits(t, names, points, a1.ID, a2.ID, a3.ID, a4.ID)
		// Every consumption is one COMMITTED operation whose batch the stand-in committed.
		var n, bad int
		if err := db.NewRaw(`SELECT count(*), count(*) FILTER (WHERE op.state <> 'COMMITTED' OR b.status IS DISTINCT FROM 'COMMITTED')
			FROM ggo_operations op LEFT JOIN standin.batches b ON b.id = op.batch_id
			WHERE op.user_id = ? AND op.kind = 'CONSUME'`, w.alice.ID).Scan(ctx, &n, &bad); err != nil {
			t.Fatal(err)
		}
		if n != monthHours || bad != 0 {
			t.Errorf("alice has %d consume operations, %d of them not committed on the ledger; want %d, 0", n, bad, monthHours)
		}
	}
	check(t)
	// Carol's receive trigger retires all she received under A3 to K; bob, who consumes
	// nothing, keeps A1 + A2 + A4.
	var carolRetired, bobHolds int64
	if err := db.NewRaw("SELECT coalesce(sum(amount_wh), 0)::bigint FROM ggos WHERE user_id = ? AND state = 'STORED'", w.bob.ID).Scan(ctx, &bobHolds); err != nil {
		t.Fatal(err)
	}
	if bobHolds != 36600+167400+66000 {
		t.Errorf("bob holds %d Wh, want %d", bobHolds, 36600+167400+66000)
	}
	testkit.Eventually(t, 60*time.Second, func() bool {
		err := db.NewRaw("SELECT coalesce(sum(amount_wh), 0)::bigint FROM ggos WHERE retire_metering_point_id = ? AND state = 'RETIRED'", w.carolCons).Scan(ctx, &carolRetired)
		return err == nil && carolRetired == 139200
	}, "carol's 139200 Wh to be retired to K")

	// Re-running the whole month makes no operation and changes nothing.
	var rows, batches [2]int
	count := func(i int) {
		if err := db.NewRaw("SELECT (SELECT count(*) FROM ggos), (SELECT count(*) FROM ledger_batches)").Scan(ctx, &rows[i], &batches[i]); err != nil {
			t.Fatal(err)
		}
	}
	count(0)
	start = time.Now()
	if again, err := acc.ConsumePeriod(ctx, w.alice.ID, w.hour(0), w.hour(monthHours)); err != nil || len(again) != 0 {
		t.Fatalf("re-run ConsumePeriod = %d operations (%v), want none", len(again), err)
	}
	t.Logf("re-run of the month in %s", time.Since(start).Round(time.Millisecond))
	w.settle(t)
	count(1)
	if rows[0] != rows[1] || batches[0] != batches[1] {
		t.Errorf("re-run changed GGO rows %d → %d and ledger batches %d → %d", rows[0], rows[1], batches[0], batches[1])
	}
	check(t)
}

// monthRoutes sums, per target, Copenhagen day and class, what was retired to alice's
// consumption points, transferred from alice under agreements, and what alice still holds.
func (w *consumeWorld) monthRoutes(t *testing.T, agreements, points map[int64]string) map[monthKey]int64 {
	t.Helper()
	return w.monthSums(t, agreements, points, `
		SELECT 'mp' AS kind, retire_metering_point_id AS id, begin_at, amount_wh FROM ggos
		WHERE retire_metering_point_id IN (?1, ?2, ?3) AND state = 'RETIRED'
		UNION ALL
		SELECT 'ag', agreement_id, begin_at, amount_wh FROM ggos WHERE agreement_id IS NOT NULL AND received_from_user_id = ?0
		UNION ALL
		SELECT 'own', 0, begin_at, amount_wh FROM ggos WHERE user_id = ?0 AND state = 'STORED'`)
}

// monthLog is monthRoutes from alice's consumption log (no holdings there).
func (w *consumeWorld) monthLog(t *testing.T, agreements, points map[int64]string) map[monthKey]int64 {
	t.Helper()
	return w.monthSums(t, agreements, points, `
		SELECT CASE WHEN rule = 'RETIRE' THEN 'mp' ELSE 'ag' END AS kind, coalesce(metering_point_id, agreement_id) AS id, begin_at, amount_wh
		FROM consumption_entries WHERE user_id = ?0`)
}

func (w *consumeWorld) monthSums(t *testing.T, agreements, points map[int64]string, rows string) map[monthKey]int64 {
	t.Helper()
	var rs []struct {
		Kind  string `bun:"kind"`
		ID    int64  `bun:"id"`
		Day   int    `bun:"day"`
		Class int    `bun:"class"`
		Wh    int64  `bun:"wh"`
	}
	if err := w.p.app.DB.NewRaw(`
		SELECT kind, id, extract(day FROM begin_at AT TIME ZONE 'Europe/Copenhagen')::int AS day,
		       extract(hour FROM begin_at AT TIME ZONE 'Europe/Copenhagen')::int / 6 AS class, sum(amount_wh)::bigint AS wh
		FROM (`+rows+`) r GROUP BY 1, 2, 3, 4`, w.alice.ID, w.cons1, w.cons2, w.cons3).Scan(t.Context(), &rs); err != nil {
		t.Fatal(err)
	}
	out := map[monthKey]int64{}
	for _, r := range rs {
		name := "alice"
		switch r.Kind {
		case "mp":
			name = points[r.ID]
		case "ag":
			name = agreements[r.ID]
		}
		if name == "" {
			t.Errorf("%s %d received %d Wh: not a target of this test", r.Kind, r.ID, r.Wh)
			continue
		}
		out[monthKey{name, r.Day, r.Class}] += r.Wh
	}
	return out
}

// checkLimits finds any hour where a consumption point got more retired than it consumed,
// or an agreement more than its cap: 300 Wh (A1), half of W1's production (A2), K's
// consumption (A3), 1000 Wh (A4), nothing (any other). Pending and locked parts count:
// they are on their way.
func (w *consumeWorld) checkLimits(t *testing.T, agreements, points map[int64]string, a1, a2, a3, a4 int64) {
	t.Helper()
	var over []struct {
		Kind    string    `bun:"kind"`
		ID      int64     `bun:"id"`
		BeginAt time.Time `bun:"begin_at"`
		Wh      int64     `bun:"wh"`
	}
	if err := w.p.app.DB.NewRaw(`
		SELECT 'mp' AS kind, r.mp AS id, r.begin_at, r.wh
		FROM (SELECT retire_metering_point_id AS mp, begin_at, sum(amount_wh)::bigint AS wh FROM ggos
		      WHERE retire_metering_point_id IN (?, ?, ?, ?) AND state IN ('PENDING', 'LOCKED', 'RETIRED') GROUP BY 1, 2) r
		LEFT JOIN measurements m ON m.metering_point_id = r.mp AND m.begin_at = r.begin_at
		WHERE r.wh > coalesce(m.amount_wh, 0)
		UNION ALL
		SELECT 'ag', a.agreement_id, a.begin_at, a.wh
		FROM (SELECT agreement_id, begin_at, sum(amount_wh)::bigint AS wh FROM ggos
		      WHERE agreement_id IS NOT NULL AND received_from_user_id = ? GROUP BY 1, 2) a
		LEFT JOIN measurements w1 ON w1.metering_point_id = ? AND w1.begin_at = a.begin_at
		LEFT JOIN measurements k ON k.metering_point_id = ? AND k.begin_at = a.begin_at
		WHERE CASE a.agreement_id WHEN ? THEN a.wh > 300 WHEN ? THEN 2 * a.wh > coalesce(w1.amount_wh, 0)
		      WHEN ? THEN a.wh > coalesce(k.amount_wh, 0) WHEN ? THEN a.wh > 1000 ELSE true END
		ORDER BY 3, 1, 2 LIMIT 10`,
		w.cons1, w.cons2, w.cons3, w.carolCons, w.alice.ID, w.wind, w.carolCons, a1, a2, a3, a4).Scan(t.Context(), &over); err != nil {
		t.Fatal(err)
	}
	for _, o := range over {
		name := agreements[o.ID]
		if o.Kind == "mp" {
			name = points[o.ID]
			if o.ID == w.carolCons {
				name = "K"
			}
		}
		t.Errorf("%s got %d Wh at %s: over its limit", name, o.Wh, o.BeginAt.UTC().Format(time.RFC3339))
	}
}
