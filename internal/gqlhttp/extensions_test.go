package gqlhttp_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/extension"

	"github.com/originhub/originhub/internal/gqlhttp"
)

// TestRefusalsBeforeExecution covers the other ways an operation is refused
// without running: gqlgen's complexity limit (an OperationContextMutator, like
// DepthLimit) and an operation interceptor that answers without calling next
// (a rate limiter, say). Both are request errors: no data, 400 under
// graphql-response+json, 200 under json.
func TestRefusalsBeforeExecution(t *testing.T) {
	complexity := newServer(gqlhttp.Options{}, gqlhttp.WebsocketOptions{})
	complexity.Use(extension.FixedComplexityLimit(2))

	interceptor := newServer(gqlhttp.Options{}, gqlhttp.WebsocketOptions{})
	interceptor.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		return graphql.OneShot(graphql.ErrorResponse(ctx, "slow down"))
	})

	tests := []struct {
		name       string
		h          http.Handler
		accept     string
		wantStatus int
		wantErr    string
	}{
		{name: "complexity, graphql-response", h: mount(complexity), accept: gr, wantStatus: 400,
			wantErr: "operation has complexity 3, which exceeds the limit of 2"},
		{name: "complexity, json", h: mount(complexity), accept: js, wantStatus: 200,
			wantErr: "operation has complexity 3, which exceeds the limit of 2"},
		{name: "interceptor, graphql-response", h: mount(interceptor), accept: gr, wantStatus: 400, wantErr: "slow down"},
		{name: "interceptor, json", h: mount(interceptor), accept: js, wantStatus: 200, wantErr: "slow down"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := do(t, tc.h, post(`{"query":"{ nested { child { level } } }"}`, tc.accept))
			if got.status != tc.wantStatus {
				t.Errorf("status = %d, want %d (body %s)", got.status, tc.wantStatus, got.body)
			}
			if got.hasData() {
				t.Errorf("data = %s, want no data entry", got.data())
			}
			if msgs, _ := got.errors(t); len(msgs) != 1 || msgs[0] != tc.wantErr {
				t.Errorf("errors = %q, want [%q]", msgs, tc.wantErr)
			}
		})
	}

	// Below the limit the same server executes.
	got := do(t, mount(complexity), post(`{"query":"{ nested { level } }"}`, gr))
	if got.status != 200 || got.data() != `{"nested":{"level":1}}` {
		t.Errorf("under the complexity limit: status %d, body %s; want 200 with data", got.status, got.body)
	}
}
