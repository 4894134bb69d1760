package app_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/uptrace/bun/dialect/pgdialect"

	"github.com/originhub/originhub/internal/account"
	"github.com/originhub/originhub/internal/agreement"
	"github.com/originhub/originhub/internal/app"
	"github.com/originhub/originhub/internal/facility"
	"github.com/originhub/originhub/internal/relay"
	"github.com/originhub/originhub/internal/testkit"
	"github.com/originhub/originhub/models"
	"github.com/originhub/originhub/tasks"
)

// consumeWorld: alice produces wind and solar (DK1) and consumes at three points; bob and
// carol receive under agreements; carol consumes. Every hour is published and committed.
type consumeWorld struct {
	p                   *platform
	alice, bob, carol   models.User
	wind, solar, wind2  int64 // alice's production points (wind2 only when the series has it)
	windGSRN            string
	cons1, cons2, cons3 int64 // alice's consumption points: DK1, DK1, DK2
	carolCons           int64
	begin               time.Time
	agreements          *agreement.Service
	facilities          *facility.Service
}

var consumeSeq = time.Now().UnixNano() % 1_000_000

// series are per-hour amounts (Wh) per metering point from begin (when zero, a day in
// 2027-2032 that differs between runs in one database).
type series struct {
	begin                                          time.Time
	wind, solar, wind2, cons1, cons2, cons3, carol []int64
}

func newConsumeWorld(t *testing.T, s series) *consumeWorld {
	t.Helper()
	cfg := testConfig(t, testkit.DatabaseURI(t), "LEDGER_COMMIT_DELAY", "20ms", "RATE_LIMIT_PER_MINUTE", "0")
	p := startRoles(t, cfg, app.Roles{API: true, Worker: true})
	ctx, db := t.Context(), p.app.DB
	w := &consumeWorld{p: p, agreements: agreement.NewService(db, p.app.Clock), facilities: facility.NewService(db)}
	var err error
	for _, u := range []*models.User{&w.alice, &w.bob, &w.carol} {
		if *u, err = p.app.Users.Ensure(ctx, testkit.Subject(t)); err != nil {
			t.Fatal(err)
		}
	}
	consumeSeq++
	hours := len(s.wind)
	w.begin = s.begin
	if w.begin.IsZero() {
		w.begin = time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(consumeSeq%2000) * 24 * time.Hour)
	}
	end := w.begin.Add(time.Duration(hours) * time.Hour)
	if _, err := db.ExecContext(ctx, "SELECT ensure_measurement_partitions(?, ?)", w.begin, end); err != nil {
		t.Fatal(err)
	}
	point := func(user int64, kind int, typ, sector, tech, fuel string) (int64, string) {
		gsrn := fmt.Sprintf("57%04d%06d%06d", 10+kind, consumeSeq, user%1_000_000)
		var id int64
		var tc, fc any
		if tech != "" {
			tc, fc = tech, fuel
		}
		if err := db.NewRaw("INSERT INTO metering_points (user_id, gsrn, type, sector, technology_code, fuel_code) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
			user, gsrn, typ, sector, tc, fc).Scan(ctx, &id); err != nil {
			t.Fatal(err)
		}
		return id, gsrn
	}
	w.wind, w.windGSRN = point(w.alice.ID, 1, "PRODUCTION", "DK1", "T020000", "F01050100")
	w.solar, _ = point(w.alice.ID, 2, "PRODUCTION", "DK1", "T010000", "F01040100")
	w.cons1, _ = point(w.alice.ID, 3, "CONSUMPTION", "DK1", "", "")
	w.cons2, _ = point(w.alice.ID, 4, "CONSUMPTION", "DK1", "", "")
	w.cons3, _ = point(w.alice.ID, 5, "CONSUMPTION", "DK2", "", "")
	w.carolCons, _ = point(w.carol.ID, 6, "CONSUMPTION", "DK1", "", "")
	type readings struct {
		mp     int64
		values []int64
	}
	measured := []readings{{w.cons1, s.cons1}, {w.cons2, s.cons2}, {w.cons3, s.cons3}, {w.carolCons, s.carol}, {w.wind, s.wind}, {w.solar, s.solar}}
	if s.wind2 != nil {
		w.wind2, _ = point(w.alice.ID, 7, "PRODUCTION", "DK1", "T020000", "F01050100")
		measured = append(measured, readings{w.wind2, s.wind2})
	}
	// Consumption first, then wind, solar, wind2: GGOs are routed in the order they were
	// issued (and expire), so within an hour wind goes first and wind2 last.
	for _, mv := range measured {
		if _, err := db.ExecContext(ctx, `INSERT INTO measurements (metering_point_id, begin_at, amount_wh)
			SELECT ?, ?::timestamptz + (t.i - 1) * interval '1 hour', t.v FROM unnest(?::bigint[]) WITH ORDINALITY AS t(v, i)`,
			mv.mp, w.begin, pgdialect.Array(mv.values)); err != nil {
			t.Fatal(err)
		}
		if _, err := p.app.Publisher.PublishMeasurements(ctx, mv.mp, w.begin, end); err != nil {
			t.Fatal(err)
		}
		w.settle(t)
	}
	return w
}

