package disclosure_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/uptrace/bun"

	"github.com/originhub/originhub/internal/disclosure"
	"github.com/originhub/originhub/internal/testkit"
	"github.com/originhub/originhub/models"
	"github.com/originhub/originhub/tasks"
)

func TestMain(m *testing.M) { testkit.Main(m) }

var seq atomic.Int64

type fixture struct {
	db    *bun.DB
	svc   *disclosure.Service
	insp  *asynq.Inspector
	owner int64
	h0    time.Time
	a, b  string // consumption points: a has an address
	ids   map[string]int64
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	db := testkit.DB(t)
	ropt := testkit.RedisOptions(t)
	client := asynq.NewClient(asynq.RedisClientOpt{Addr: ropt.Addr, DB: ropt.DB})
	t.Cleanup(func() { client.Close() })
	insp := asynq.NewInspector(asynq.RedisClientOpt{Addr: ropt.Addr, DB: ropt.DB})
	t.Cleanup(func() { insp.Close() })
	n := seq.Add(1)
	f := &fixture{
		db: db, insp: insp, ids: map[string]int64{},
		svc: disclosure.NewService(db, tasks.Enqueuer{Client: client}, slog.New(slog.NewTextHandler(io.Discard, nil)), func() time.Time { return time.Now().UTC() }),
		h0:  time.Date(2029, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, int(n)*3),
	}
	f.owner = f.user(t)
	f.a = f.point(t, f.owner, "CONSUMPTION", "Solvej 3", "8000", "Aarhus C")
	f.b = f.point(t, f.owner, "CONSUMPTION", "", "", "")
	if _, err := db.ExecContext(t.Context(), "SELECT ensure_measurement_partitions(?, ?)", f.h0, f.h0.Add(48*time.Hour)); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) user(t testing.TB) int64 {
	t.Helper()
	var id int64
	if err := f.db.NewRaw("INSERT INTO users (subject) VALUES (?) RETURNING id", testkit.Subject(t)+fmt.Sprint(seq.Add(1))).Scan(t.Context(), &id); err != nil {
		t.Fatal(err)
	}
	return id
}

func (f *fixture) point(t testing.TB, userID int64, typ, street, postcode, city string) string {
	t.Helper()
	g := fmt.Sprintf("577%06d%09d", userID%1_000_000, seq.Add(1))
	var id int64
	if err := f.db.NewRaw("INSERT INTO metering_points (user_id, gsrn, type, sector, street_name, postcode, city_name) VALUES (?, ?, ?, 'DK1', ?, ?, ?) RETURNING id",
		userID, g, typ, street, postcode, city).Scan(t.Context(), &id); err != nil {
		t.Fatal(err)
	}
	f.ids[g] = id
	return g
}

func (f *fixture) hour(n int) time.Time { return f.h0.Add(time.Duration(n) * time.Hour) }

func (f *fixture) reading(t *testing.T, gsrn string, n int, wh int64) {
	t.Helper()
	if _, err := f.db.ExecContext(t.Context(), `INSERT INTO measurements (metering_point_id, begin_at, amount_wh) VALUES (?, ?, ?)
		ON CONFLICT (metering_point_id, begin_at) DO UPDATE SET amount_wh = EXCLUDED.amount_wh`, f.ids[gsrn], f.hour(n), wh); err != nil {
		t.Fatal(err)
	}
}

// retire inserts a GGO retired to gsrn; tech is "wind" (T020000) or "solar" (T010000).
func (f *fixture) retire(t *testing.T, gsrn string, n int, wh int64, tech, state string) int64 {
	t.Helper()
	codes := map[string][2]string{"wind": {"T020000", "F01050100"}, "solar": {"T010000", "F01040100"}}[tech]
	var id int64
	if err := f.db.NewRaw(`INSERT INTO ggos (user_id, begin_at, end_at, amount_wh, sector, technology_code, fuel_code,
		state, origin, issued_at, expires_at, retire_metering_point_id, retired_at)
		VALUES (?, ?, ?, ?, 'DK1', ?, ?, ?, 'PART', ?, ?, ?, ?) RETURNING id`,
		f.owner, f.hour(n), f.hour(n+1), wh, codes[0], codes[1], state, f.hour(n), f.hour(n+2000), f.ids[gsrn], f.hour(n)).Scan(t.Context(), &id); err != nil {
		t.Fatal(err)
	}
	return id
}

func (f *fixture) settings(gsrns ...string) disclosure.Settings {
	return disclosure.Settings{Name: "Our power", Description: "Hourly", From: f.hour(0), To: f.hour(24), GSRNs: gsrns,
		MaxResolution: models.DisclosureHour, PerMeteringPoint: true}
}

