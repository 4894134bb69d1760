package tasks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"

	"github.com/originhub/originhub/internal/disclosure"
)

// Task types of disclosures.
const (
	TypeDisclosureCompile = "disclosure:compile"
	TypeDisclosureSweep   = "disclosure:sweep"
)

// DisclosureCompilePayload names the disclosure to compile; the handler reloads it.
type DisclosureCompilePayload struct {
	DisclosureID int64 `json:"disclosureId"`
}

// NewDisclosureCompileTask returns the compilation task of disclosure id. Unique dedupes a
// burst of edits into one run while one is queued; the run compiles whatever the definition
// is when it starts, and the sweep catches anything that slips through.
func NewDisclosureCompileTask(id int64) (*asynq.Task, error) {
	b, err := json.Marshal(DisclosureCompilePayload{DisclosureID: id})
	if err != nil {
		return nil, err
	}
	return asynq.NewTask(TypeDisclosureCompile, b, asynq.Queue(QueueDefault), asynq.MaxRetry(5),
		asynq.Timeout(10*time.Minute), asynq.Unique(5*time.Minute)), nil
}

// NewDisclosureSweepTask returns the periodic task that queues due compilations.
func NewDisclosureSweepTask() *asynq.Task {
	return asynq.NewTask(TypeDisclosureSweep, nil, asynq.Queue(QueueDefault), asynq.MaxRetry(2), asynq.Timeout(time.Minute))
}

// EnqueueDisclosureCompile queues the compilation of disclosure id; one already queued
// counts as queued.
func (e Enqueuer) EnqueueDisclosureCompile(ctx context.Context, id int64) error {
	t, err := NewDisclosureCompileTask(id)
	if err != nil {
		return fmt.Errorf("build disclosure task: %w", err)
	}
	if _, err := e.Client.EnqueueContext(ctx, t); err != nil && !errors.Is(err, asynq.ErrDuplicateTask) && !errors.Is(err, asynq.ErrTaskIDConflict) {
		return fmt.Errorf("enqueue disclosure compile %d: %w", id, err)
	}
	return nil
}

// HandleDisclosureCompile compiles one disclosure; a deleted one is done.
func (h *Handlers) HandleDisclosureCompile(ctx context.Context, t *asynq.Task) error {
	var p DisclosureCompilePayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil || p.DisclosureID <= 0 {
		return fmt.Errorf("decode disclosure payload: %v: %w", err, asynq.SkipRetry)
	}
	st, err := h.Disclosures.Compile(ctx, p.DisclosureID)
	if errors.Is(err, disclosure.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	h.Log.InfoContext(ctx, "disclosure compiled", "disclosure_id", p.DisclosureID, "version", st.Version,
		"hours_written", st.HoursWritten, "hours_deleted", st.HoursDeleted, "retired_written", st.RetiredWritten, "retired_deleted", st.RetiredDeleted)
	return nil
}

// HandleDisclosureSweep queues the compilations that are due.
func (h *Handlers) HandleDisclosureSweep(ctx context.Context, _ *asynq.Task) error {
	n, err := h.Disclosures.Sweep(ctx, 1000)
	if n > 0 {
		h.Log.InfoContext(ctx, "disclosure compilations queued", "count", n)
	}
	return err
}
