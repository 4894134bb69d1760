package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"runtime/pprof"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/originhub/originhub/internal/agreement"
	"github.com/originhub/originhub/internal/app"
	"github.com/originhub/originhub/internal/config"
	"github.com/originhub/originhub/internal/db"
	"github.com/originhub/originhub/internal/facility"
	"github.com/originhub/originhub/migrations"
	"github.com/originhub/originhub/models"
)

// ConsumeResult is the line `originhub bench consume` prints.
type ConsumeResult struct {
	Hours           int     `json:"hours"`
	GGOs            int64   `json:"ggos"`
	ConsumeGgosPerS float64 `json:"consume_ggos_per_s"`
}

// ConsumeOptions size the consumption benchmark.
type ConsumeOptions struct {
	Hours   int // default one month (744)
	Workers int // concurrent ConsumePeriod calls, each over its share of the hours (default 1)
	RedisDB int // the platform's queue DB index, flushed before and after; negative: lease a free one
	// CPUProfile, when set, receives a CPU profile of the timed part.
	CPUProfile io.Writer
	// CPUReport, when set, receives one line on the CPU use of the timed part (see cpuSince).
	CPUReport io.Writer
	// LedgerLive keeps submitting batches to the in-process ledger stand-in while
	// consumption is timed (by default they are submitted after).
	LedgerLive bool
}

