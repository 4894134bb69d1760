package tasks

import (
	"context"
	"fmt"
	"time"

	"github.com/hibiken/asynq"
)

// TypeExpireGgos marks STORED GGOs past their expiry as EXPIRED.
const TypeExpireGgos = "account:expire"

// NewExpireGgosTask returns the periodic expiry task.
func NewExpireGgosTask() *asynq.Task {
	return asynq.NewTask(TypeExpireGgos, nil, asynq.Queue(QueueDefault), asynq.MaxRetry(3), asynq.Timeout(5*time.Minute))
}

// HandleExpireGgos expires what is due.
func (h *Handlers) HandleExpireGgos(ctx context.Context, _ *asynq.Task) error {
	if h.Account == nil {
		return fmt.Errorf("account service is not configured in this worker: %w", asynq.SkipRetry)
	}
	n, err := h.Account.ExpireDue(ctx)
	if err != nil {
		return err
	}
	if n > 0 {
		h.Log.InfoContext(ctx, "ggos expired", "count", n)
	}
	return nil
}

// TypeCompactGgoRollup folds GGO rollup deltas into the summary rollups.
const TypeCompactGgoRollup = "account:compact-rollup"

// NewCompactGgoRollupTask returns the periodic rollup compaction task.
func NewCompactGgoRollupTask() *asynq.Task {
	return asynq.NewTask(TypeCompactGgoRollup, nil, asynq.Queue(QueueDefault), asynq.MaxRetry(3), asynq.Timeout(5*time.Minute))
}

// HandleCompactGgoRollup compacts the rollup; summaries are exact either way, this keeps
// them fast.
func (h *Handlers) HandleCompactGgoRollup(ctx context.Context, _ *asynq.Task) error {
	if h.Account == nil {
		return fmt.Errorf("account service is not configured in this worker: %w", asynq.SkipRetry)
	}
	_, err := h.Account.CompactRollup(ctx)
	return err
}
