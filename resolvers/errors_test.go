package resolvers_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/originhub/originhub/internal/relay"
	"github.com/originhub/originhub/internal/user"
	"github.com/originhub/originhub/models"
	"github.com/originhub/originhub/resolvers"
)

func TestPresenterMapsErrorsToCodes(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	present := resolvers.Presenter(log, func(context.Context) string { return "req-42" })
	recovered := resolvers.Recover(log)(context.Background(), "boom: secret detail")
	tests := []struct {
		name     string
		err      error
		wantCode string
		wantMsg  string
	}{
		{"bad input", resolvers.BadInput("amount must be positive"), "BAD_USER_INPUT", "amount must be positive"},
		{"pagination", fmt.Errorf("list: %w", &relay.ArgsError{Field: "first", Message: "must be between 1 and 100"}), "BAD_USER_INPUT", "first: must be between 1 and 100"},
		{"invalid id", relay.ErrInvalidID, "BAD_USER_INPUT", "invalid id"},
		{"not found", fmt.Errorf("load: %w", user.ErrNotFound), "NOT_FOUND", "not found"},
		{"unauthenticated", resolvers.ErrUnauthenticated, "UNAUTHENTICATED", resolvers.ErrUnauthenticated.Error()},
		{"refused scalar", scalarError(), "BAD_USER_INPUT", "WattHours must be a whole number of Wh, got 1.5"},
		{"raw sql error", &pgconn.PgError{Code: "23505", Message: "duplicate key value violates unique constraint \"users_subject_key\""}, "INTERNAL", "internal error (request id req-42)"},
		{"panic", recovered, "INTERNAL", "internal error (request id req-42)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := present(context.Background(), tc.err)
			if got.Extensions["code"] != tc.wantCode || got.Message != tc.wantMsg {
				t.Fatalf("present(%v) = %q %v, want %q %s", tc.err, got.Message, got.Extensions["code"], tc.wantMsg, tc.wantCode)
			}
			if errors.Unwrap(got) != nil {
				t.Fatal("presented error still wraps the cause")
			}
		})
	}
	// Internals are logged for operators, never shown to clients.
	if !strings.Contains(logs.String(), "users_subject_key") || !strings.Contains(logs.String(), "secret detail") {
		t.Fatalf("internal errors were not logged:\n%s", logs.String())
	}
}

// scalarError is what gqlgen hands the presenter when a custom scalar refuses an argument:
// the scalar's error wrapped with the path.
func scalarError() error {
	var w models.WattHours
	return graphql.ErrorOnPath(context.Background(), w.UnmarshalGQLContext(context.Background(), 1.5))
}
