// Package app wires OriginHub's parts together for each role of the binary: it is the one
// composition root, used by server.go and by end-to-end tests.
package app

import (
	"context"
	"errors"
	"fmt"
	"github.com/originhub/originhub/internal/account"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/uptrace/bun"
	"golang.org/x/sync/errgroup"

	"github.com/originhub/originhub/internal/agreement"
	"github.com/originhub/originhub/internal/api"
	"github.com/originhub/originhub/internal/auth"
	"github.com/originhub/originhub/internal/config"
	"github.com/originhub/originhub/internal/datahub"
	"github.com/originhub/originhub/internal/db"
	"github.com/originhub/originhub/internal/disclosure"
	"github.com/originhub/originhub/internal/download"
	"github.com/originhub/originhub/internal/eco"
	"github.com/originhub/originhub/internal/eloverblik"
	"github.com/originhub/originhub/internal/eloverblik/sim"
	"github.com/originhub/originhub/internal/facility"
	"github.com/originhub/originhub/internal/forecast"
	"github.com/originhub/originhub/internal/graphiql"
	"github.com/originhub/originhub/internal/ledger/outbox"
	"github.com/originhub/originhub/internal/ledger/publish"
	"github.com/originhub/originhub/internal/ledger/standin"
	"github.com/originhub/originhub/internal/ledger/wallet"
	"github.com/originhub/originhub/internal/pubsub"
	"github.com/originhub/originhub/internal/statistics"
	"github.com/originhub/originhub/internal/technology"
	"github.com/originhub/originhub/internal/user"
	"github.com/originhub/originhub/internal/webhook"
	"github.com/originhub/originhub/resolvers"
	"github.com/originhub/originhub/tasks"
)

// App holds the connections and services of one process.
type App struct {
	Config  config.Config
	Log     *slog.Logger
	DB      *bun.DB
	Redis   *redis.Client
	Bus     *pubsub.Bus
	Metrics *api.Metrics
	Clock   func() time.Time

	// DevIssuer mints tokens when no external issuer is configured; nil otherwise.
	DevIssuer *auth.DevIssuer
	verifier  *auth.Verifier

	Users   *user.Service
	DataHub *datahub.Service
	// Simulator is the ElOverblik simulator when it is served here; nil otherwise.
	Simulator *sim.Simulator
	Tasks     *asynq.Client
	// Webhooks sends users' outgoing webhooks; domains Emit into it in their transactions.
	Webhooks *webhook.Service

	// Ledger: wallets, the outbox, measurement publication, and the stand-in ledger when
	// LEDGER_URL is empty (nil otherwise).
	Wallets   *wallet.Service
	Outbox    *outbox.Service
	Publisher *publish.Service
	Standin   *standin.Ledger
	Account   *account.Service
	// Eco computes declarations; Signer signs report download links.
	Eco         *eco.Service
	Signer      *download.Signer
	Disclosures *disclosure.Service
	// Agreements and Forecasts serve issue #7's trade agreements and forecast series.
	Agreements *agreement.Service
	Forecasts  *forecast.Service

	redisOpt asynq.RedisClientOpt
	closers  []func() error
}

// New opens the database and Redis and builds the services. It does not migrate.
func New(ctx context.Context, cfg config.Config, log *slog.Logger) (*App, error) {
	a := &App{Config: cfg, Log: log, Metrics: api.NewMetrics(), Clock: func() time.Time { return time.Now().UTC() }}
	var err error
	a.DB, err = db.Open(ctx, db.Options{URI: cfg.Database.URI, PoolSize: cfg.Database.PoolSize, Debug: cfg.Debug, Logger: log})
	if err != nil {
		return nil, err
	}
	a.closers = append(a.closers, a.DB.Close)

	a.Redis = redis.NewClient(&redis.Options{
		Addr: cfg.Redis.Addr, Username: cfg.Redis.Username, Password: cfg.Redis.Password.Reveal(), DB: cfg.Redis.CacheDB,
		DialTimeout: 5 * time.Second, ReadTimeout: 3 * time.Second, WriteTimeout: 3 * time.Second,
	})
	a.closers = append(a.closers, a.Redis.Close)
	pingCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := a.Redis.Ping(pingCtx).Err(); err != nil {
		a.Close()
		return nil, fmt.Errorf("connect to redis at %s: %w", cfg.Redis.Addr, err)
	}
	a.redisOpt = asynq.RedisClientOpt{
		Addr: cfg.Redis.Addr, Username: cfg.Redis.Username, Password: cfg.Redis.Password.Reveal(), DB: cfg.Redis.BrokerDB,
	}
	a.Bus = pubsub.New(a.Redis, log)
	a.closers = append(a.closers, a.Bus.Close)
	a.Users = user.NewService(a.DB)
	a.Tasks = asynq.NewClientFromRedisClient(redis.NewClient(&redis.Options{
		Addr: cfg.Redis.Addr, Username: cfg.Redis.Username, Password: cfg.Redis.Password.Reveal(), DB: cfg.Redis.BrokerDB,
	}))
	a.closers = append(a.closers, a.Tasks.Close)

	if err := a.setUpAuth(ctx); err != nil {
		a.Close()
		return nil, err
	}
	if err := a.setUpDataHub(ctx); err != nil {
		a.Close()
		return nil, err
	}
	if err := a.setUpLedger(ctx); err != nil {
		a.Close()
		return nil, err
	}
	a.Webhooks, err = webhook.NewService(a.DB, webhook.Config{
		DefaultSecret:       cfg.Webhook.Secret.Reveal(),
		SealSecret:          cfg.Secret.Reveal(),
		AllowPrivateTargets: cfg.Webhook.AllowPrivateTargets,
	}, tasks.Enqueuer{Client: a.Tasks}, log.With("component", "webhook"), a.Clock)
	if err != nil {
		a.Close()
		return nil, err
	}
	a.Account.SetWebhooks(a.Webhooks)
	a.Agreements = agreement.NewService(a.DB, a.Clock)
	a.Forecasts = forecast.NewService(a.DB, a.Webhooks, a.Bus, log.With("component", "forecast"))
	a.Account.SetConsumeTrigger(tasks.Enqueuer{Client: a.Tasks}.EnqueueConsume)
	a.setUpReports()
	return a, nil
}