// settle waits until no ledger batch is open and no consumption task is queued or running.
func (w *consumeWorld) settle(t *testing.T) {
	t.Helper()
	rc := w.p.app.Config.Redis
	insp := asynq.NewInspector(asynq.RedisClientOpt{Addr: rc.Addr, Username: rc.Username, Password: rc.Password.Reveal(), DB: rc.BrokerDB})
	defer insp.Close()
	testkit.Eventually(t, 60*time.Second, func() bool {
		var open int
		err := w.p.app.DB.NewRaw("SELECT count(*) FROM ledger_batches WHERE status NOT IN ('COMMITTED', 'INVALID')").Scan(t.Context(), &open)
		if err != nil || open != 0 {
			return false
		}
		for _, list := range []func(string, ...asynq.ListOption) ([]*asynq.TaskInfo, error){insp.ListPendingTasks, insp.ListActiveTasks, insp.ListRetryTasks, insp.ListScheduledTasks} {
			ts, err := list(tasks.QueueDefault)
			if errors.Is(err, asynq.ErrQueueNotFound) {
				break // nothing was ever queued
			}
			if err != nil {
				return false
			}
			for _, ti := range ts {
				if ti.Type == tasks.TypeConsume {
					return false
				}
			}
		}
		return true
	}, "ledger batches and consumption tasks to settle")
}

func (w *consumeWorld) hour(h int) time.Time { return w.begin.Add(time.Duration(h) * time.Hour) }

// accept has from propose an outbound agreement to `to`, which accepts it. Without dates
// it runs from the day before begin to two days after.
func (w *consumeWorld) accept(t *testing.T, from, to models.User, in agreement.ProposeInput) models.Agreement {
	t.Helper()
	in.Direction, in.CounterpartID = agreement.Outbound, to.ID
	if in.DateFrom.IsZero() {
		in.DateFrom, in.DateTo = w.begin.AddDate(0, 0, -1), w.begin.AddDate(0, 0, 2)
	}
	a, err := w.agreements.Propose(t.Context(), from.ID, in)
	if err != nil {
		t.Fatalf("Propose(%s) = %v", in.Reference, err)
	}
	if a, err = w.agreements.Respond(t.Context(), to.ID, a.ID, agreement.RespondInput{Accept: true}); err != nil {
		t.Fatalf("Respond(%s) = %v", in.Reference, err)
	}
	return a
}

type routed struct {
	Key  int64 `bun:"key"`
	Hour int   `bun:"hour"`
	Wh   int64 `bun:"wh"`
}

