package tasks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/hibiken/asynq"
)

// TypeConsume runs automatic consumption of one user's hours.
const TypeConsume = "account:consume"

// ConsumePayload names the user and the hours [From, Until).
type ConsumePayload struct {
	UserID int64     `json:"userId"`
	From   time.Time `json:"from"`
	Until  time.Time `json:"until"`
}

// NewConsumeTask returns the task; key (the cause, e.g. a batch id) makes its id, so the
// same cause queues it once.
func NewConsumeTask(p ConsumePayload, key string) (*asynq.Task, error) {
	b, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("encode consume payload: %w", err)
	}
	return asynq.NewTask(TypeConsume, b, asynq.Queue(QueueDefault), asynq.MaxRetry(20), asynq.Timeout(10*time.Minute),
		asynq.TaskID("account:consume:"+strconv.FormatInt(p.UserID, 10)+":"+key)), nil
}

// EnqueueConsume queues automatic consumption (an account.ConsumeTrigger). A task already
// queued for the same cause counts as success.
func (e Enqueuer) EnqueueConsume(ctx context.Context, userID int64, from, until time.Time, key string) error {
	t, err := NewConsumeTask(ConsumePayload{UserID: userID, From: from, Until: until}, key)
	if err != nil {
		return err
	}
	if _, err := e.Client.EnqueueContext(ctx, t); err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
		return fmt.Errorf("enqueue consumption of user %d: %w", userID, err)
	}
	return nil
}

// HandleConsume consumes the payload's hours; it is idempotent, so a retry is harmless.
func (h *Handlers) HandleConsume(ctx context.Context, t *asynq.Task) error {
	var p ConsumePayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil || p.UserID <= 0 || !p.From.Before(p.Until) {
		return fmt.Errorf("decode consume payload: %v: %w", err, asynq.SkipRetry)
	}
	if h.Account == nil {
		return fmt.Errorf("account service is not configured in this worker: %w", asynq.SkipRetry)
	}
	// One on-demand run is bounded; a long publication is consumed a month at a time.
	const step = 31 * 24 * time.Hour
	for from := p.From; from.Before(p.Until); from = from.Add(step) {
		if _, err := h.Account.ConsumePeriod(ctx, p.UserID, from, minTime(from.Add(step), p.Until)); err != nil {
			return err
		}
	}
	return nil
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
