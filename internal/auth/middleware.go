package auth

import (
	"context"
	"fmt"
	"net/http"
)

// SubjectHook is called once a token has been verified, before the request
// proceeds. The server uses it to create the user row of a subject seen for
// the first time. An error fails authentication of that request.
type SubjectHook func(ctx context.Context, s Subject) error

// Authenticate verifies an Authorization header value, calls onSubject (if
// not nil) and returns ctx carrying the Subject. On failure it returns the
// unchanged ctx and an error: one of Verify's (for which Unauthenticated is
// true, except ErrJWKSUnavailable) or the hook's, wrapped.
//
// It is the one path shared by the HTTP middleware and the WebSocket
// transport's InitFunc, which closes the socket with 4403 on any error.
func (v *Verifier) Authenticate(ctx context.Context, headerValue string, onSubject SubjectHook) (context.Context, error) {
	s, err := v.VerifyHeader(ctx, headerValue)
	if err != nil {
		return ctx, err
	}
	if onSubject != nil {
		if err := onSubject(ctx, s); err != nil {
			return ctx, fmt.Errorf("subject hook: %w", err)
		}
	}
	return WithSubject(ctx, s), nil
}

// Middleware authenticates HTTP requests. A request without an
// Authorization header passes through anonymously. A request with one is
// verified (see Authenticate): on success the Subject is in the request
// context; on failure the error is, via WithError, and the request still
// passes through, because the GraphQL layer answers it with an
// UNAUTHENTICATED error rather than a bare 401. Tokens are never logged.
//
// onSubject runs on every authenticated request; wrap it with
// OncePerSubject so a busy subject does not cost a write per request.
func (v *Verifier) Middleware(onSubject SubjectHook) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			values := r.Header.Values("Authorization")
			switch len(values) {
			case 0:
				next.ServeHTTP(w, r)
				return
			case 1:
			default:
				// Two credentials are ambiguous; pick neither.
				ctx := WithError(r.Context(), fmt.Errorf("%w: %d Authorization headers", ErrMalformedToken, len(values)))
				next.ServeHTTP(w, r.WithContext(ctx))
				return
			}
			ctx, err := v.Authenticate(r.Context(), values[0], onSubject)
			if err != nil {
				ctx = WithError(r.Context(), err)
			}
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}