// routes returns, per (retire point or agreement, hour), what was retired or transferred.
func (w *consumeWorld) routes(t *testing.T) (retired, transferred map[[2]int64]int64) {
	t.Helper()
	ctx := t.Context()
	var rs []routed
	if err := w.p.app.DB.NewRaw(`SELECT retire_metering_point_id AS key, (extract(epoch FROM begin_at - ?::timestamptz) / 3600)::int AS hour, sum(amount_wh)::bigint AS wh
		FROM ggos WHERE retire_metering_point_id IN (?, ?, ?) AND state = 'RETIRED' GROUP BY 1, 2`, w.begin, w.cons1, w.cons2, w.cons3).Scan(ctx, &rs); err != nil {
		t.Fatal(err)
	}
	retired = map[[2]int64]int64{}
	for _, r := range rs {
		retired[[2]int64{r.Key, int64(r.Hour)}] = r.Wh
	}
	rs = nil
	if err := w.p.app.DB.NewRaw(`SELECT agreement_id AS key, (extract(epoch FROM begin_at - ?::timestamptz) / 3600)::int AS hour, sum(amount_wh)::bigint AS wh
		FROM ggos WHERE agreement_id IS NOT NULL AND received_from_user_id = ? GROUP BY 1, 2`, w.begin, w.alice.ID).Scan(ctx, &rs); err != nil {
		t.Fatal(err)
	}
	transferred = map[[2]int64]int64{}
	for _, r := range rs {
		transferred[[2]int64{r.Key, int64(r.Hour)}] = r.Wh
	}
	return retired, transferred
}

