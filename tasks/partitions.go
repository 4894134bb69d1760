package tasks

import (
	"context"
	"fmt"
	"time"

	"github.com/hibiken/asynq"

	"github.com/originhub/originhub/internal/datahub"
)

// TypeEnsurePartitions creates the measurement partitions for the months around now.
const TypeEnsurePartitions = "datahub:ensure-partitions"

// partitionsAhead is how far ahead months are created, so imports never wait on DDL.
const partitionsAhead = 3 * 31 * 24 * time.Hour

// NewEnsurePartitionsTask returns the periodic partition task.
func NewEnsurePartitionsTask() *asynq.Task {
	return asynq.NewTask(TypeEnsurePartitions, nil, asynq.Queue(QueueDefault), asynq.MaxRetry(5), asynq.Timeout(time.Minute))
}

// HandleEnsurePartitions creates missing partitions from last month to three months ahead.
func (h *Handlers) HandleEnsurePartitions(ctx context.Context, _ *asynq.Task) error {
	now := h.Clock()
	n, err := datahub.EnsurePartitions(ctx, h.DB, now.AddDate(0, -1, 0), now.Add(partitionsAhead))
	if err != nil {
		return fmt.Errorf("ensure partitions: %w", err)
	}
	if n > 0 {
		h.Log.InfoContext(ctx, "measurement partitions created", "count", n)
	}
	return nil
}
