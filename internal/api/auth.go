package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/99designs/gqlgen/graphql/handler/transport"

	"github.com/originhub/originhub/internal/gqlhttp"
	"github.com/originhub/originhub/internal/loaders"
	"github.com/originhub/originhub/internal/user"
)

type authErrorKey struct{}

// authError returns the error of a token the request sent and that failed verification.
func authError(ctx context.Context) error {
	err, _ := ctx.Value(authErrorKey{}).(error)
	return err
}

// authenticate turns an Authorization value into a context with the viewer and its loaders.
// A subject seen for the first time gets its user row.
func authenticate(ctx context.Context, d Deps, authorization string) (context.Context, error) {
	subject, err := d.Authenticate(ctx, authorization)
	if err != nil {
		return ctx, err
	}
	u, err := d.Users.Ensure(ctx, subject)
	if err != nil {
		return ctx, fmt.Errorf("ensure user: %w", err)
	}
	v := user.Viewer{UserID: u.ID, Subject: u.Subject}
	ctx = user.WithViewer(ctx, v)
	return loaders.With(ctx, loaders.New(d.Resolver.LoaderSources(), v)), nil
}

// withAuth authenticates HTTP requests that carry a token. A request without one goes on
// anonymously (public fields work, @authenticated fields fail); a request with a bad one is
// refused as a whole with UNAUTHENTICATED by the GraphQL layer (see rejectBadToken), so a
// client never mistakes an expired token for an anonymous answer.
func withAuth(d Deps, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Get("Authorization")
		if h == "" {
			next.ServeHTTP(w, r)
			return
		}
		ctx, err := authenticate(r.Context(), d, h)
		if err != nil {
			ctx = context.WithValue(r.Context(), authErrorKey{}, err)
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// websocketAuth authenticates a graphql-ws connection from its connection_init payload
// ({"Authorization": "Bearer <token>"}); gqlhttp closes the socket with 4403 on failure.
func websocketAuth(d Deps) gqlhttp.AuthFunc {
	return func(ctx context.Context, p transport.InitPayload) (context.Context, error) {
		h := p.Authorization()
		if h == "" {
			if v, ok := p["authorization"].(string); ok {
				h = v
			}
		}
		if h == "" {
			return ctx, errMissingToken
		}
		return authenticate(ctx, d, h)
	}
}

var errMissingToken = errors.New("missing token: send {\"Authorization\": \"Bearer <token>\"} in the connection_init payload")
