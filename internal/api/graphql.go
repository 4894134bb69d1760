package api

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/originhub/originhub/graph"
	"github.com/originhub/originhub/internal/auth"
	"github.com/originhub/originhub/internal/gqlhttp"
	"github.com/originhub/originhub/resolvers"
)

func newGraphQL(d Deps) http.Handler {
	srv := handler.New(graph.NewExecutableSchema(resolvers.Config(d.Resolver)))
	gqlhttp.AddTransports(srv, gqlhttp.Options{MaxBodyBytes: d.Config.MaxBodyBytes}, gqlhttp.WebsocketOptions{
		AllowedOrigins: d.Config.CORSOrigins,
		PingInterval:   15 * time.Second,
		Auth:           websocketAuth(d),
		OnAuthError: func(ctx context.Context, err error) {
			d.Log.InfoContext(ctx, "websocket authentication refused", "err", err)
		},
	})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	srv.Use(extension.Introspection{})
	srv.Use(extension.AutomaticPersistedQuery{Cache: newAPQCache(d.Redis)})
	srv.Use(gqlhttp.DepthLimit{Max: d.Config.MaxDepth})
	srv.Use(extension.FixedComplexityLimit(d.Config.MaxComplexity))
	srv.Use(rejectBadToken{log: d.Log})
	if d.Config.RateLimit > 0 {
		srv.Use(rateLimit{rdb: d.Redis, perMinute: d.Config.RateLimit, log: d.Log, now: time.Now})
	}
	srv.Use(costReport{limit: d.Config.MaxComplexity})
	srv.Use(d.Metrics.graphqlExtension())
	srv.SetErrorPresenter(resolvers.Presenter(d.Log, RequestID))
	srv.SetRecoverFunc(resolvers.Recover(d.Log))
	return withClientIP(withTimeout(d.Config.RequestTimeout, srv))
}

// rejectBadToken refuses an operation whose request carried a token that failed
// verification, before anything runs.
type rejectBadToken struct{ log *slog.Logger }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationInterceptor
} = rejectBadToken{}

func (rejectBadToken) ExtensionName() string                   { return "RejectBadToken" }
func (rejectBadToken) Validate(graphql.ExecutableSchema) error { return nil }
func (r rejectBadToken) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	if err := authError(ctx); err != nil {
		var e *gqlerror.Error
		if auth.Unauthenticated(err) {
			e = gqlerror.Errorf("unauthenticated: %s", err.Error())
			e.Extensions = map[string]any{"code": resolvers.CodeUnauthenticated}
		} else {
			// The issuer's keys or the database failed us: not the caller's fault.
			rid := RequestID(ctx)
			r.log.ErrorContext(ctx, "authentication failed", "err", err, "request_id", rid)
			e = gqlerror.Errorf("authentication is unavailable (request id %s)", rid)
			e.Extensions = map[string]any{"code": resolvers.CodeInternal}
		}
		return graphql.OneShot(&graphql.Response{Errors: gqlerror.List{e}})
	}
	return next(ctx)
}

// withTimeout bounds queries and mutations; WebSocket connections live as long as the client.
func withTimeout(d time.Duration, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isWebSocketUpgrade(r) {
			next.ServeHTTP(w, r)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), d)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func isWebSocketUpgrade(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}
