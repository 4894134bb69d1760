package api

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	coderws "github.com/coder/websocket"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/originhub/originhub/graph"
	"github.com/originhub/originhub/resolvers"
)

func newGraphQL(d Deps) http.Handler {
	srv := handler.New(graph.NewExecutableSchema(resolvers.Config(d.Resolver)))
	srv.AddTransport(transport.Websocket{
		KeepAlivePingInterval: 10 * time.Second,
		InitFunc:              websocketInit(d),
		InitTimeout:           10 * time.Second,
		// Same-origin pages may always connect; other origins only when configured.
		Implementation: transport.CoderWebsocketImplementation{AcceptOptions: coderws.AcceptOptions{
			OriginPatterns: originPatterns(d.Config.CORSOrigins),
		}},
	})
	srv.AddTransport(transport.Options{})
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.POST{})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	srv.Use(extension.Introspection{})
	srv.Use(extension.AutomaticPersistedQuery{Cache: newAPQCache(d.Redis)})
	srv.Use(extension.FixedComplexityLimit(d.Config.MaxComplexity))
	srv.Use(rejectBadToken{})
	srv.Use(d.Metrics.graphqlExtension())
	srv.SetErrorPresenter(resolvers.Presenter(d.Log, RequestID))
	srv.SetRecoverFunc(resolvers.Recover(d.Log))
	return withBodyLimit(d.Config.MaxBodyBytes, withTimeout(d.Config.RequestTimeout, srv))
}

// rejectBadToken refuses an operation whose request carried a token that failed
// verification, before anything runs.
type rejectBadToken struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationInterceptor
} = rejectBadToken{}

func (rejectBadToken) ExtensionName() string                   { return "RejectBadToken" }
func (rejectBadToken) Validate(graphql.ExecutableSchema) error { return nil }
func (rejectBadToken) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	if err := authError(ctx); err != nil {
		e := gqlerror.Errorf("unauthenticated: %s", err.Error())
		e.Extensions = map[string]any{"code": resolvers.CodeUnauthenticated}
		return graphql.OneShot(&graphql.Response{Errors: gqlerror.List{e}})
	}
	return next(ctx)
}

// withBodyLimit caps request bodies; a larger body fails to parse with a clear error.
func withBodyLimit(n int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > n {
			http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, n)
		next.ServeHTTP(w, r)
	})
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