// Consume measures automatic consumption: a user with wind and solar production (one GGO
// per plant and hour), three consumption facilities by priority and three outbound
// agreements (fixed with a technology filter, percent with a facility filter,
// limit-to-consumption) has every hour of a month consumed by ConsumePeriod, as the
// platform's trigger does when a month of production is published. The timed part is the
// consumption operations (database transactions and ledger batches written to the outbox);
// the ledger then settles untimed and must refuse nothing. Unless LedgerLive is set, the
// worker that submits batches to the ledger pauses meanwhile (see below).
func Consume(ctx context.Context, lookup config.Lookup, log *slog.Logger, o ConsumeOptions) (ConsumeResult, error) {
	if o.Hours <= 0 {
		o.Hours = 31 * 24
	}
	if o.Workers <= 0 {
		o.Workers = 1
	}
	res := ConsumeResult{Hours: o.Hours}
	base, err := config.Load(lookup)
	if err != nil {
		return res, fmt.Errorf("configuration: %w", err)
	}
	if o.RedisDB < 0 {
		// Leased like a test package's (internal/testkit): a fixed index would flush the
		// queues of tests running meanwhile.
		db, unlease, err := leaseRedisDB(ctx, redis.Options{Addr: base.Redis.Addr, Username: base.Redis.Username, Password: base.Redis.Password.Reveal()})
		if err != nil {
			return res, err
		}
		defer unlease()
		o.RedisDB = db
	}
	u, err := url.Parse(base.Database.URI)
	if err != nil {
		return res, fmt.Errorf("DATABASE_URI: %w", err)
	}
	var rnd [5]byte
	_, _ = rand.Read(rnd[:])
	u.Path = "/originhub_bench_" + hex.EncodeToString(rnd[:])
	uri := u.String()
	if _, err := db.EnsureDatabase(ctx, uri); err != nil {
		return res, err
	}
	defer func() {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		if err := db.DropDatabase(dctx, uri); err != nil {
			log.Warn("bench database not dropped", "error", err)
		}
	}()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return res, err
	}
	over := map[string]string{
		"DATABASE_URI": uri, "HTTP_ADDR": ln.Addr().String(), "PROJECT_URL": "http://" + ln.Addr().String(),
		"REDIS_CACHE_DB": strconv.Itoa(o.RedisDB), "REDIS_BROKER_DB": strconv.Itoa(o.RedisDB),
		"AUTH_JWKS_URL": "", "AUTH_ISSUER": "", "LEDGER_URL": "", "RATE_LIMIT_PER_MINUTE": "0",
		"CONCURRENCY": "16", "DATABASE_CONN_POLL_SIZE": "40", "LEDGER_COMMIT_DELAY": "5ms",
	}
	cfg, err := config.Load(func(k string) (string, bool) {
		if v, ok := over[k]; ok {
			return v, true
		}
		return lookup(k)
	})
	if err != nil {
		ln.Close()
		return res, fmt.Errorf("configuration: %w", err)
	}
	rdb := redis.NewClient(&redis.Options{Addr: cfg.Redis.Addr, Username: cfg.Redis.Username, Password: cfg.Redis.Password.Reveal(), DB: o.RedisDB})
	defer rdb.Close()
	if err := rdb.FlushDB(ctx).Err(); err != nil {
		ln.Close()
		return res, fmt.Errorf("flush bench redis db %d: %w", o.RedisDB, err)
	}
	defer rdb.FlushDB(context.WithoutCancel(ctx))
	if err := migrate(ctx, uri); err != nil {
		ln.Close()
		return res, err
	}
	a, err := app.New(ctx, cfg, log)
	if err != nil {
		ln.Close()
		return res, err
	}
	defer a.Close()
	// The benchmark times consumption itself, not the triggers' queueing.
	a.Account.SetConsumeTrigger(nil)
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- a.RunRoles(runCtx, app.Roles{API: true}, ln) }()
	defer func() { stop(); <-done }()
	// The worker (ledger submission and polling) runs apart, so that it can pause while
	// consumption is timed.
	worker := func() func() {
		wctx, wstop := context.WithCancel(runCtx)
		wdone := make(chan struct{})
		go func() {
			defer close(wdone)
			if err := a.RunWorker(wctx); err != nil {
				log.Error("bench worker", "error", err)
			}
		}()
		return func() { wstop(); <-wdone }
	}
	stopWorker := worker()
	defer func() { stopWorker() }()

	begin := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	owner, err := consumeWorld(ctx, a, begin, o.Hours)
	if err != nil {
		return res, err
	}
	// As the platform's trigger does (tasks.HandleConsume): the month's hours are due at once
	// (their publication committed), and ConsumePeriod consumes them. Workers > 1 splits the
	// month between that many concurrent calls, as overlapping triggers would.
	if !o.LedgerLive {
		// In production the ledger is another service on other machines; here its
		// stand-in would verify every batch's signatures on the same two cores while
		// consumption is timed. The batches wait in the outbox and queue instead.
		stopWorker()
		stopWorker = func() {}
	}
	spans := splitHours(begin, o.Hours, o.Workers)
	errs := make([]error, len(spans))
	var wg sync.WaitGroup
	if o.CPUProfile != nil {
		if err := pprof.StartCPUProfile(o.CPUProfile); err != nil {
			return res, err
		}
	}
	cpu := markCPU()
	start := time.Now()
	for i, sp := range spans {
		wg.Go(func() {
			if _, err := a.Account.ConsumePeriod(ctx, owner, sp[0], sp[1]); err != nil {
				errs[i] = fmt.Errorf("consume %s to %s: %w", sp[0].Format(time.RFC3339), sp[1].Format(time.RFC3339), err)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if o.CPUReport != nil {
		fmt.Fprintln(o.CPUReport, cpuSince(cpu))
	}
	if o.CPUProfile != nil {
		pprof.StopCPUProfile()
	}
	if err := errors.Join(errs...); err != nil {
		return res, err
	}
	if err := a.DB.NewRaw("SELECT count(DISTINCT ggo_id) FROM consumption_entries WHERE user_id = ?", owner).Scan(ctx, &res.GGOs); err != nil {
		return res, fmt.Errorf("count consumed ggos: %w", err)
	}
	res.ConsumeGgosPerS = float64(res.GGOs) / elapsed.Seconds()
	if !o.LedgerLive {
		stopWorker = worker()
	}
	if err := settle(ctx, a, 10*time.Minute); err != nil {
		return res, err
	}
	var invalid int
	if err := a.DB.NewRaw("SELECT count(*) FROM ggo_operations WHERE state <> 'COMMITTED'").Scan(ctx, &invalid); err != nil || invalid > 0 {
		return res, fmt.Errorf("%d consumption operations not committed (%v)", invalid, err)
	}
	return res, nil
}

// consumeWorld publishes hours of wind and solar production and of consumption at three
// facilities and at three counterparts, waits for the ledger, then sets the owner's
// priorities and agreements. It returns the owner.
func consumeWorld(ctx context.Context, a *app.App, begin time.Time, hours int) (int64, error) {
	end := begin.Add(time.Duration(hours) * time.Hour)
	if _, err := a.DB.ExecContext(ctx, "SELECT ensure_measurement_partitions(?, ?)", begin, end); err != nil {
		return 0, err
	}
	var us []models.User
	for i := range 4 {
		u, err := a.Users.Ensure(ctx, fmt.Sprintf("bench-consume-%d", i))
		if err != nil {
			return 0, err
		}
		us = append(us, u)
	}
	owner := us[0].ID
	type mpSpec struct {
		user                   int64
		typ, tech, fuel        string
		amount                 func(h int) int64
		priorityFacility, wind bool
		id                     int64
		gsrn                   string
	}
	specs := []*mpSpec{
		{user: owner, typ: "PRODUCTION", tech: "T020000", fuel: "F01050100", amount: func(h int) int64 { return 5000 + int64(h%7)*1000 }, wind: true},
		{user: owner, typ: "PRODUCTION", tech: "T010000", fuel: "F01040100", amount: func(h int) int64 { return int64(h%24) * 300 }},
	}
	for i := range 3 {
		specs = append(specs, &mpSpec{user: owner, typ: "CONSUMPTION", amount: func(h int) int64 { return 500 + int64((h+i)%5)*200 }, priorityFacility: true})
	}
	for _, c := range us[1:] {
		specs = append(specs, &mpSpec{user: c.ID, typ: "CONSUMPTION", amount: func(h int) int64 { return 1000 }, priorityFacility: true})
	}
	for i, s := range specs {
		s.gsrn = fmt.Sprintf("5798%014d", i)
		var tc, fc any
		if s.tech != "" {
			tc, fc = s.tech, s.fuel
		}
		if err := a.DB.NewRaw("INSERT INTO metering_points (user_id, gsrn, type, sector, technology_code, fuel_code) VALUES (?, ?, ?, 'DK1', ?, ?) RETURNING id",
			s.user, s.gsrn, s.typ, tc, fc).Scan(ctx, &s.id); err != nil {
			return 0, fmt.Errorf("create metering point: %w", err)
		}
		if _, err := a.DB.ExecContext(ctx, `INSERT INTO measurements (metering_point_id, begin_at, amount_wh)
			SELECT ?, ?::timestamptz + h * interval '1 hour', 0 FROM generate_series(0, ? - 1) h`, s.id, begin, hours); err != nil {
			return 0, fmt.Errorf("create measurements: %w", err)
		}
		for h := range hours {
			if _, err := a.DB.ExecContext(ctx, "UPDATE measurements SET amount_wh = ? WHERE metering_point_id = ? AND begin_at = ?",
				s.amount(h), s.id, begin.Add(time.Duration(h)*time.Hour)); err != nil {
				return 0, err
			}
		}
		if _, err := a.Publisher.PublishMeasurements(ctx, s.id, begin, end); err != nil {
			return 0, fmt.Errorf("publish: %w", err)
		}
	}
	if err := settle(ctx, a, 10*time.Minute); err != nil {
		return 0, err
	}
	fs := facility.NewService(a.DB)
	byUser := map[int64][]int64{}
	for _, s := range specs {
		if s.priorityFacility {
			byUser[s.user] = append(byUser[s.user], s.id)
		}
	}
	for u, ids := range byUser {
		if err := fs.SetRetiringPriority(ctx, u, ids); err != nil {
			return 0, err
		}
	}
	ag := agreement.NewService(a.DB, a.Clock)
	amount, unit, pct := int64(2), models.UnitKWh, 30
	for i, in := range []agreement.ProposeInput{
		{Amount: &amount, Unit: &unit, Technologies: []string{"Solar"}},
		{AmountPercent: &pct, FacilityGSRNs: []string{specs[0].gsrn}},
		{LimitToConsumption: true},
	} {
		in.Direction, in.CounterpartID, in.Reference = agreement.Outbound, us[i+1].ID, fmt.Sprintf("bench-%d", i)
		in.DateFrom, in.DateTo = begin.AddDate(0, 0, -1), end.AddDate(0, 0, 1)
		p, err := ag.Propose(ctx, owner, in)
		if err != nil {
			return 0, err
		}
		if _, err := ag.Respond(ctx, us[i+1].ID, p.ID, agreement.RespondInput{Accept: true}); err != nil {
			return 0, err
		}
	}
	return owner, nil
}

// splitHours divides hours from begin into n spans [from, until) of whole hours.
func splitHours(begin time.Time, hours, n int) [][2]time.Time {
	n = max(1, min(n, hours))
	out := make([][2]time.Time, n)
	for i := range n {
		out[i] = [2]time.Time{begin.Add(time.Duration(hours*i/n) * time.Hour), begin.Add(time.Duration(hours*(i+1)/n) * time.Hour)}
	}
	return out
}

func migrate(ctx context.Context, uri string) error {
	d, err := db.Open(ctx, db.Options{URI: uri, PoolSize: 2})
	if err != nil {
		return err
	}
	defer d.Close()
	_, err = migrations.Up(ctx, d)
	return err
}

// settle waits until no ledger batch is open.
func settle(ctx context.Context, a *app.App, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		var open int
		if err := a.DB.NewRaw("SELECT count(*) FROM ledger_batches WHERE status NOT IN ('COMMITTED', 'INVALID')").Scan(ctx, &open); err != nil {
			return err
		}
		if open == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d ledger batches still open after %s", open, timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