func (a *App) setUpDataHub(ctx context.Context) error {
	ecfg := a.Config.ElOverblik
	refresh := ecfg.Token.Reveal()
	if ecfg.Simulator {
		a.Simulator = sim.New(sim.Options{Seed: 1, Clock: a.Clock, ThirdPartyName: "OriginHub"})
		if refresh == "" {
			refresh = "originhub-dev-refresh-token" // the simulator takes any refresh token
		}
		// The simulator keeps consents in memory; give back those granted before a restart.
		var keys []string
		if err := a.DB.NewRaw("SELECT customer_key FROM eloverblik_links WHERE state = 'GRANTED'").Scan(ctx, &keys); err != nil {
			return fmt.Errorf("restore simulator consents: %w", err)
		}
		for _, k := range keys {
			a.Simulator.Grant(k)
		}
	}
	client, err := eloverblik.New(eloverblik.Config{
		BaseURL: ecfg.BaseURL(a.Config.ProjectURL), RefreshToken: refresh, Clock: a.Clock, Logger: a.Log.With("component", "eloverblik"),
	})
	if err != nil {
		return fmt.Errorf("eloverblik client: %w", err)
	}
	a.DataHub = datahub.NewService(a.DB, client, datahub.Config{
		FirstMeasurementTime: a.Config.Import.FirstMeasurementTime,
		LastMeasurementTime:  a.Config.Import.LastMeasurementTime,
		OnboardingURL:        ecfg.Onboarding(a.Config.ProjectURL),
		ThirdPartyID:         ecfg.ThirdPartyID,
		CallbackURL:          strings.TrimSuffix(a.Config.ProjectURL.String(), "/") + "/onboarding/callback",
		AccessFrom:           ecfg.AccessFrom,
		AccessTo:             ecfg.AccessTo,
	}, tasks.Enqueuer{Client: a.Tasks}, a.Bus, a.Log.With("component", "datahub"), a.Clock)
	return nil
}

func (a *App) setUpAuth(ctx context.Context) error {
	vcfg := auth.VerifierConfig{
		JWKSURL: a.Config.Auth.JWKSURL, Issuer: a.Config.Auth.Issuer, Audience: a.Config.Auth.Audience, Logger: a.Log,
	}
	if a.Config.Auth.DevMode() {
		iss, err := auth.NewDevIssuer(ctx, dbKeyStore{db: a.DB}, auth.DevIssuerConfig{
			Issuer: a.Config.Auth.Issuer, Audience: a.Config.Auth.Audience, Clock: a.Clock,
		})
		if err != nil {
			return fmt.Errorf("dev token issuer: %w", err)
		}
		a.DevIssuer = iss
		vcfg = iss.VerifierConfig()
	}
	// The verifier's background JWKS refresh lives as long as the process, not the request
	// that happened to build it.
	v, err := auth.NewVerifier(context.WithoutCancel(ctx), vcfg)
	if err != nil {
		return fmt.Errorf("token verifier: %w", err)
	}
	a.verifier = v
	a.closers = append(a.closers, func() error { return v.Close(context.Background()) })
	return nil
}

// Close releases every connection, in reverse order of opening.
func (a *App) Close() error {
	var errs []error
	for i := len(a.closers) - 1; i >= 0; i-- {
		errs = append(errs, a.closers[i]())
	}
	a.closers = nil
	return errors.Join(errs...)
}

// Resolver returns the GraphQL resolver root.
func (a *App) Resolver() *resolvers.Resolver {
	return &resolvers.Resolver{
		Users:             a.Users,
		TechnologyService: technology.NewService(a.DB),
		Batches:           outbox.NewStore(a.DB),
		DataHub:           a.DataHub,
		Webhooks:          a.Webhooks,
		Publications:      publish.NewStore(a.DB),
		Account:           a.Account,
		FacilityService:   facility.NewService(a.DB),
		Bus:               a.Bus,
		Log:               a.Log,
		Eco:               a.Eco,
		Downloads:         a.Signer,
		DisclosureService: a.Disclosures,
		PublicURL:         strings.TrimSuffix(a.Config.ProjectURL.String(), "/"),
		StatisticsService: statistics.NewService(a.DB),
		AgreementService:  a.Agreements,
		ForecastService:   a.Forecasts,
	}
}

