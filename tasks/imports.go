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

// Task types of the DataHub import.
const (
	TypeImport    = "datahub:import"
	TypeImportAll = "datahub:import-all"
)

// ImportPayload names the import job to run; the handler reloads its current state.
type ImportPayload struct {
	JobID int64 `json:"jobId"`
}

// NewImportTask returns the task of import job jobID. Its id comes from the job, so
// enqueueing the same job twice is harmless.
func NewImportTask(jobID int64) (*asynq.Task, error) {
	b, err := json.Marshal(ImportPayload{JobID: jobID})
	if err != nil {
		return nil, err
	}
	return asynq.NewTask(TypeImport, b,
		asynq.TaskID("datahub:import:"+strconv.FormatInt(jobID, 10)),
		asynq.Queue(QueueImport), asynq.MaxRetry(8), asynq.Timeout(30*time.Minute), asynq.Retention(24*time.Hour)), nil
}

// NewImportAllTask returns the periodic task that queues incremental imports.
func NewImportAllTask() *asynq.Task {
	return asynq.NewTask(TypeImportAll, nil, asynq.Queue(QueueDefault), asynq.MaxRetry(3), asynq.Timeout(5*time.Minute))
}

// Enqueuer puts tasks on the queues.
type Enqueuer struct{ Client *asynq.Client }

// EnqueueImport queues import job jobID; a job already queued is not queued twice.
func (e Enqueuer) EnqueueImport(ctx context.Context, jobID int64) error {
	t, err := NewImportTask(jobID)
	if err != nil {
		return fmt.Errorf("build import task: %w", err)
	}
	if _, err := e.Client.EnqueueContext(ctx, t); err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
		return fmt.Errorf("enqueue import job %d: %w", jobID, err)
	}
	return nil
}

// HandleImport runs an import job.
func (h *Handlers) HandleImport(ctx context.Context, t *asynq.Task) error {
	var p ImportPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil || p.JobID <= 0 {
		return fmt.Errorf("decode import payload: %v: %w", err, asynq.SkipRetry)
	}
	retried, _ := asynq.GetRetryCount(ctx)
	maxRetry, _ := asynq.GetMaxRetry(ctx)
	return h.DataHub.RunJob(ctx, p.JobID, retried >= maxRetry)
}

// HandleImportAll queues an incremental import of every linked metering point.
func (h *Handlers) HandleImportAll(ctx context.Context, _ *asynq.Task) error {
	n, err := h.DataHub.QueueAllMeasurementImports(ctx)
	if err != nil {
		return err
	}
	h.Log.InfoContext(ctx, "incremental imports queued", "count", n)
	return nil
}
