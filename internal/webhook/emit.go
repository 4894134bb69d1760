package webhook

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/originhub/originhub/models"
)

// envelope is the body of every delivery.
type envelope struct {
	ID        string          `json:"id"`
	Event     Event           `json:"event"`
	CreatedAt time.Time       `json:"createdAt"`
	Data      json.RawMessage `json:"data"`
}

// Emit records event with payload (any JSON-encodable value) for every subscription of the
// user to event: one delivery row each, written through tx so that the event exists exactly
// when the caller's change commits. All rows share one new event id, which receivers use
// to deduplicate. It returns the delivery ids; after the commit pass them to Enqueue (the
// sweeper queues them anyway if that step is lost). Emit does no I/O beyond tx. Errors:
// *InputError for an unknown event or a body over MaxBodyBytes.
func (s *Service) Emit(ctx context.Context, tx bun.IDB, userID int64, event Event, payload any) ([]int64, error) {
	if !event.Valid() {
		return nil, &InputError{Field: "event", Message: "is not a known event"}
	}
	data, err := json.Marshal(payload)
	if err != nil {
		return nil, fmt.Errorf("encode %s payload: %w", event, err)
	}
	now := s.clock().Truncate(time.Microsecond)
	eventID := newEventID()
	body, err := json.Marshal(envelope{ID: eventID, Event: event, CreatedAt: now, Data: data})
	if err != nil {
		return nil, fmt.Errorf("encode %s body: %w", event, err)
	}
	if len(body) > MaxBodyBytes {
		return nil, &InputError{Field: "payload", Message: fmt.Sprintf("encodes to %d bytes, more than %d", len(body), MaxBodyBytes)}
	}
	var ids []int64
	err = tx.NewRaw(`INSERT INTO webhook_deliveries
			(user_id, subscription_id, event, event_id, url, body, max_attempts, next_attempt_at, created_at, updated_at)
		SELECT ws.user_id, ws.id, ws.event, ?, ws.url, ?, ?, ?, ?, ?
		FROM webhook_subscriptions AS ws
		WHERE ws.user_id = ? AND ws.event = ?
		ORDER BY ws.id
		RETURNING id`,
		eventID, body, s.cfg.MaxAttempts, now, now, now, userID, event).Scan(ctx, &ids)
	if err != nil {
		return nil, fmt.Errorf("write %s deliveries: %w", event, err)
	}
	return ids, nil
}

// Enqueue queues the deliveries' tasks; call it after the transaction that emitted them
// committed. Queueing a delivery twice is harmless (its task id is the delivery id). It
// tries every id and returns the joined errors; the sweeper retries what failed.
func (s *Service) Enqueue(ctx context.Context, deliveryIDs []int64) error {
	var errs []error
	for _, id := range deliveryIDs {
		if err := s.queue.EnqueueWebhookDelivery(ctx, id); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// sweepGrace is how long past its due time a pending delivery waits before the sweeper
// assumes its task was lost; the queue normally picks it up well within it.
const sweepGrace = 2 * time.Minute

// sweepBatch bounds one sweep.
const sweepBatch = 1000

// Sweep queues pending deliveries that are overdue and not being attempted, because their
// task was lost (a crash between commit and Enqueue, a flushed queue), and deletes up to
// sweepBatch finished deliveries older than the retention, so the log does not grow
// forever. It returns how many deliveries it queued.
func (s *Service) Sweep(ctx context.Context) (int, error) {
	now := s.clock()
	var ids []int64
	err := s.db.NewSelect().Model((*models.WebhookDelivery)(nil)).Column("id").
		Where("state = ?", models.WebhookDeliveryPending).
		Where("next_attempt_at <= ?", now.Add(-sweepGrace)).
		Where("locked_until IS NULL OR locked_until < ?", now).
		OrderExpr("next_attempt_at").Limit(sweepBatch).
		Scan(ctx, &ids)
	if err != nil {
		return 0, fmt.Errorf("find overdue webhook deliveries: %w", err)
	}
	queueErr := s.Enqueue(ctx, ids)
	// Redeliveries point at their origin with ON DELETE SET NULL, so any old row may go.
	_, err = s.db.NewDelete().Model((*models.WebhookDelivery)(nil)).
		Where("id IN (SELECT id FROM webhook_deliveries WHERE state <> ? AND finished_at < ? LIMIT ?)",
			models.WebhookDeliveryPending, now.Add(-s.cfg.Retention), sweepBatch).
		Exec(ctx)
	if err != nil {
		return len(ids), errors.Join(queueErr, fmt.Errorf("prune webhook deliveries: %w", err))
	}
	return len(ids), queueErr
}

// newEventID returns a random (version 4) UUID.
func newEventID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// Subscribed returns which of users subscribe to event: announcing to many users at once,
// the caller builds and writes payloads only for them (most users have no subscription).
// tx may be a transaction.
func (s *Service) Subscribed(ctx context.Context, tx bun.IDB, event Event, users []int64) (map[int64]bool, error) {
	out := map[int64]bool{}
	if len(users) == 0 {
		return out, nil
	}
	var ids []int64
	if err := tx.NewRaw("SELECT DISTINCT user_id FROM webhook_subscriptions WHERE event = ? AND user_id IN (?)",
		event, bun.In(users)).Scan(ctx, &ids); err != nil {
		return nil, fmt.Errorf("subscribers of %s: %w", event, err)
	}
	for _, id := range ids {
		out[id] = true
	}
	return out, nil
}