func (f *fixture) compile(t *testing.T, id int64) disclosure.CompileStats {
	t.Helper()
	st, err := f.svc.Compile(t.Context(), id)
	if err != nil {
		t.Fatalf("Compile() = %v", err)
	}
	return st
}

// render writes a series compactly: "begin-hour:consumed/retired/matched[tech=wh ...]".
func render(f *fixture, s disclosure.Series) string {
	var parts []string
	for _, b := range s.Buckets {
		var techs []string
		for _, tc := range b.Technologies {
			techs = append(techs, fmt.Sprintf("%s=%d", tc.Technology, tc.Wh))
		}
		parts = append(parts, fmt.Sprintf("%d:%d/%d/%d[%s]", int(b.Begin.Sub(f.h0)/time.Hour), b.ConsumedWh, b.RetiredWh, b.MatchedWh, strings.Join(techs, " ")))
	}
	return strings.Join(parts, " ")
}

func TestCompileShowsExactSeries(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	f.reading(t, f.a, 0, 1000)
	f.reading(t, f.a, 1, 2000)
	f.reading(t, f.b, 1, 500)
	f.reading(t, f.b, 30, 999) // outside the period
	f.retire(t, f.a, 0, 300, "wind", "RETIRED")
	f.retire(t, f.a, 0, 200, "solar", "RETIRED")
	f.retire(t, f.a, 1, 2500, "wind", "RETIRED") // 500 above consumption
	f.retire(t, f.a, 1, 100, "wind", "PENDING")  // not committed: not disclosed
	f.retire(t, f.b, 2, 400, "solar", "RETIRED") // retired to an hour without a reading
	// Someone else's point and GGO must never appear.
	other := f.user(t)
	x := f.point(t, other, "CONSUMPTION", "", "", "")
	f.reading(t, x, 0, 7777)

	d, err := f.svc.Create(ctx, f.owner, f.settings(f.b, f.a, f.a))
	if err != nil {
		t.Fatal(err)
	}
	if d.State != models.DisclosurePending {
		t.Fatalf("state after Create = %s, want PENDING", d.State)
	}
	queued, err := f.insp.ListPendingTasks(tasks.QueueDefault)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, q := range queued {
		found = found || (q.Type == tasks.TypeDisclosureCompile && strings.Contains(string(q.Payload), fmt.Sprintf(`"disclosureId":%d}`, d.ID)))
	}
	if !found {
		t.Fatalf("no %s task queued for disclosure %d", tasks.TypeDisclosureCompile, d.ID)
	}
	st := f.compile(t, d.ID)
	if st.HoursWritten != 4 || st.RetiredWritten != 4 {
		t.Errorf("first compile = %+v, want 4 hours and 4 retired rows written", st)
	}

	p, err := f.svc.Public(ctx, d.PublicID, disclosure.PublicQuery{Resolution: models.DisclosureHour})
	if err != nil {
		t.Fatal(err)
	}
	if p.State != models.DisclosureAvailable || len(p.Series) != 2 {
		t.Fatalf("public = %+v, want AVAILABLE with 2 series", p)
	}
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"point a (GSRN order first)", render(f, p.Series[0]), "0:1000/500/500[Solar=200 Wind=300] 1:2000/2500/2000[Wind=2500]"},
		{"point b", render(f, p.Series[1]), "1:500/0/0[] 2:0/400/0[Solar=400]"},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("%s = %s, want %s", tc.name, tc.got, tc.want)
		}
	}
	for _, s := range p.Series {
		if s.GSRN != nil || s.Address != nil {
			t.Errorf("hidden GSRN/address readable: %v %v", s.GSRN, s.Address)
		}
	}

	// A finer resolution than allowed is coarsened; the day totals are exact.
	if _, err := f.svc.Update(ctx, f.owner, d.PublicID, func() disclosure.Settings {
		s := f.settings(f.a, f.b)
		s.MaxResolution, s.PerMeteringPoint = models.DisclosureDay, false
		return s
	}()); err != nil {
		t.Fatal(err)
	}
	f.compile(t, d.ID)
	p, err = f.svc.Public(ctx, d.PublicID, disclosure.PublicQuery{Resolution: models.DisclosureHour})
	if err != nil {
		t.Fatal(err)
	}
	if p.Resolution != models.DisclosureDay || len(p.Series) != 1 {
		t.Fatalf("resolution %s with %d series, want DAY and one aggregate", p.Resolution, len(p.Series))
	}
	if got, want := render(f, p.Series[0]), "0:3500/3400/2500[Solar=600 Wind=2800]"; got != want {
		t.Errorf("aggregate day = %s, want %s", got, want)
	}

	// Incremental: nothing changed, nothing written; one reading revised, one row written.
	if st := f.compile(t, d.ID); st.HoursWritten != 0 || st.HoursDeleted != 0 || st.RetiredWritten != 0 || st.RetiredDeleted != 0 {
		t.Errorf("idle recompile = %+v, want no writes", st)
	}
	f.reading(t, f.a, 0, 1100)
	if _, err := f.db.ExecContext(ctx, "UPDATE ggos SET state = 'STORED', retire_metering_point_id = NULL WHERE retire_metering_point_id = ? AND begin_at = ?", f.ids[f.b], f.hour(2)); err != nil {
		t.Fatal(err)
	}
	if st := f.compile(t, d.ID); st.HoursWritten != 1 || st.HoursDeleted != 1 || st.RetiredDeleted != 1 {
		t.Errorf("recompile after a revision and an undone retirement = %+v, want 1 written, 1 hour and 1 retired row deleted", st)
	}
}

