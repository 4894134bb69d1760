package datahub_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/originhub/originhub/internal/datahub"
	"github.com/originhub/originhub/internal/eloverblik"
	"github.com/originhub/originhub/internal/eloverblik/sim"
	"github.com/originhub/originhub/internal/testkit"
	"github.com/originhub/originhub/internal/user"
	"github.com/originhub/originhub/models"
	"github.com/originhub/originhub/tasks"
)

func TestMain(m *testing.M) { testkit.Main(m) }

var (
	first = time.Date(2026, 2, 20, 0, 0, 0, 0, time.UTC) // imports span two monthly partitions
	now   = time.Date(2026, 3, 9, 12, 30, 0, 0, time.UTC)
)

// env is a DataHub service wired to the simulator over real HTTP and a real asynq worker.
type env struct {
	svc    *datahub.Service
	sim    *sim.Simulator
	srv    *httptest.Server
	users  *user.Service
	clock  *atomic.Pointer[time.Time]
	client *asynq.Client
}

func newEnv(t *testing.T, simOpts sim.Options) *env {
	t.Helper()
	db := testkit.DB(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	e := &env{users: user.NewService(db), clock: new(atomic.Pointer[time.Time])}
	n := now
	e.clock.Store(&n)
	clock := func() time.Time { return *e.clock.Load() }
	simOpts.Clock = clock
	e.sim = sim.New(simOpts)
	mux := http.NewServeMux()
	mux.Handle("/sim/eloverblik/", http.StripPrefix("/sim/eloverblik", e.sim.Handler()))
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	client, err := eloverblik.New(eloverblik.Config{BaseURL: e.srv.URL + "/sim/eloverblik", RefreshToken: "dev", Clock: clock, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	ropt := testkit.RedisOptions(t)
	redisOpt := asynq.RedisClientOpt{Addr: ropt.Addr, DB: ropt.DB}
	e.client = asynq.NewClient(redisOpt)
	t.Cleanup(func() { e.client.Close() })
	e.svc = datahub.NewService(db, client, datahub.Config{
		FirstMeasurementTime: first,
		TrailingWindow:       48 * time.Hour,
		OnboardingURL:        e.srv.URL + "/sim/eloverblik/onboarding",
		ThirdPartyID:         "originhub-test",
		CallbackURL:          e.srv.URL + "/onboarding/callback",
	}, tasks.Enqueuer{Client: e.client}, nil, log, clock)
	mux.Handle("GET /onboarding/callback", e.svc.CallbackHandler())
	return e
}

// runWorker processes tasks until the test ends.
func (e *env) runWorker(t *testing.T) {
	t.Helper()
	ropt := testkit.RedisOptions(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := tasks.NewServer(asynq.RedisClientOpt{Addr: ropt.Addr, DB: ropt.DB}, tasks.ServerConfig{Concurrency: 4, ShutdownTimeout: 5 * time.Second}, log)
	if err := srv.Start(tasks.NewMux(&tasks.Handlers{DB: testkit.DB(t), Log: log, Clock: time.Now, DataHub: e.svc})); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
}

// onboard runs the real consent flow: our URL → the simulator's page → grant → our callback.
func (e *env) onboard(t *testing.T, userID int64) {
	t.Helper()
	u, err := e.svc.StartOnboarding(t.Context(), userID)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	form := parsed.Query()
	form.Set("decision", "grant")
	resp, err := http.PostForm(e.srv.URL+"/sim/eloverblik/onboarding", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/onboarding/callback" {
		t.Fatalf("onboarding ended at %s with %d, want our callback answering 200", resp.Request.URL, resp.StatusCode)
	}
}

func (e *env) newUser(t *testing.T) models.User {
	t.Helper()
	u, err := e.users.Ensure(t.Context(), testkit.Subject(t))
	if err != nil {
		t.Fatal(err)
	}
	return u
}

type pointTotals struct {
	ID       int64
	GSRN     string
	Rows     int
	SumWh    int64
	Revised  int
	Imported time.Time
}

func totals(t *testing.T, userID int64) map[string]pointTotals {
	t.Helper()
	var rows []pointTotals
	err := testkit.DB(t).NewRaw(`
		SELECT mp.id, mp.gsrn, count(m.begin_at)::int AS rows, coalesce(sum(m.amount_wh), 0)::bigint AS sum_wh,
		       count(m.revised_at)::int AS revised, coalesce(mp.imported_until, 'epoch') AS imported
		FROM metering_points mp LEFT JOIN measurements m ON m.metering_point_id = mp.id
		WHERE mp.user_id = ? GROUP BY mp.id ORDER BY mp.gsrn`, userID).Scan(t.Context(), &rows)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]pointTotals{}
	for _, r := range rows {
		out[r.GSRN] = r
	}
	return out
}

func (e *env) expectedSum(gsrn string, from, to time.Time) int64 {
	var sum int64
	for h := from; h.Before(to); h = h.Add(time.Hour) {
		sum += e.sim.Wh(gsrn, h)
	}
	return sum
}

func waitJobsDone(t *testing.T, userID int64) {
	t.Helper()
	testkit.Eventually(t, 60*time.Second, func() bool {
		var open, total int
		err := testkit.DB(t).NewRaw("SELECT count(*) FILTER (WHERE state IN ('QUEUED','RUNNING'))::int, count(*)::int FROM import_jobs WHERE user_id = ?", userID).Scan(t.Context(), &open, &total)
		return err == nil && total > 1 && open == 0
	}, "import jobs to finish")
	var failed []string
	if err := testkit.DB(t).NewRaw("SELECT coalesce(last_error, '') FROM import_jobs WHERE user_id = ? AND state = 'FAILED'", userID).Scan(t.Context(), &failed); err == nil && len(failed) > 0 {
		t.Fatalf("failed jobs: %v", failed)
	}
}

func TestImportThroughWorkerEndToEnd(t *testing.T) {
	e := newEnv(t, sim.Options{Seed: 7})
	e.runWorker(t)
	u := e.newUser(t)
	e.onboard(t, u.ID)
	waitJobsDone(t, u.ID)

	link, err := e.svc.Link(t.Context(), u.ID)
	if err != nil || link.State != models.LinkGranted {
		t.Fatalf("link = %+v, %v; want GRANTED", link, err)
	}
	points := e.sim.Points(link.CustomerKey)
	got := totals(t, u.ID)
	if len(got) != len(points) || len(points) < 2 {
		t.Fatalf("imported %d metering points, simulator has %d", len(got), len(points))
	}
	to := now.Truncate(time.Hour)
	hours := int(to.Sub(first) / time.Hour)
	for _, p := range points {
		g := got[p.GSRN]
		if g.Rows != hours {
			t.Errorf("%s: %d rows, want %d (every hour from %s to %s)", p.GSRN, g.Rows, hours, first, to)
		}
		if want := e.expectedSum(p.GSRN, first, to); g.SumWh != want {
			t.Errorf("%s: sum %d Wh, want %d", p.GSRN, g.SumWh, want)
		}
		if !g.Imported.Equal(to) {
			t.Errorf("%s: imported_until %s, want %s", p.GSRN, g.Imported, to)
		}
	}
	// Production points carry their technology from the energy-type look-up.
	var unlabelled int
	if err := testkit.DB(t).NewRaw("SELECT count(*) FROM metering_points WHERE user_id = ? AND type = 'PRODUCTION' AND technology_code IS NULL", u.ID).Scan(t.Context(), &unlabelled); err != nil || unlabelled != 0 {
		t.Fatalf("production points without technology: %d, %v", unlabelled, err)
	}

	t.Run("re-running changes nothing", func(t *testing.T) {
		before := totals(t, u.ID)
		for _, p := range before {
			job, err := e.svc.QueueMeasurementImport(t.Context(), u.ID, p.ID)
			if err != nil {
				t.Fatal(err)
			}
			waitJob(t, job.ID)
			var written int64
			if err := testkit.DB(t).NewRaw("SELECT rows_written FROM import_jobs WHERE id = ?", job.ID).Scan(t.Context(), &written); err != nil || written != 0 {
				t.Fatalf("re-import of %s wrote %d rows, %v; want 0", p.GSRN, written, err)
			}
		}
		after := totals(t, u.ID)
		for g, b := range before {
			if after[g] != b {
				t.Fatalf("%s changed: %+v → %+v", g, b, after[g])
			}
		}
	})

	t.Run("a revised reading updates one row and records a revision", func(t *testing.T) {
		var p pointTotals
		for _, v := range totals(t, u.ID) {
			p = v
			break
		}
		hour := to.Add(-5 * time.Hour) // inside the trailing window that every import re-reads
		db := testkit.DB(t)
		// Pretend our copy is stale: DataHub's value now differs from what we hold.
		if _, err := db.ExecContext(t.Context(), "UPDATE measurements SET amount_wh = amount_wh + 1000 WHERE metering_point_id = ? AND begin_at = ?", p.ID, hour); err != nil {
			t.Fatal(err)
		}
		job, err := e.svc.QueueMeasurementImport(t.Context(), u.ID, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		waitJob(t, job.ID)
		var written int64
		_ = db.NewRaw("SELECT rows_written FROM import_jobs WHERE id = ?", job.ID).Scan(t.Context(), &written)
		if written != 1 {
			t.Fatalf("rows written = %d, want exactly the revised one", written)
		}
		var rev struct{ Old, New int64 }
		if err := db.NewRaw("SELECT old_amount_wh AS old, new_amount_wh AS new FROM measurement_revisions WHERE metering_point_id = ? AND begin_at = ?", p.ID, hour).Scan(t.Context(), &rev.Old, &rev.New); err != nil {
			t.Fatalf("no revision recorded: %v", err)
		}
		want := e.sim.Wh(p.GSRN, hour)
		if rev.New != want || rev.Old != want+1000 {
			t.Fatalf("revision = %+v, want old %d new %d", rev, want+1000, want)
		}
		if after := totals(t, u.ID)[p.GSRN]; after.SumWh != p.SumWh || after.Revised != 1 {
			t.Fatalf("after revision: %+v, want the original sum and one revised row", after)
		}
	})
}

func waitJob(t *testing.T, id int64) {
	t.Helper()
	testkit.Eventually(t, 30*time.Second, func() bool {
		var state string
		err := testkit.DB(t).NewRaw("SELECT state FROM import_jobs WHERE id = ?", id).Scan(t.Context(), &state)
		return err == nil && (state == "SUCCEEDED" || state == "FAILED")
	}, "import job to finish")
}

// A window whose fetch dies half-way leaves nothing behind, and the retry completes it.
func TestCrashMidWindowLeavesNoPartialWindow(t *testing.T) {
	e := newEnv(t, sim.Options{Seed: 11})
	db := testkit.DB(t)
	u := e.newUser(t)
	mp := models.MeteringPoint{UserID: u.ID, GSRN: "571313100000000019", Type: models.MeteringPointConsumption, Sector: models.SectorDK1}
	if _, err := db.NewInsert().Model(&mp).Exec(t.Context()); err != nil {
		t.Fatal(err)
	}
	from, to := first, first.Add(72*time.Hour)
	if _, err := datahub.EnsurePartitions(t.Context(), db, from, to); err != nil {
		t.Fatal(err)
	}
	w := datahub.Window{MeteringPointID: mp.ID, GSRN: mp.GSRN, From: from, To: to}
	reading := func(i int) eloverblik.Reading {
		b := from.Add(time.Duration(i) * time.Hour)
		return eloverblik.Reading{GSRN: mp.GSRN, Begin: b, End: b.Add(time.Hour), Wh: int64(100 + i), Quality: "A04"}
	}
	ctx, cancel := context.WithCancel(t.Context())
	_, err := datahub.IngestWindow(ctx, db.DB, w, func(ctx context.Context, sink eloverblik.Sink) error {
		for i := range 50 { // far more than one COPY batch would need to be flushed is not required: cancel mid-stream
			if err := sink.Reading(reading(i)); err != nil {
				return err
			}
		}
		cancel() // the worker dies mid-window
		<-ctx.Done()
		return ctx.Err()
	})
	if err == nil {
		t.Fatal("IngestWindow succeeded after its context was cancelled")
	}
	var n int
	if err := db.NewRaw("SELECT count(*) FROM measurements WHERE metering_point_id = ?", mp.ID).Scan(t.Context(), &n); err != nil || n != 0 {
		t.Fatalf("after the crash %d rows are stored (%v), want 0", n, err)
	}
	var until *time.Time
	_ = db.NewRaw("SELECT imported_until FROM metering_points WHERE id = ?", mp.ID).Scan(t.Context(), &until)
	if until != nil {
		t.Fatalf("imported_until advanced to %v by a failed window", until)
	}

	res, err := datahub.IngestWindow(t.Context(), db.DB, w, func(ctx context.Context, sink eloverblik.Sink) error {
		for i := range 72 {
			if err := sink.Reading(reading(i)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("retry: %v", err)
	}
	if res.Read != 72 || res.Written != 72 || res.Rejected != 0 {
		t.Fatalf("retry result = %+v, want 72 read and written", res)
	}
	var sum int64
	if err := db.NewRaw("SELECT count(*), sum(amount_wh) FROM measurements WHERE metering_point_id = ?", mp.ID).Scan(t.Context(), &n, &sum); err != nil {
		t.Fatal(err)
	}
	// 100 + 101 + ... + 171
	if n != 72 || sum != 72*100+71*72/2 {
		t.Fatalf("after the retry: %d rows summing %d, want 72 rows summing %d", n, sum, 72*100+71*72/2)
	}
}

func TestIngestRejectsBadReadings(t *testing.T) {
	e := newEnv(t, sim.Options{Seed: 3})
	db := testkit.DB(t)
	u := e.newUser(t)
	mp := models.MeteringPoint{UserID: u.ID, GSRN: "571313100000000027", Type: models.MeteringPointConsumption, Sector: models.SectorDK2}
	if _, err := db.NewInsert().Model(&mp).Exec(t.Context()); err != nil {
		t.Fatal(err)
	}
	from := first
	if _, err := datahub.EnsurePartitions(t.Context(), db, from, from.Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	w := datahub.Window{MeteringPointID: mp.ID, GSRN: mp.GSRN, From: from, To: from.Add(24 * time.Hour)}
	r := func(gsrn string, begin time.Time, wh int64) eloverblik.Reading {
		return eloverblik.Reading{GSRN: gsrn, Begin: begin, Wh: wh}
	}
	res, err := datahub.IngestWindow(t.Context(), db.DB, w, func(ctx context.Context, sink eloverblik.Sink) error {
		for _, rd := range []eloverblik.Reading{
			r(mp.GSRN, from, 10),                              // ok
			r(mp.GSRN, from, 11),                              // duplicate hour
			r(mp.GSRN, from.Add(-time.Hour), 10),              // before the window
			r(mp.GSRN, from.Add(24*time.Hour), 10),            // after it
			r(mp.GSRN, from.Add(90*time.Minute), 10),          // not on the hour
			r(mp.GSRN, from.Add(2*time.Hour), -5),             // negative
			r("571313100000000035", from.Add(3*time.Hour), 1), // another point's
			r(mp.GSRN, from.Add(4*time.Hour), 40),             // ok
		} {
			if err := sink.Reading(rd); err != nil {
				return err
			}
		}
		return sink.Problem(&eloverblik.ReadingError{Kind: eloverblik.ProblemMissingQuantity, GSRN: mp.GSRN, Position: 6})
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Read != 9 || res.Written != 2 || res.Rejected != 7 || len(res.Problems) != 7 {
		t.Fatalf("result = %+v, want 9 read, 2 written, 7 rejected with reasons", res)
	}
	var sum int64
	if err := db.NewRaw("SELECT sum(amount_wh) FROM measurements WHERE metering_point_id = ?", mp.ID).Scan(t.Context(), &sum); err != nil || sum != 50 {
		t.Fatalf("stored sum = %d, %v; want 50", sum, err)
	}
}

func TestTenancy(t *testing.T) {
	e := newEnv(t, sim.Options{Seed: 5})
	e.runWorker(t)
	alice, bob := e.newUser(t), e.newUser(t)
	e.onboard(t, alice.ID)
	waitJobsDone(t, alice.ID)
	ctx := t.Context()
	ids, err := e.svc.MeteringPointIDs(ctx, alice.ID)
	if err != nil || len(ids) == 0 {
		t.Fatalf("alice has %d points, %v", len(ids), err)
	}
	mps, err := e.svc.MeteringPointsByIDs(ctx, alice.ID, ids)
	if err != nil {
		t.Fatal(err)
	}
	var gsrn string
	for _, mp := range mps {
		gsrn = mp.GSRN
	}
	if got, err := e.svc.MeteringPointsByIDs(ctx, bob.ID, ids); err != nil || len(got) != 0 {
		t.Fatalf("bob loads alice's points by id: %d, %v", len(got), err)
	}
	if _, err := e.svc.MeteringPointByGSRN(ctx, bob.ID, gsrn); !errors.Is(err, datahub.ErrNotFound) {
		t.Fatalf("bob finds alice's point by GSRN: %v", err)
	}
	if _, err := e.svc.QueueMeasurementImport(ctx, bob.ID, ids[0]); !errors.Is(err, datahub.ErrNotFound) {
		t.Fatalf("bob queues an import of alice's point: %v", err)
	}
	for _, f := range []datahub.MeasurementFilter{{}, {MeteringPointIDs: ids}, {Points: datahub.MeteringPointFilter{GSRNs: []string{gsrn}}}} {
		conn, err := e.svc.Measurements(ctx, bob.ID, f, relayFirst(10))
		if err != nil || len(conn.Edges) != 0 {
			t.Fatalf("bob reads %d of alice's measurements with %+v (%v)", len(conn.Edges), f, err)
		}
		series, err := e.svc.Series(ctx, bob.ID, f, datahub.Day, nil, "")
		if err != nil || len(series) != 0 {
			t.Fatalf("bob sums alice's measurements: %d rows (%v)", len(series), err)
		}
	}
	conn, err := e.svc.Measurements(ctx, alice.ID, datahub.MeasurementFilter{}, relayFirst(10))
	if err != nil || len(conn.Edges) != 10 {
		t.Fatalf("alice reads %d of her own measurements (%v), want 10", len(conn.Edges), err)
	}
}
