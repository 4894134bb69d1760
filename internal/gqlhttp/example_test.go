package gqlhttp_test

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"

	"github.com/originhub/originhub/internal/gqlhttp"
	"github.com/originhub/originhub/internal/gqlhttp/internal/testschema"
)

// ExampleAddTransports shows the wiring of a production server: transports,
// introspection, persisted queries, the depth and complexity limits, and the
// mount on GET and POST /graphql.
func ExampleAddTransports() {
	// verifyBearer stands in for the JWT verifier of internal/auth.
	verifyBearer := func(ctx context.Context, header string) (context.Context, error) {
		token, ok := strings.CutPrefix(header, "Bearer ")
		if !ok || token == "" {
			return nil, errors.New("missing bearer token")
		}
		return testschema.WithViewer(ctx, token), nil
	}

	srv := handler.New(testschema.New())
	gqlhttp.AddTransports(srv,
		gqlhttp.Options{MaxBodyBytes: 1 << 20},
		gqlhttp.WebsocketOptions{
			AllowedOrigins: []string{"https://app.example.com"},
			Auth: func(ctx context.Context, payload transport.InitPayload) (context.Context, error) {
				return verifyBearer(ctx, payload.Authorization())
			},
		})
	srv.Use(extension.Introspection{})
	srv.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](1000)})
	srv.Use(gqlhttp.DepthLimit{Max: 12})
	srv.Use(extension.FixedComplexityLimit(1000))

	mux := http.NewServeMux()
	// Method patterns make net/http answer PUT, DELETE, ... with 405 and Allow.
	mux.Handle("GET /graphql", srv)
	mux.Handle("POST /graphql", srv)
	_ = &http.Server{Addr: "127.0.0.1:8080", Handler: mux}
}
