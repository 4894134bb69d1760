// Package pubsub fans events out to the GraphQL subscribers on every API replica: a
// publisher sends to Redis, and each process holds one pattern subscription that delivers
// to its local subscribers by topic.
package pubsub

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"
)

// channelPrefix namespaces our Redis channels (originhub:<area>:<id>).
const channelPrefix = "originhub:events:"

// bufferSize is how many undelivered events a subscriber may lag behind before newer ones
// are dropped for it (a subscriber that slow is a stuck client, not a busy one).
const bufferSize = 256

// ErrClosed is returned by Subscribe after Close.
var ErrClosed = errors.New("pubsub closed")

// Bus publishes and delivers events.
type Bus struct {
	rdb *redis.Client
	log *slog.Logger

	mu      sync.Mutex
	subs    map[string]map[*subscriber]struct{}
	started bool
	closed  bool
	ps      *redis.PubSub
	done    chan struct{}
}

type subscriber struct {
	ch chan []byte
}

// New returns a Bus on rdb. Its Redis subscription starts with the first Subscribe.
func New(rdb *redis.Client, log *slog.Logger) *Bus {
	return &Bus{rdb: rdb, log: log, subs: make(map[string]map[*subscriber]struct{})}
}

// Publish sends payload to every subscriber of topic on every replica.
func (b *Bus) Publish(ctx context.Context, topic string, payload []byte) error {
	if err := b.rdb.Publish(ctx, channelPrefix+topic, payload).Err(); err != nil {
		return fmt.Errorf("publish %s: %w", topic, err)
	}
	return nil
}

// Subscribe delivers the events of topic published from now on, until ctx ends; then the
// channel is closed. It returns once the process's Redis subscription is confirmed, so an
// event published after Subscribe returns is not missed.
func (b *Bus) Subscribe(ctx context.Context, topic string) (<-chan []byte, error) {
	if err := b.start(ctx); err != nil {
		return nil, err
	}
	s := &subscriber{ch: make(chan []byte, bufferSize)}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil, ErrClosed
	}
	if b.subs[topic] == nil {
		b.subs[topic] = make(map[*subscriber]struct{})
	}
	b.subs[topic][s] = struct{}{}
	done := b.done
	b.mu.Unlock()

	go func() {
		select {
		case <-ctx.Done():
		case <-done:
		}
		b.mu.Lock()
		defer b.mu.Unlock()
		if set, ok := b.subs[topic]; ok {
			if _, ok := set[s]; ok {
				delete(set, s)
				if len(set) == 0 {
					delete(b.subs, topic)
				}
				close(s.ch)
			}
		}
	}()
	return s.ch, nil
}

func (b *Bus) start(ctx context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return ErrClosed
	}
	if b.started {
		return nil
	}
	ps := b.rdb.PSubscribe(ctx, channelPrefix+"*")
	// Receive waits for the subscription's confirmation.
	if _, err := ps.Receive(ctx); err != nil {
		_ = ps.Close()
		return fmt.Errorf("subscribe to events: %w", err)
	}
	b.ps, b.started, b.done = ps, true, make(chan struct{})
	go b.dispatch(ps.Channel(redis.WithChannelSize(1024)))
	return nil
}

func (b *Bus) dispatch(msgs <-chan *redis.Message) {
	for m := range msgs {
		topic := strings.TrimPrefix(m.Channel, channelPrefix)
		payload := []byte(m.Payload)
		b.mu.Lock()
		for s := range b.subs[topic] {
			select {
			case s.ch <- payload:
			default:
				b.log.Warn("subscriber too slow, event dropped", "topic", topic)
			}
		}
		b.mu.Unlock()
	}
}

// Subscribers returns how many local subscribers topic has (for tests and metrics).
func (b *Bus) Subscribers(topic string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.subs[topic])
}

// Close ends the Redis subscription and closes every subscriber's channel.
func (b *Bus) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	ps, done := b.ps, b.done
	for topic, set := range b.subs {
		for s := range set {
			close(s.ch)
		}
		delete(b.subs, topic)
	}
	b.mu.Unlock()
	if done != nil {
		close(done)
	}
	if ps != nil {
		return ps.Close()
	}
	return nil
}