// handComputedAgreements makes TestConsumeHandComputed's agreements, in transfer priority
// order: A1 to bob, 300 Wh per hour of Solar; A2 to bob, 50 % of the wind facility; A3 to
// carol, limit-to-consumption; and D to bob, declined. Carol retires to her point K.
func (w *consumeWorld) handComputedAgreements(t *testing.T) (a1, a2, a3 models.Agreement) {
	t.Helper()
	ctx := t.Context()
	if err := w.facilities.SetRetiringPriority(ctx, w.carol.ID, []int64{w.carolCons}); err != nil {
		t.Fatal(err)
	}
	amount, unit, pct := int64(300), models.UnitWh, 50
	a1 = w.accept(t, w.alice, w.bob, agreement.ProposeInput{Reference: "A1", Amount: &amount, Unit: &unit, Technologies: []string{"Solar"}})
	a2 = w.accept(t, w.alice, w.bob, agreement.ProposeInput{Reference: "A2", AmountPercent: &pct, FacilityGSRNs: []string{w.windGSRN}})
	a3 = w.accept(t, w.alice, w.carol, agreement.ProposeInput{Reference: "A3", LimitToConsumption: true})
	hundred := int64(100)
	d, err := w.agreements.Propose(ctx, w.alice.ID, agreement.ProposeInput{Direction: agreement.Outbound, CounterpartID: w.bob.ID, Reference: "D",
		Amount: &hundred, Unit: &unit, DateFrom: w.begin, DateTo: w.begin.AddDate(0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.agreements.Respond(ctx, w.bob.ID, d.ID, agreement.RespondInput{Accept: false}); err != nil {
		t.Fatal(err)
	}
	return a1, a2, a3
}

// checkHandComputed checks the routes TestConsumeHandComputed computes by hand (A1
// cancelled before hour 4), what alice keeps and her consumption log.
func (w *consumeWorld) checkHandComputed(t *testing.T, a1, a2, a3 int64) {
	t.Helper()
	ctx := t.Context()
	retired, transferred := w.routes(t)
	eqMap(t, "retired to", retired, map[[2]int64]int64{
		{w.cons1, 0}: 600, {w.cons2, 0}: 300, {w.cons1, 1}: 100, {w.cons1, 3}: 800,
	})
	eqMap(t, "transferred under", transferred, map[[2]int64]int64{
		{a1, 0}: 300, {a2, 0}: 100, {a3, 0}: 200,
		{a2, 1}: 1000, {a3, 1}: 50,
		{a1, 2}: 300,
	})
	for h, want := range []int64{0, 850, 700, 0, 200} {
		if got := w.stored(t, w.alice.ID, h); got != want {
			t.Errorf("alice holds %d Wh at hour %d, want %d", got, h, want)
		}
	}
	var logged int64
	if err := w.p.app.DB.NewRaw("SELECT coalesce(sum(amount_wh), 0)::bigint FROM consumption_entries WHERE user_id = ?", w.alice.ID).Scan(ctx, &logged); err != nil {
		t.Fatal(err)
	}
	if want := int64(600 + 300 + 100 + 800 + 300 + 100 + 200 + 1000 + 50 + 300); logged != want {
		t.Errorf("consumption log of alice sums to %d Wh, want %d", logged, want)
	}
}

// checkParts checks every part automatic consumption made against the GGO it came from:
// provenance copied, ownership and origin consistent with its rule, bookkeeping filled in,
// and settled (retired or stored). It returns how many parts there are.
func (w *consumeWorld) checkParts(t *testing.T) int {
	t.Helper()
	var c struct {
		Parts int `bun:"parts"`
		Bad   int `bun:"bad"`
	}
	if err := w.p.app.DB.NewRaw(`SELECT count(*) AS parts, count(*) FILTER (WHERE NOT coalesce(
			(g.origin <> 'ISSUED' OR g.root_id = g.id) AND p.root_id = g.root_id AND p.metering_point_id IS NOT DISTINCT FROM g.metering_point_id
			AND p.begin_at = g.begin_at AND p.end_at = g.end_at AND p.sector = g.sector
			AND p.technology_code = g.technology_code AND p.fuel_code = g.fuel_code
			AND p.issued_at = g.issued_at AND p.expires_at = g.expires_at
			AND p.key_path LIKE 'm/0/%' AND p.address LIKE '849c0b%'
			AND o.kind = 'CONSUME' AND o.user_id = g.user_id AND g.batch_id = o.batch_id
			AND CASE WHEN p.user_id = g.user_id
				THEN p.origin = 'PART' AND p.received_from_user_id IS NULL AND p.agreement_id IS NULL
					AND p.operation_id = o.id AND p.batch_id = o.batch_id
				ELSE p.origin = 'RECEIVED' AND p.received_from_user_id = g.user_id AND p.agreement_id IS NOT NULL
					-- the recipient's own consumption may have retired it since
					AND (p.operation_id = o.id AND p.batch_id = o.batch_id OR p.state = 'RETIRED') END
			AND CASE WHEN p.retire_metering_point_id IS NULL THEN p.state = 'STORED' AND p.retired_at IS NULL
				ELSE p.state = 'RETIRED' AND p.retired_at IS NOT NULL END
			AND p.next_state IS NULL, false)) AS bad -- a NULL anywhere is a disagreement too
		FROM ggos p JOIN ggos g ON g.id = p.parent_id LEFT JOIN ggo_operations o ON o.id = g.operation_id
		WHERE g.id IN (SELECT ggo_id FROM consumption_entries)`).Scan(t.Context(), &c); err != nil {
		t.Fatal(err)
	}
	if c.Bad > 0 {
		t.Fatalf("%d of %d consumption parts disagree with the GGO they came from", c.Bad, c.Parts)
	}
	return c.Parts
}

func (w *consumeWorld) stored(t *testing.T, user int64, h int) int64 {
	t.Helper()
	var n int64
	if err := w.p.app.DB.NewRaw("SELECT coalesce(sum(amount_wh), 0)::bigint FROM ggos WHERE user_id = ? AND state = 'STORED' AND begin_at = ?", user, w.hour(h)).Scan(t.Context(), &n); err != nil {
		t.Fatal(err)
	}
	return n
}

func eqMap(t *testing.T, what string, got, want map[[2]int64]int64) {
	t.Helper()
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s %v = %d Wh, want %d", what, k, got[k], v)
		}
	}
	for k, v := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s %v = %d Wh, want nothing", what, k, v)
		}
	}
}

