package testschema

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
)

type viewerKey struct{}

// WithViewer returns ctx carrying the name of the authenticated viewer, as a
// WebSocket auth callback would.
func WithViewer(ctx context.Context, name string) context.Context {
	return context.WithValue(ctx, viewerKey{}, name)
}

// Viewer returns the viewer stored by WithViewer, or "".
func Viewer(ctx context.Context) string {
	v, _ := ctx.Value(viewerKey{}).(string)
	return v
}

// New returns the executable schema with its resolvers.
func New() graphql.ExecutableSchema {
	return NewExecutableSchema(Config{Resolvers: &Resolver{}})
}

// nestedAt builds the Nested chain lazily enough for tests: child links are
// resolved by gqlgen from the struct, so a fixed chain of 64 levels suffices
// for any depth a test asks for.
func nestedAt(level int) *Nested {
	const maxLevels = 64
	root := &Nested{Level: level}
	cur := root
	for i := level + 1; i <= maxLevels; i++ {
		cur.Child = &Nested{Level: i}
		cur = cur.Child
	}
	cur.Child = cur // the last level points to itself so child is never null
	return root
}

// ticks sends 1..count and closes the channel; it stops early when ctx ends.
// One goroutine owns the channel, and every send sits in a select.
func ticks(ctx context.Context, count int) <-chan int {
	ch := make(chan int)
	go func() {
		defer close(ch)
		for i := 1; i <= count; i++ {
			select {
			case <-ctx.Done():
				return
			case ch <- i:
			}
		}
	}()
	return ch
}