func TestShareOnlyAndWithdrawnPoints(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	f.reading(t, f.a, 0, 1000)
	f.reading(t, f.b, 0, 3000)
	f.retire(t, f.a, 0, 250, "wind", "RETIRED")
	s := f.settings(f.a, f.b)
	s.ShareOnly, s.ShowGSRN, s.ShowAddress = true, true, true
	d, err := f.svc.Create(ctx, f.owner, s)
	if err != nil {
		t.Fatal(err)
	}
	f.compile(t, d.ID)
	p, err := f.svc.Public(ctx, d.PublicID, disclosure.PublicQuery{})
	if err != nil {
		t.Fatal(err)
	}
	b := p.Series[0].Buckets[0]
	if !p.ShareOnly || b.ConsumedWh != 0 || b.RetiredWh != 0 || b.MatchedWh != 0 {
		t.Errorf("share-only bucket = %+v, want amounts withheld", b)
	}
	if len(b.Technologies) != 1 || b.Technologies[0].Technology != "Wind" {
		t.Errorf("share-only technologies = %+v", b.Technologies)
	}
	if p.Series[0].GSRN == nil || *p.Series[0].GSRN != f.a || p.Series[0].Address == nil || *p.Series[0].Address != "Solvej 3, 8000 Aarhus C" {
		t.Errorf("shown GSRN/address = %v %v", p.Series[0].GSRN, p.Series[0].Address)
	}
	// Withdrawing b removes its compiled data at once, before any recompilation.
	if _, err := f.svc.Update(ctx, f.owner, d.PublicID, f.settings(f.a)); err != nil {
		t.Fatal(err)
	}
	var left int
	if err := f.db.NewRaw("SELECT count(*) FROM disclosure_hours WHERE disclosure_id = ? AND metering_point_id = ?", d.ID, f.ids[f.b]).Scan(ctx, &left); err != nil || left != 0 {
		t.Errorf("withdrawn point keeps %d compiled hours (%v)", left, err)
	}
	p, err = f.svc.Public(ctx, d.PublicID, disclosure.PublicQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if p.State != models.DisclosurePending || len(p.Series) != 1 || p.Series[0].GSRN != nil {
		t.Errorf("after edit: state %s, %d series, gsrn %v; want PENDING, 1 series, GSRN hidden", p.State, len(p.Series), p.Series[0].GSRN)
	}
}

func TestOnlyOwnerChanges(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	d, err := f.svc.Create(ctx, f.owner, f.settings(f.a))
	if err != nil {
		t.Fatal(err)
	}
	mallory := f.user(t)
	tests := []struct {
		name string
		call func() error
		want error
	}{
		{"update", func() error { _, err := f.svc.Update(ctx, mallory, d.PublicID, f.settings(f.a)); return err }, disclosure.ErrNotFound},
		{"delete", func() error { return f.svc.Delete(ctx, mallory, d.PublicID) }, disclosure.ErrNotFound},
		{"get", func() error { _, err := f.svc.Get(ctx, mallory, d.PublicID); return err }, disclosure.ErrNotFound},
		{"create with owner's point", func() error { _, err := f.svc.Create(ctx, mallory, f.settings(f.a)); return err }, disclosure.ErrInvalidInput},
		{"malformed id", func() error { _, err := f.svc.Public(ctx, "1 OR 1=1", disclosure.PublicQuery{}); return err }, disclosure.ErrNotFound},
		{"unknown id", func() error {
			_, err := f.svc.Public(ctx, "00000000-0000-4000-8000-000000000000", disclosure.PublicQuery{})
			return err
		}, disclosure.ErrNotFound},
		{"production point", func() error {
			_, err := f.svc.Create(ctx, f.owner, f.settings(f.point(t, f.owner, "PRODUCTION", "", "", "")))
			return err
		}, disclosure.ErrInvalidInput},
		{"empty range", func() error { s := f.settings(f.a); s.To = s.From; _, err := f.svc.Create(ctx, f.owner, s); return err }, disclosure.ErrInvalidInput},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.call(); !errors.Is(err, tc.want) {
				t.Fatalf("error = %v, want %v", err, tc.want)
			}
		})
	}
	if ds, err := f.svc.List(ctx, mallory); err != nil || len(ds) != 0 {
		t.Errorf("List(mallory) = %d, %v; want none", len(ds), err)
	}
	if err := f.svc.Delete(ctx, f.owner, d.PublicID); err != nil {
		t.Fatalf("owner Delete() = %v", err)
	}
	if _, err := f.svc.Public(ctx, d.PublicID, disclosure.PublicQuery{}); !errors.Is(err, disclosure.ErrNotFound) {
		t.Fatalf("Public() after delete = %v, want ErrNotFound", err)
	}
	if _, err := f.svc.Compile(ctx, d.ID); !errors.Is(err, disclosure.ErrNotFound) {
		t.Fatalf("Compile() after delete = %v, want ErrNotFound", err)
	}
}

