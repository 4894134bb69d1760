package resolvers

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	"github.com/originhub/originhub/internal/user"
)

// authenticated implements @authenticated: the field needs a viewer.
func authenticated(ctx context.Context, _ any, next graphql.Resolver) (any, error) {
	if _, ok := user.ViewerFrom(ctx); !ok {
		return nil, ErrUnauthenticated
	}
	return next(ctx)
}

// viewer returns the request's viewer; fields that call it are @authenticated, so a missing
// viewer is a programming error reported as UNAUTHENTICATED rather than a panic.
func viewer(ctx context.Context) (user.Viewer, error) {
	v, ok := user.ViewerFrom(ctx)
	if !ok {
		return user.Viewer{}, ErrUnauthenticated
	}
	return v, nil
}
