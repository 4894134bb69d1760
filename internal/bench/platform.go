package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/originhub/originhub/internal/app"
	"github.com/originhub/originhub/internal/config"
	"github.com/originhub/originhub/internal/db"
	"github.com/originhub/originhub/migrations"
)

// benchDatabase creates and migrates a database originhub_bench_<random> on the server of
// DATABASE_URI (read through lookup) and returns its URI and a function that drops it.
func benchDatabase(ctx context.Context, lookup config.Lookup, log *slog.Logger) (string, func(), error) {
	base, err := config.Load(lookup)
	if err != nil {
		return "", nil, fmt.Errorf("configuration: %w", err)
	}
	u, err := url.Parse(base.Database.URI)
	if err != nil {
		return "", nil, fmt.Errorf("DATABASE_URI: %w", err)
	}
	var rnd [5]byte
	_, _ = rand.Read(rnd[:])
	u.Path = "/originhub_bench_" + hex.EncodeToString(rnd[:])
	uri := u.String()
	if _, err := db.EnsureDatabase(ctx, uri); err != nil {
		return "", nil, err
	}
	drop := func() {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		if err := db.DropDatabase(dctx, uri); err != nil {
			log.Warn("bench database not dropped", "error", err)
		}
	}
	d, err := db.Open(ctx, db.Options{URI: uri, PoolSize: 2})
	if err != nil {
		drop()
		return "", nil, err
	}
	defer d.Close()
	if _, err := migrations.Up(ctx, d); err != nil {
		drop()
		return "", nil, err
	}
	return uri, drop, nil
}

// platform is OriginHub (API, worker and stand-in ledger) running in-process on a bench
// database, listening on addr.
type platform struct {
	app  *app.App
	addr string
	stop func()
}

// startPlatform runs the platform on the database uri with its queues and pub/sub in Redis
// DB redisDB, which is flushed before and after; a negative redisDB leases a free index the
// way test packages do (internal/testkit), so that tests running meanwhile never flush the
// benchmark's queues. over sets configuration on top of lookup. The caller calls stop.
func startPlatform(ctx context.Context, lookup config.Lookup, log *slog.Logger, uri string, redisDB int, over map[string]string) (*platform, error) {
	unlease := func() {}
	if redisDB < 0 {
		base, err := config.Load(lookup)
		if err != nil {
			return nil, fmt.Errorf("configuration: %w", err)
		}
		if redisDB, unlease, err = leaseRedisDB(ctx, redis.Options{Addr: base.Redis.Addr, Username: base.Redis.Username, Password: base.Redis.Password.Reveal()}); err != nil {
			return nil, err
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		unlease()
		return nil, err
	}
	env := map[string]string{
		"DATABASE_URI": uri, "HTTP_ADDR": ln.Addr().String(), "PROJECT_URL": "http://" + ln.Addr().String(),
		"REDIS_CACHE_DB": strconv.Itoa(redisDB), "REDIS_BROKER_DB": strconv.Itoa(redisDB),
		"AUTH_JWKS_URL": "", "AUTH_ISSUER": "", "LEDGER_URL": "", "RATE_LIMIT_PER_MINUTE": "0",
		"CONCURRENCY": "32", "DATABASE_CONN_POLL_SIZE": "40",
	}
	// Tuning runs may set these from the environment.
	for _, k := range []string{"CONCURRENCY", "DATABASE_CONN_POLL_SIZE"} {
		if v, ok := lookup(k); ok {
			env[k] = v
		}
	}
	for k, v := range over {
		env[k] = v
	}
	cfg, err := config.Load(func(k string) (string, bool) {
		if v, ok := env[k]; ok {
			return v, true
		}
		return lookup(k)
	})
	if err != nil {
		unlease()
		ln.Close()
		return nil, fmt.Errorf("configuration: %w", err)
	}
	rdb := redis.NewClient(&redis.Options{Addr: cfg.Redis.Addr, Username: cfg.Redis.Username, Password: cfg.Redis.Password.Reveal(), DB: redisDB})
	if err := rdb.FlushDB(ctx).Err(); err != nil {
		unlease()
		rdb.Close()
		ln.Close()
		return nil, fmt.Errorf("flush bench redis db %d: %w", redisDB, err)
	}
	a, err := app.New(ctx, cfg, log)
	if err != nil {
		unlease()
		rdb.Close()
		ln.Close()
		return nil, err
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- a.RunRoles(runCtx, app.Roles{API: true, Worker: true}, ln) }()
	stop := func() {
		cancel()
		<-done
		a.Close()
		_ = rdb.FlushDB(context.WithoutCancel(ctx)).Err()
		rdb.Close()
		unlease()
	}
	return &platform{app: a, addr: ln.Addr().String(), stop: stop}, nil
}

// leaseRedisDB claims a free Redis DB index in 3..15 with the lease key test packages use
// (internal/testkit), and returns it with the function that frees it.
func leaseRedisDB(ctx context.Context, opt redis.Options) (int, func(), error) {
	c := redis.NewClient(&opt)
	owner := fmt.Sprintf("bench-%d-%d", os.Getpid(), time.Now().UnixNano())
	deadline := time.Now().Add(time.Minute)
	for {
		for n := 3; n <= 15; n++ {
			key := fmt.Sprintf("originhub:testkit:redis-db:%d", n)
			ok, err := c.SetNX(ctx, key, owner, 2*time.Hour).Result()
			if err != nil {
				c.Close()
				return 0, nil, fmt.Errorf("lease redis db: %w", err)
			}
			if ok {
				return n, func() {
					_ = c.Del(context.WithoutCancel(ctx), key).Err()
					c.Close()
				}, nil
			}
		}
		if time.Now().After(deadline) {
			c.Close()
			return 0, nil, errors.New("lease redis db: no free index in 3..15 within a minute")
		}
		select {
		case <-ctx.Done():
			c.Close()
			return 0, nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}