// TestCompileFailureIsRecorded provokes a failing compilation (retired amounts whose sum
// leaves bigint) and checks that the disclosure ends FAILED with a reason, not PROCESSING,
// and recovers once the data is fixed.
func TestCompileFailureIsRecorded(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	f.reading(t, f.a, 0, 1000)
	g1 := f.retire(t, f.a, 0, 5_000_000_000_000_000_000, "wind", "RETIRED")
	g2 := f.retire(t, f.a, 0, 5_000_000_000_000_000_000, "wind", "RETIRED")
	d, err := f.svc.Create(ctx, f.owner, f.settings(f.a))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Compile(ctx, d.ID); err == nil {
		t.Fatal("Compile() succeeded, want the overflow to fail it")
	}
	got, err := f.svc.Get(ctx, f.owner, d.PublicID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != models.DisclosureFailed || got.Error == nil || *got.Error != "compilation failed at collect hours; it is retried automatically" {
		t.Fatalf("after failure: state %s, error %v; want FAILED with the reason", got.State, got.Error)
	}
	if _, err := f.db.NewDelete().Model((*models.Ggo)(nil)).Where("id IN (?, ?)", g1, g2).Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.compile(t, d.ID)
	if got, _ = f.svc.Get(ctx, f.owner, d.PublicID); got.State != models.DisclosureAvailable || got.Error != nil {
		t.Fatalf("after fix: state %s, error %v; want AVAILABLE", got.State, got.Error)
	}
}

// TestSweepRequeuesStuckDisclosures leaves a disclosure in PROCESSING as a dead worker
// would; the sweep queues it again and the task handler brings it to AVAILABLE.
func TestSweepRequeuesStuckDisclosures(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	f.reading(t, f.a, 0, 1000)
	d, err := f.svc.Create(ctx, f.owner, f.settings(f.a))
	if err != nil {
		t.Fatal(err)
	}
	// Lose the queued task as a crash between commit and enqueue would: no task, no lock.
	if _, err := f.insp.DeleteAllPendingTasks(tasks.QueueDefault); err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(testkit.RedisOptions(t))
	defer rdb.Close()
	locks, err := rdb.Keys(ctx, "asynq:{"+tasks.QueueDefault+"}:unique:*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(locks) > 0 {
		if err := rdb.Del(ctx, locks...).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.db.ExecContext(ctx, "UPDATE disclosures SET state = 'PROCESSING', updated_at = now() - interval '1 hour' WHERE id = ?", d.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Sweep(ctx, 10_000); err != nil {
		t.Fatal(err)
	}
	pending, err := f.insp.ListPendingTasks(tasks.QueueDefault, asynq.PageSize(10_000))
	if err != nil {
		t.Fatal(err)
	}
	var task *asynq.Task
	for _, p := range pending {
		if p.Type == tasks.TypeDisclosureCompile && strings.Contains(string(p.Payload), fmt.Sprintf(`"disclosureId":%d}`, d.ID)) {
			task = asynq.NewTask(p.Type, p.Payload)
		}
	}
	if task == nil {
		t.Fatal("the sweep did not queue the stuck disclosure")
	}
	h := &tasks.Handlers{Disclosures: f.svc, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if err := h.HandleDisclosureCompile(ctx, task); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.svc.Get(ctx, f.owner, d.PublicID); got.State != models.DisclosureAvailable {
		t.Fatalf("state after the handler = %s, want AVAILABLE", got.State)
	}
	if err := h.HandleDisclosureCompile(ctx, asynq.NewTask(tasks.TypeDisclosureCompile, []byte("{"))); !errors.Is(err, asynq.SkipRetry) {
		t.Fatalf("bad payload: %v, want SkipRetry", err)
	}
}
