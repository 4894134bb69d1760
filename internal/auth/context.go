package auth

import "context"

// Subject is the authenticated caller of a request.
type Subject struct {
	// ID is the token's sub claim, the stable identity of the caller.
	ID string
	// Scopes are the OAuth2 scopes granted to the token (may be empty).
	Scopes []string
}

// HasScope reports whether s was granted scope.
func (s Subject) HasScope(scope string) bool {
	for _, have := range s.Scopes {
		if have == scope {
			return true
		}
	}
	return false
}

// Unexported key types, so no other package can read or forge the values.
type (
	subjectKey struct{}
	errorKey   struct{}
)

// WithSubject returns a copy of ctx that carries s as the authenticated caller.
func WithSubject(ctx context.Context, s Subject) context.Context {
	return context.WithValue(ctx, subjectKey{}, s)
}

// SubjectFrom returns the authenticated caller stored by WithSubject, and
// false for an anonymous request.
func SubjectFrom(ctx context.Context) (Subject, bool) {
	s, ok := ctx.Value(subjectKey{}).(Subject)
	return s, ok
}

// WithError returns a copy of ctx that records why authentication failed: a
// token was sent but was bad. The GraphQL layer turns it into an
// UNAUTHENTICATED error (or INTERNAL when Unauthenticated(err) is false)
// instead of serving the request anonymously.
func WithError(ctx context.Context, err error) context.Context {
	return context.WithValue(ctx, errorKey{}, err)
}

// ErrorFrom returns the error stored by WithError, or nil.
func ErrorFrom(ctx context.Context) error {
	err, _ := ctx.Value(errorKey{}).(error)
	return err
}