// handComputed is the world of TestConsumeHandComputed.
var handComputed = series{
	wind:  []int64{1000, 2000, 0, 400, 0},
	solar: []int64{500, 0, 1000, 400, 200},
	cons1: []int64{600, 100, 0, 1000, 0},
	cons2: []int64{300, 0, 0, 0, 0},
	cons3: []int64{900, 0, 0, 0, 0},
	carol: []int64{400, 50, 0, 1000, 0},
}

// TestConsumeHandComputed routes five hours by priorities, fixed and percent agreements,
// technology and facility filters and limit-to-consumption, and checks every amount.
//
// Alice: wind W and solar S (DK1); consumption points c1 (priority 0, DK1), c2 (1, DK1),
// c3 (2, DK2: never matches DK1 GGOs). Agreements by transfer priority: A1 to bob, 300 Wh
// per hour, Solar only; A2 to bob, 50 % of alice's wind facility's supply; A3 to carol,
// limit-to-consumption only (carol consumes K at a retire-receiving point). A declined
// proposal D to bob (100 Wh) never transfers. A1 is cancelled before hour 4.
//
//	h  W     S     c1    c2   c3   K
//	0  1000  500   600   300  900  400
//	1  2000  0     100   0    0    50
//	2  0     1000  0     0    0    0
//	3  400   400   1000  0    0    1000
//	4  0     200   0     0    0    0
//
// h0: wind 1000 (first: issued first) → c1 600, c2 300, A1 skips (not Solar), A2 100 (cap
// 50 % × 1000 = 500). Solar 500 → c1, c2 full; A1 300; A2 skips (facility is wind); A3 200
// (carol's room 400). Alice keeps 0.
// h1: wind 2000 → c1 100; A2 1000 (50 %); A3 50 (room 50). Alice keeps 850.
// h2: solar 1000 → A1 300; A3 room 0. Alice keeps 700.
// h3: wind 400 → c1 400; solar 400 → c1 400 (1000 consumed). Alice keeps 0.
// h4: solar 200 → A1 cancelled, A3 room 0. Alice keeps 200.
func TestConsumeHandComputed(t *testing.T) {
	w := newConsumeWorld(t, handComputed)
	ctx := t.Context()
	// Alice orders her consumption points over GraphQL; bob cannot touch or see them.
	mpIDs := []string{relay.EncodeIntID("MeteringPoint", w.cons1), relay.EncodeIntID("MeteringPoint", w.cons2), relay.EncodeIntID("MeteringPoint", w.cons3)}
	const setPriority = `mutation($ids: [ID!]!) { setRetiringPriority(input: {ids: $ids}) { facilities { gsrn retiringPriority } userErrors { code } } }`
	code, resp := w.p.post(t, "Bearer "+w.p.token(t, w.bob.Subject), setPriority, map[string]any{"ids": mpIDs})
	if code != 200 || !strings.Contains(string(resp.Data["setRetiringPriority"]), "BAD_USER_INPUT") {
		t.Fatalf("bob's setRetiringPriority(alice's points) = %d %s, want BAD_USER_INPUT", code, resp.Data["setRetiringPriority"])
	}
	code, resp = w.p.post(t, "Bearer "+w.p.token(t, w.alice.Subject), setPriority, map[string]any{"ids": mpIDs})
	if code != 200 || len(resp.Errors) > 0 || strings.Count(string(resp.Data["setRetiringPriority"]), `"retiringPriority":`) != 5 || strings.Contains(string(resp.Data["setRetiringPriority"]), "code") {
		t.Fatalf("setRetiringPriority = %d %s %+v", code, resp.Data["setRetiringPriority"], resp.Errors)
	}
	code, resp = w.p.post(t, "Bearer "+w.p.token(t, w.bob.Subject), `{ facilities { gsrn } }`, nil)
	if code != 200 || string(resp.Data["facilities"]) != "[]" {
		t.Fatalf("bob's facilities = %d %s, want []", code, resp.Data["facilities"])
	}
	code, resp = w.p.post(t, "Bearer "+w.p.token(t, w.alice.Subject), `{ facilities(where: {type: CONSUMPTION}, orderBy: RETIRING_PRIORITY) { retiringPriority } }`, nil)
	if code != 200 || string(resp.Data["facilities"]) != `[{"retiringPriority":0},{"retiringPriority":1},{"retiringPriority":2}]` {
		t.Fatalf("alice's consumption facilities = %d %s", code, resp.Data["facilities"])
	}
	a1, a2, a3 := w.handComputedAgreements(t)

	// Hour 0 by two racing triggers: exactly one moves anything.
	var wg sync.WaitGroup
	ops := make([][]models.GgoOperation, 2)
	errs := make([]error, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ops[i], errs[i] = w.p.app.Account.ConsumeHour(ctx, w.alice.ID, w.hour(0))
		}()
	}
	wg.Wait()
	if errs[0] != nil || errs[1] != nil {
		t.Fatalf("racing ConsumeHour errors = %v, %v", errs[0], errs[1])
	}
	if len(ops[0])+len(ops[1]) != 1 {
		t.Fatalf("racing ConsumeHour operations = %v, %v, want exactly one", ops[0], ops[1])
	}
	if _, err := w.p.app.Account.ConsumePeriod(ctx, w.alice.ID, w.hour(0), w.hour(4)); err != nil {
		t.Fatal(err)
	}
	w.settle(t)
	if _, err := w.agreements.Cancel(ctx, w.bob.ID, a1.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := w.p.app.Account.ConsumePeriod(ctx, w.alice.ID, w.hour(4), w.hour(5)); err != nil {
		t.Fatal(err)
	}
	w.settle(t)
	if n := w.checkParts(t); n == 0 {
		t.Fatal("consumption made no parts")
	}

	check := func(t *testing.T) { w.checkHandComputed(t, a1.ID, a2.ID, a3.ID) }
	check(t)
	// Carol's received GGOs were retired to her consumption automatically (the receive trigger).
	testkit.Eventually(t, 30*time.Second, func() bool {
		var n int64
		err := w.p.app.DB.NewRaw("SELECT coalesce(sum(amount_wh), 0)::bigint FROM ggos WHERE retire_metering_point_id = ? AND state = 'RETIRED'", w.carolCons).Scan(ctx, &n)
		return err == nil && n == 250
	}, "carol's received 250 Wh to be retired to her consumption")

	// Re-running changes nothing.
	again, err := w.p.app.Account.ConsumePeriod(ctx, w.alice.ID, w.hour(0), w.hour(5))
	if err != nil || len(again) != 0 {
		t.Fatalf("re-run ConsumePeriod = %d operations (%v), want none", len(again), err)
	}
	check(t)
	// Summaries in SQL: transferred per technology, and alice's distribution.
	out := agreement.Outbound
	sum, err := w.agreements.Summary(ctx, w.alice.ID, agreement.SummaryInput{Direction: &out, From: w.hour(0), Until: w.hour(5), Resolution: agreement.Day})
	if err != nil {
		t.Fatal(err)
	}
	gotSum := map[string]int64{}
	for _, r := range sum {
		gotSum[r.Technology] += int64(r.AmountWh)
	}
	if len(sum) != 2 || gotSum["Solar"] != 300+300+200 || gotSum["Wind"] != 100+1000+50 {
		t.Errorf("Summary() = %+v, want Solar 800 and Wind 1150 in one day", sum)
	}
	if in, err := w.agreements.Summary(ctx, w.carol.ID, agreement.SummaryInput{AgreementID: &a3.ID, From: w.hour(0), Until: w.hour(5), Resolution: agreement.Hour}); err != nil || len(in) != 2 {
		t.Errorf("carol Summary(A3, hourly) = %+v, %v, want 2 rows (200 Solar at h0, 50 Wind at h1)", in, err)
	}
	dist, err := w.p.app.Account.Distribution(ctx, w.alice.ID, w.hour(0), w.hour(5))
	if err != nil {
		t.Fatal(err)
	}
	gotDist := map[string]int64{}
	for _, r := range dist {
		gotDist[r.Category+" "+r.Technology] = int64(r.AmountWh)
	}
	wantDist := map[string]int64{
		"ISSUED Wind": 3400, "ISSUED Solar": 2100, "OUTBOUND Wind": 1150, "OUTBOUND Solar": 800,
		"RETIRED Wind": 1400, "RETIRED Solar": 400, "STORED Wind": 850, "STORED Solar": 900,
	}
	if len(gotDist) != len(wantDist) {
		t.Errorf("Distribution() = %v, want %v", gotDist, wantDist)
	}
	for k, v := range wantDist {
		if gotDist[k] != v {
			t.Errorf("Distribution() %s = %d, want %d", k, gotDist[k], v)
		}
	}

	log, err := w.p.app.Account.ConsumptionLog(ctx, w.alice.ID, w.hour(0), w.hour(1))
	if err != nil || len(log) != 5 {
		t.Fatalf("ConsumptionLog(hour 0) = %d entries (%v), want 5", len(log), err)
	}
	// The same log over GraphQL, and the on-demand mutation (nothing left to do).
	vars := map[string]any{"b": map[string]any{"gte": w.hour(0), "lt": w.hour(1)}}
	code, resp = w.p.post(t, "Bearer "+w.p.token(t, w.alice.Subject), `query($b: TimeRange!) { consumptionLog(begin: $b) { rule amount gsrn agreementId operationState } }`, vars)
	var gl struct {
		ConsumptionLog []struct {
			Rule        string  `json:"rule"`
			Amount      int64   `json:"amount"`
			Gsrn        *string `json:"gsrn"`
			AgreementID *string `json:"agreementId"`
		} `json:"consumptionLog"`
	}
	if code != 200 || len(resp.Errors) > 0 {
		t.Fatalf("consumptionLog = %d %+v", code, resp.Errors)
	}
	if err := json.Unmarshal(resp.Data["consumptionLog"], &gl.ConsumptionLog); err != nil || len(gl.ConsumptionLog) != 5 {
		t.Fatalf("consumptionLog = %s (%v), want 5 entries", resp.Data["consumptionLog"], err)
	}
	var glSum int64
	for _, e := range gl.ConsumptionLog {
		glSum += e.Amount
		if (e.Rule == "RETIRE") != (e.Gsrn != nil) || (e.Rule == "AGREEMENT") != (e.AgreementID != nil) {
			t.Errorf("consumptionLog entry %+v: target does not match the rule", e)
		}
	}
	if glSum != 1500 {
		t.Errorf("consumptionLog of hour 0 sums to %d Wh, want 1500", glSum)
	}
	code, resp = w.p.post(t, "Bearer "+w.p.token(t, w.alice.Subject), `mutation($b: TimeRange!) { consumeGgos(input: {begin: $b}) { operations { id } userErrors { code } } }`,
		map[string]any{"b": map[string]any{"gte": w.hour(0), "lt": w.hour(5)}})
	if code != 200 || len(resp.Errors) > 0 || string(resp.Data["consumeGgos"]) != `{"operations":[],"userErrors":[]}` {
		t.Fatalf("consumeGgos = %d %s %+v, want no operations", code, resp.Data["consumeGgos"], resp.Errors)
	}
	// Bob sees none of alice's log.
	code, resp = w.p.post(t, "Bearer "+w.p.token(t, w.bob.Subject), `query($b: TimeRange!) { consumptionLog(begin: $b) { amount } }`, vars)
	if code != 200 || string(resp.Data["consumptionLog"]) != "[]" {
		t.Fatalf("bob's consumptionLog = %d %s, want []", code, resp.Data["consumptionLog"])
	}
	for _, e := range log {
		if e.OperationState != models.OperationCommitted || (e.Rule == models.RuleRetire) != (e.MeteringPointID != nil) {
			t.Errorf("log entry %+v: want a committed operation and a rule matching its target", e)
		}
	}
}