// Handler returns the HTTP handler of the API role, with the dev endpoints when the
// corresponding real services are not configured.
func (a *App) Handler() http.Handler {
	mounts := map[string]http.Handler{
		"/graphiql/": http.StripPrefix("/graphiql", graphiql.Handler(graphiql.Options{})),
	}
	if a.DevIssuer != nil {
		mounts["GET /.well-known/jwks.json"] = a.DevIssuer.JWKSHandler()
	}
	if a.Simulator != nil {
		mounts["/sim/eloverblik/"] = http.StripPrefix("/sim/eloverblik", a.Simulator.Handler())
	}
	mounts["GET /onboarding/callback"] = a.DataHub.CallbackHandler()
	for pattern, h := range a.downloadRoutes() {
		mounts[pattern] = h
	}
	if a.Standin != nil {
		mounts[StandinPrefix+"/"] = http.StripPrefix(StandinPrefix, a.Standin.Handler())
	}
	return api.New(api.Deps{
		Config:   a.Config.HTTP,
		Log:      a.Log,
		DB:       a.DB,
		Redis:    a.Redis,
		Resolver: a.Resolver(),
		Users:    a.Users,
		Metrics:  a.Metrics,
		Authenticate: func(ctx context.Context, authorization string) (string, error) {
			s, err := a.verifier.VerifyHeader(ctx, authorization)
			return s.ID, err
		},
		Mounts: mounts,
	})
}

// ServeAPI serves the API on ln until ctx ends, then drains in-flight requests.
func (a *App) ServeAPI(ctx context.Context, ln net.Listener) error {
	inspector := asynq.NewInspector(a.redisOpt)
	defer inspector.Close()
	if err := a.Metrics.RegisterQueues(inspector); err != nil {
		return fmt.Errorf("register queue metrics: %w", err)
	}
	srv := api.Server(a.Config.HTTP, a.Handler(), a.Log)
	// Subscriptions end with the process: cancel their contexts on shutdown.
	srv.BaseContext = func(net.Listener) context.Context { return ctx }
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	a.Log.InfoContext(ctx, "api listening", "addr", ln.Addr().String())
	select {
	case err := <-errc:
		return fmt.Errorf("serve http: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.Config.HTTP.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("drain http: %w", err)
	}
	a.Log.Info("api stopped")
	return nil
}

// RunWorker processes tasks until ctx ends, then lets running tasks finish (up to the
// shutdown timeout) and stops.
func (a *App) RunWorker(ctx context.Context) error {
	srv := tasks.NewServer(a.redisOpt, tasks.ServerConfig{
		Concurrency: a.Config.Worker.Concurrency, ShutdownTimeout: a.Config.HTTP.ShutdownTimeout,
	}, a.Log)
	mux := tasks.NewMux(&tasks.Handlers{DB: a.DB, Log: a.Log, Clock: a.Clock, DataHub: a.DataHub, Outbox: a.Outbox, Publisher: a.Publisher, Account: a.Account, Webhooks: a.Webhooks, Disclosures: a.Disclosures})
	if err := srv.Start(mux); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	a.Log.InfoContext(ctx, "worker started", "concurrency", a.Config.Worker.Concurrency)
	polled := make(chan struct{})
	go func() {
		defer close(polled)
		_ = a.Outbox.RunPoller(ctx)
	}()
	<-ctx.Done()
	<-polled
	srv.Shutdown()
	a.Log.Info("worker stopped")
	return nil
}

// RunScheduler enqueues the periodic tasks until ctx ends.
func (a *App) RunScheduler(ctx context.Context) error {
	s, err := tasks.NewScheduler(a.redisOpt, a.Log)
	if err != nil {
		return err
	}
	if err := s.Start(); err != nil {
		return fmt.Errorf("start scheduler: %w", err)
	}
	a.Log.InfoContext(ctx, "scheduler started")
	<-ctx.Done()
	s.Shutdown()
	a.Log.Info("scheduler stopped")
	return nil
}

// Roles selects what RunRoles runs.
type Roles struct{ API, Worker, Scheduler bool }

// RunRoles runs the selected roles until ctx ends or one fails; ln is the API listener.
func (a *App) RunRoles(ctx context.Context, r Roles, ln net.Listener) error {
	g, ctx := errgroup.WithContext(ctx)
	if r.API {
		g.Go(func() error { return a.ServeAPI(ctx, ln) })
	}
	if r.Worker {
		g.Go(func() error { return a.RunWorker(ctx) })
	}
	if r.Scheduler {
		g.Go(func() error { return a.RunScheduler(ctx) })
	}
	if r.API || r.Worker {
		g.Go(func() error { return a.runStandin(ctx) })
	}
	return g.Wait()
}
