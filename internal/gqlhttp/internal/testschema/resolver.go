package testschema

// THIS CODE WILL BE UPDATED WITH SCHEMA CHANGES. PREVIOUS IMPLEMENTATION FOR SCHEMA CHANGES WILL BE KEPT IN THE COMMENT SECTION. IMPLEMENTATION FOR UNCHANGED SCHEMA WILL BE KEPT.

import (
	"context"
	"errors"
)

// Resolver is the root resolver of the test schema. It holds no state.
type Resolver struct{}

// Echo is the resolver for the echo field.
func (r *mutationResolver) Echo(ctx context.Context, text string) (string, error) {
	return text, nil
}

// Hello is the resolver for the hello field.
func (r *queryResolver) Hello(ctx context.Context, name *string) (string, error) {
	if name != nil {
		return "hello " + *name, nil
	}
	if v := Viewer(ctx); v != "" {
		return "hello " + v, nil
	}
	return "hello world", nil
}

// Fail is the resolver for the fail field.
func (r *queryResolver) Fail(ctx context.Context) (*string, error) {
	return nil, errors.New("fail always fails")
}

// Nested is the resolver for the nested field.
func (r *queryResolver) Nested(ctx context.Context) (*Nested, error) {
	return nestedAt(1), nil
}

// Ticks is the resolver for the ticks field.
func (r *subscriptionResolver) Ticks(ctx context.Context, count int) (<-chan int, error) {
	return ticks(ctx, count), nil
}

// Mutation returns MutationResolver implementation.
func (r *Resolver) Mutation() MutationResolver { return &mutationResolver{r} }

// Query returns QueryResolver implementation.
func (r *Resolver) Query() QueryResolver { return &queryResolver{r} }

// Subscription returns SubscriptionResolver implementation.
func (r *Resolver) Subscription() SubscriptionResolver { return &subscriptionResolver{r} }

type (
	mutationResolver     struct{ *Resolver }
	queryResolver        struct{ *Resolver }
	subscriptionResolver struct{ *Resolver }
)
