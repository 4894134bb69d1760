package pubsub_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/originhub/originhub/internal/pubsub"
	"github.com/originhub/originhub/internal/testkit"
)

func TestMain(m *testing.M) { testkit.Main(m) }

// Two buses on one Redis stand for two API replicas: an event published on one reaches the
// subscribers of its topic on both, and nobody else.
func TestFanOutAcrossReplicas(t *testing.T) {
	rdb := testkit.Redis(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	a, b := pubsub.New(rdb, log), pubsub.New(rdb, log)
	t.Cleanup(func() { a.Close(); b.Close() })

	ctx := t.Context()
	onA, err := a.Subscribe(ctx, "user:1")
	if err != nil {
		t.Fatal(err)
	}
	onB, err := b.Subscribe(ctx, "user:1")
	if err != nil {
		t.Fatal(err)
	}
	other, err := b.Subscribe(ctx, "user:2")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := a.Publish(ctx, "user:1", fmt.Appendf(nil, "event %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	for name, ch := range map[string]<-chan []byte{"replica a": onA, "replica b": onB} {
		for i := range 3 {
			select {
			case got := <-ch:
				if want := fmt.Sprintf("event %d", i); string(got) != want {
					t.Fatalf("%s got %q, want %q", name, got, want)
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("%s: event %d not delivered", name, i)
			}
		}
	}
	// The other topic's subscriber got nothing: publish to it and check it is the first event.
	if err := a.Publish(ctx, "user:2", []byte("mine")); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-other:
		if string(got) != "mine" {
			t.Fatalf("user:2 subscriber got %q, want only its own event", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("user:2 event not delivered")
	}
}

func TestUnsubscribeOnContextEnd(t *testing.T) {
	rdb := testkit.Redis(t)
	bus := pubsub.New(rdb, slog.New(slog.NewTextHandler(io.Discard, nil)))
	t.Cleanup(func() { bus.Close() })
	sctx, stop := context.WithCancel(t.Context())
	ch, err := bus.Subscribe(sctx, "topic")
	if err != nil {
		t.Fatal(err)
	}
	if n := bus.Subscribers("topic"); n != 1 {
		t.Fatalf("Subscribers() = %d, want 1", n)
	}
	stop()
	select {
	case _, open := <-ch:
		if open {
			t.Fatal("received an event, want the channel closed")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("channel not closed after the context ended")
	}
	testkit.Eventually(t, 5*time.Second, func() bool { return bus.Subscribers("topic") == 0 }, "unsubscribe")
}
