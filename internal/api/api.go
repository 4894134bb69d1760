// Package api assembles OriginHub's HTTP surface: GraphQL over HTTP and WebSocket,
// GraphiQL, health, readiness and metrics, with the middleware every request passes.
package api

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/uptrace/bun"

	"github.com/originhub/originhub/internal/config"
	"github.com/originhub/originhub/internal/user"
	"github.com/originhub/originhub/resolvers"
)

// Authenticator checks the value of an Authorization header ("Bearer <JWT>") and returns the
// token's subject. Its errors must be safe to show to the client.
type Authenticator func(ctx context.Context, authorization string) (subject string, err error)

// Deps are what the HTTP API needs.
type Deps struct {
	Config       config.HTTP
	Log          *slog.Logger
	DB           *bun.DB
	Redis        *redis.Client
	Resolver     *resolvers.Resolver
	Users        *user.Service
	Authenticate Authenticator
	Metrics      *Metrics
	// Mounts are extra handlers by path prefix (GraphiQL, dev JWKS, simulators).
	Mounts map[string]http.Handler
}

// New returns the root HTTP handler.
func New(d Deps) http.Handler {
	mux := http.NewServeMux()
	gql := newGraphQL(d)
	// Method patterns make net/http answer other methods with 405 and an Allow header.
	mux.Handle("GET /graphql", withAuth(d, gql))
	mux.Handle("POST /graphql", withAuth(d, gql))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.Handle("GET /readyz", readiness(d))
	mux.Handle("GET /metrics", d.Metrics.Handler())
	for prefix, h := range d.Mounts {
		mux.Handle(prefix, h)
	}
	if _, ok := d.Mounts["/graphiql/"]; ok {
		mux.Handle("GET /{$}", http.RedirectHandler("/graphiql/", http.StatusFound))
		mux.Handle("GET /graphiql", http.RedirectHandler("/graphiql/", http.StatusMovedPermanently))
	}
	var h http.Handler = mux
	h = withCORS(d.Config.CORSOrigins, h)
	h = d.Metrics.instrumentHTTP(h)
	h = withLogging(d.Log, h)
	h = withRecover(d.Log, h)
	h = withRequestID(h)
	return h
}

// readiness answers 200 when Postgres and Redis both answer within two seconds.
func readiness(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		status, body := http.StatusOK, "ok\n"
		if err := d.DB.PingContext(ctx); err != nil {
			d.Log.WarnContext(ctx, "readiness: postgres unreachable", "err", err)
			status, body = http.StatusServiceUnavailable, "postgres unreachable\n"
		} else if err := d.Redis.Ping(ctx).Err(); err != nil {
			d.Log.WarnContext(ctx, "readiness: redis unreachable", "err", err)
			status, body = http.StatusServiceUnavailable, "redis unreachable\n"
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	})
}

// Server wraps handler in an http.Server with timeouts that bound slow clients. WebSocket
// connections are hijacked, so the write timeout does not cut subscriptions.
func Server(cfg config.HTTP, handler http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Addr:              cfg.Addr,
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       cfg.RequestTimeout,
		WriteTimeout:      cfg.RequestTimeout + 5*time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}
