package tasks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/hibiken/asynq"

	"github.com/originhub/originhub/internal/webhook"
)

// Task types of outgoing webhooks.
const (
	TypeWebhookDeliver = "webhook:deliver"
	TypeWebhookSweep   = "webhook:sweep"
)

// WebhookDeliverPayload names the delivery to attempt; the handler reloads its state.
type WebhookDeliverPayload struct {
	DeliveryID int64 `json:"deliveryId"`
}

// NewWebhookDeliverTask returns the task of delivery id. Its task id comes from the
// delivery, so queueing it twice is harmless. The delivery row decides when to stop
// (webhook.Config.MaxAttempts); MaxRetry only has to be larger.
func NewWebhookDeliverTask(deliveryID int64) (*asynq.Task, error) {
	b, err := json.Marshal(WebhookDeliverPayload{DeliveryID: deliveryID})
	if err != nil {
		return nil, err
	}
	return asynq.NewTask(TypeWebhookDeliver, b,
		asynq.TaskID("webhook:deliver:"+strconv.FormatInt(deliveryID, 10)),
		asynq.Queue(QueueWebhook), asynq.MaxRetry(webhook.DefaultMaxAttempts+8), asynq.Timeout(time.Minute)), nil
}

// NewWebhookSweepTask returns the periodic task that queues deliveries whose task was lost.
func NewWebhookSweepTask() *asynq.Task {
	return asynq.NewTask(TypeWebhookSweep, nil, asynq.Queue(QueueDefault), asynq.MaxRetry(2), asynq.Timeout(time.Minute))
}

// EnqueueWebhookDelivery queues delivery id; a delivery already queued is not queued twice.
func (e Enqueuer) EnqueueWebhookDelivery(ctx context.Context, deliveryID int64) error {
	t, err := NewWebhookDeliverTask(deliveryID)
	if err != nil {
		return fmt.Errorf("build webhook task: %w", err)
	}
	if _, err := e.Client.EnqueueContext(ctx, t); err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
		return fmt.Errorf("enqueue webhook delivery %d: %w", deliveryID, err)
	}
	return nil
}

// HandleWebhookDeliver makes the next attempt of a delivery. A failed attempt returns a
// *webhook.RetryError, whose delay the server's retry function honours.
func (h *Handlers) HandleWebhookDeliver(ctx context.Context, t *asynq.Task) error {
	var p WebhookDeliverPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil || p.DeliveryID <= 0 {
		return fmt.Errorf("decode webhook payload: %v: %w", err, asynq.SkipRetry)
	}
	err := h.Webhooks.Deliver(ctx, p.DeliveryID)
	if errors.Is(err, webhook.ErrNotFound) {
		return fmt.Errorf("webhook delivery %d: %w: %w", p.DeliveryID, err, asynq.SkipRetry)
	}
	return err
}

// HandleWebhookSweep queues overdue deliveries.
func (h *Handlers) HandleWebhookSweep(ctx context.Context, _ *asynq.Task) error {
	n, err := h.Webhooks.Sweep(ctx)
	if n > 0 {
		h.Log.InfoContext(ctx, "overdue webhook deliveries queued", "count", n)
	}
	return err
}
