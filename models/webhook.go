package models

import (
	"time"

	"github.com/uptrace/bun"
)

// WebhookEvent is what a webhook subscription listens to.
type WebhookEvent string

// Webhook events.
const (
	WebhookGGOReceived          WebhookEvent = "GGO_RECEIVED"
	WebhookGGOIssued            WebhookEvent = "GGO_ISSUED"
	WebhookMeasurementPublished WebhookEvent = "MEASUREMENT_PUBLISHED"
	WebhookOperationCommitted   WebhookEvent = "OPERATION_COMMITTED"
	WebhookOperationFailed      WebhookEvent = "OPERATION_FAILED"
	WebhookForecastReceived     WebhookEvent = "FORECAST_RECEIVED"
)

// Valid reports whether e is one of the known events.
func (e WebhookEvent) Valid() bool {
	switch e {
	case WebhookGGOReceived, WebhookGGOIssued, WebhookMeasurementPublished,
		WebhookOperationCommitted, WebhookOperationFailed, WebhookForecastReceived:
		return true
	}
	return false
}

// WebhookDeliveryState is where a delivery is: PENDING until it succeeded or ran out of attempts.
type WebhookDeliveryState string

// Delivery states.
const (
	WebhookDeliveryPending   WebhookDeliveryState = "PENDING"
	WebhookDeliverySucceeded WebhookDeliveryState = "SUCCEEDED"
	WebhookDeliveryFailed    WebhookDeliveryState = "FAILED"
)

// WebhookSubscription is a user's URL for one event. The secret is sealed and never leaves
// the webhook package.
type WebhookSubscription struct {
	bun.BaseModel `bun:"table:webhook_subscriptions,alias:ws"`

	ID           int64        `bun:"id,pk,autoincrement"`
	UserID       int64        `bun:"user_id,notnull"`
	Event        WebhookEvent `bun:"event,notnull"`
	URL          string       `bun:"url,notnull"`
	SecretSealed []byte       `bun:"secret_sealed"`
	CreatedAt    time.Time    `bun:"created_at,notnull,default:current_timestamp"`
}

// HasOwnSecret reports whether deliveries are signed with the subscription's own secret
// rather than the platform's WEBHOOK_SECRET.
func (s WebhookSubscription) HasOwnSecret() bool { return len(s.SecretSealed) > 0 }

// WebhookDelivery is one event sent (or to be sent) to one subscription, with its log.
type WebhookDelivery struct {
	bun.BaseModel `bun:"table:webhook_deliveries,alias:wd"`

	ID             int64                `bun:"id,pk,autoincrement"`
	UserID         int64                `bun:"user_id,notnull"`
	SubscriptionID *int64               `bun:"subscription_id"`
	Event          WebhookEvent         `bun:"event,notnull"`
	EventID        string               `bun:"event_id,notnull"`
	URL            string               `bun:"url,notnull"`
	Body           []byte               `bun:"body,notnull"`
	State          WebhookDeliveryState `bun:"state,notnull"`
	Attempts       int                  `bun:"attempts,notnull"`
	MaxAttempts    int                  `bun:"max_attempts,notnull"`
	LastStatusCode *int                 `bun:"last_status_code"`
	LastError      *string              `bun:"last_error"`
	LastAttemptAt  *time.Time           `bun:"last_attempt_at"`
	NextAttemptAt  *time.Time           `bun:"next_attempt_at"`
	FinishedAt     *time.Time           `bun:"finished_at"`
	LockedUntil    *time.Time           `bun:"locked_until"`
	RedeliveryOf   *int64               `bun:"redelivery_of"`
	CreatedAt      time.Time            `bun:"created_at,notnull,default:current_timestamp"`
	UpdatedAt      time.Time            `bun:"updated_at,notnull,default:current_timestamp"`

	// AttemptLog is filled on request by the webhook service, oldest first.
	AttemptLog []WebhookDeliveryAttempt `bun:"-"`
}

// WebhookDeliveryAttempt is one POST of a delivery.
type WebhookDeliveryAttempt struct {
	bun.BaseModel `bun:"table:webhook_delivery_attempts,alias:wda"`

	DeliveryID int64     `bun:"delivery_id,pk"`
	Attempt    int       `bun:"attempt,pk"`
	StartedAt  time.Time `bun:"started_at,notnull"`
	DurationMs int       `bun:"duration_ms,notnull"`
	StatusCode *int      `bun:"status_code"`
	Error      *string   `bun:"error"`
}