// TestConsumeHoursBiggerThanARun consumes TestConsumeHandComputed's world by a service that
// takes one GGO per operation, so that every hour with wind and solar is too big for one
// run: each hour is consumed in several operations, in the same order and with the same
// hand-computed result; racing re-runs change nothing.
func TestConsumeHoursBiggerThanARun(t *testing.T) {
	w := newConsumeWorld(t, handComputed)
	ctx := t.Context()
	if err := w.facilities.SetRetiringPriority(ctx, w.alice.ID, []int64{w.cons1, w.cons2, w.cons3}); err != nil {
		t.Fatal(err)
	}
	a1, a2, a3 := w.handComputedAgreements(t)
	one := account.NewService(w.p.app.DB, w.p.app.Wallets, w.p.app.Outbox, account.Config{MaxGgosPerOperation: 1},
		slog.New(slog.DiscardHandler), w.p.app.Clock)
	// Every GGO of hours 0-3 moves something, each in an operation of its own: wind and
	// solar at 0 and 3, one GGO at 1 and 2. (Nothing is left to alice at hours 0 and 3, so
	// no trigger of the platform's own consumes them meanwhile.)
	ops, err := one.ConsumePeriod(ctx, w.alice.ID, w.hour(0), w.hour(4))
	if err != nil {
		t.Fatal(err)
	}
	var hours []int
	for _, op := range ops {
		var c struct {
			N    int       `bun:"n"`
			Hour time.Time `bun:"hour"`
		}
		if err := w.p.app.DB.NewRaw("SELECT count(DISTINCT ggo_id) AS n, min(begin_at) AS hour FROM consumption_entries WHERE operation_id = ?", op.ID).Scan(ctx, &c); err != nil {
			t.Fatal(err)
		}
		if c.N != 1 {
			t.Errorf("operation %d consumed %d GGOs, want 1 (the limit)", op.ID, c.N)
		}
		hours = append(hours, int(c.Hour.Sub(w.begin)/time.Hour))
	}
	if want := []int{0, 0, 1, 2, 3, 3}; !slices.Equal(hours, want) {
		t.Fatalf("operations of hours %v, want %v (one per GGO)", hours, want)
	}
	w.settle(t)
	if _, err := w.agreements.Cancel(ctx, w.bob.ID, a1.ID); err != nil {
		t.Fatal(err)
	}
	// Hour 4 (nothing to move once A1 is cancelled) and re-runs of hours 0-3, racing.
	var wg sync.WaitGroup
	var again [2][]models.GgoOperation
	var errs [2]error
	for i := range 2 {
		wg.Go(func() { again[i], errs[i] = one.ConsumePeriod(ctx, w.alice.ID, w.hour(0), w.hour(5)) })
	}
	wg.Wait()
	if err := errors.Join(errs[:]...); err != nil || len(again[0])+len(again[1]) != 0 {
		t.Fatalf("racing re-runs = %d and %d operations (%v), want none", len(again[0]), len(again[1]), err)
	}
	w.settle(t)
	w.checkHandComputed(t, a1.ID, a2.ID, a3.ID)
	w.checkParts(t)
}
