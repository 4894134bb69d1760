// Package webhook sends signed outgoing webhooks to URLs that users subscribe for events.
//
// Deliveries follow the outbox pattern: Emit writes one delivery row per matching
// subscription inside the caller's transaction, Enqueue queues them after the commit, and a
// periodic Sweep queues any whose task was lost. Each attempt POSTs
//
//	{"id": eventId, "event": "GGO_RECEIVED", "createdAt": "2026-…Z", "data": {…}}
//
// with the headers X-OriginHub-Event, X-OriginHub-Delivery (the event id),
// X-OriginHub-Timestamp (unix seconds) and X-OriginHub-Signature
// ("sha256=" + hex HMAC-SHA256(secret, timestamp + "." + body)); receivers check it with
// Verify. The secret is the subscription's own, or WEBHOOK_SECRET when it has none. Any 2xx
// is success; anything else is retried with exponential backoff (12 attempts over about a
// day by default) and every attempt is logged.
package webhook

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"time"

	"github.com/uptrace/bun"

	"github.com/originhub/originhub/models"
)

// Event is what a subscription listens to.
type Event = models.WebhookEvent

// Events.
const (
	EventGGOReceived          = models.WebhookGGOReceived
	EventGGOIssued            = models.WebhookGGOIssued
	EventMeasurementPublished = models.WebhookMeasurementPublished
	EventOperationCommitted   = models.WebhookOperationCommitted
	EventOperationFailed      = models.WebhookOperationFailed
	EventForecastReceived     = models.WebhookForecastReceived
)

// Defaults of Config.
const (
	DefaultMaxAttempts = 12
	DefaultTimeout     = 10 * time.Second
	DefaultRetention   = 30 * 24 * time.Hour
	// MaxBodyBytes bounds a delivery body; Emit refuses larger payloads.
	MaxBodyBytes = 256 << 10
)

// Backoff is the default delay after failed attempt n (1-based): 45 s doubling each time,
// so 12 attempts span about 25 hours (45 s × (2^11 − 1)). The service adds up to 10 %
// jitter so that a receiver coming back is not hit by every retry at once.
func Backoff(attempt int) time.Duration {
	return 45 * time.Second << min(max(attempt-1, 0), 16)
}

// Enqueuer queues a delivery's task; implemented by the tasks package.
type Enqueuer interface {
	EnqueueWebhookDelivery(ctx context.Context, deliveryID int64) error
}

// Config configures the service.
type Config struct {
	// DefaultSecret signs deliveries of subscriptions without their own secret (WEBHOOK_SECRET).
	DefaultSecret string
	// SealSecret encrypts subscription secrets at rest (SECRET).
	SealSecret string
	// AllowPrivateTargets lets subscriptions and deliveries reach loopback, private and
	// link-local addresses (WEBHOOK_ALLOW_PRIVATE_TARGETS; dev and tests only).
	AllowPrivateTargets bool
	// MaxAttempts per delivery; DefaultMaxAttempts when zero.
	MaxAttempts int
	// RetryDelay is the wait after failed attempt n; Backoff when nil.
	RetryDelay func(attempt int) time.Duration
	// Timeout of one attempt; DefaultTimeout when zero.
	Timeout time.Duration
	// Resolver checks host names at subscription time; net.DefaultResolver when nil.
	Resolver Resolver
	// Retention is how long finished deliveries stay in the log; DefaultRetention when zero.
	Retention time.Duration
}

// Service manages subscriptions and delivers events.
type Service struct {
	db     *bun.DB
	cfg    Config
	queue  Enqueuer
	seal   *sealer
	client *http.Client
	log    *slog.Logger
	clock  func() time.Time
	jitter func(d time.Duration) time.Duration
}

// NewService returns a Service. Errors: an empty SealSecret.
func NewService(db *bun.DB, cfg Config, queue Enqueuer, log *slog.Logger, clock func() time.Time) (*Service, error) {
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	if cfg.RetryDelay == nil {
		cfg.RetryDelay = Backoff
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Retention <= 0 {
		cfg.Retention = DefaultRetention
	}
	if cfg.Resolver == nil {
		cfg.Resolver = net.DefaultResolver
	}
	if cfg.DefaultSecret == "" {
		return nil, fmt.Errorf("webhook: default secret is empty")
	}
	s, err := newSealer(cfg.SealSecret)
	if err != nil {
		return nil, err
	}
	return &Service{
		db: db, cfg: cfg, queue: queue, seal: s, log: log, clock: clock,
		client: newHTTPClient(cfg.AllowPrivateTargets, cfg.Timeout),
		jitter: func(d time.Duration) time.Duration { return d + rand.N(d/10+1) },
	}, nil
}

// MaxAttempts is the number of attempts per delivery.
func (s *Service) MaxAttempts() int { return s.cfg.MaxAttempts }
