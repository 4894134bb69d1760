package tasks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/hibiken/asynq"

	"github.com/originhub/originhub/internal/ledger/outbox"
	"github.com/originhub/originhub/internal/ledger/publish"
)

// Task types of the ledger outbox and publication.
const (
	TypeLedgerSubmit        = "ledger:submit"
	TypeLedgerPoll          = "ledger:poll"
	TypeLedgerSweep         = "ledger:sweep"
	TypePublishMeasurements = "ledger:publish-measurements"
)

// LedgerBatchPayload names one outbox batch; the handler reloads it.
type LedgerBatchPayload struct {
	BatchID string `json:"batchId"`
}

// PublishMeasurementsPayload names the hours [From, To) of one metering point to publish.
type PublishMeasurementsPayload struct {
	MeteringPointID int64     `json:"meteringPointId"`
	From            time.Time `json:"from"`
	To              time.Time `json:"to"`
}

// NewLedgerSubmitTask returns the post of batch id. Its task id is the batch id, so the
// batch is queued at most once at a time. It retries for days (the retry delay is capped at
// 10 min): an archived task would keep its id, and the sweeper could not queue it again.
func NewLedgerSubmitTask(id string) (*asynq.Task, error) {
	b, err := json.Marshal(LedgerBatchPayload{BatchID: id})
	if err != nil {
		return nil, err
	}
	return asynq.NewTask(TypeLedgerSubmit, b, asynq.TaskID("ledger:submit:"+id),
		asynq.Queue(QueueLedger), asynq.MaxRetry(1000), asynq.Timeout(2*time.Minute)), nil
}

// NewLedgerPollTask returns poll round `round` of batch id, due after delay.
func NewLedgerPollTask(id string, round int, delay time.Duration) (*asynq.Task, error) {
	b, err := json.Marshal(LedgerBatchPayload{BatchID: id})
	if err != nil {
		return nil, err
	}
	return asynq.NewTask(TypeLedgerPoll, b, asynq.TaskID("ledger:poll:"+id+":"+strconv.Itoa(round)),
		asynq.Queue(QueueLedger), asynq.MaxRetry(5), asynq.Timeout(time.Minute), asynq.ProcessIn(delay)), nil
}

// NewLedgerSweepTask returns the periodic recovery of batches whose tasks were lost.
func NewLedgerSweepTask() *asynq.Task {
	return asynq.NewTask(TypeLedgerSweep, nil, asynq.Queue(QueueLedger), asynq.MaxRetry(1), asynq.Timeout(2*time.Minute))
}

// NewPublishMeasurementsTask returns the publication of meteringPointID's hours in
// [from, to). Its id is the window, so the same window is not queued twice at once.
func NewPublishMeasurementsTask(meteringPointID int64, from, to time.Time) (*asynq.Task, error) {
	b, err := json.Marshal(PublishMeasurementsPayload{MeteringPointID: meteringPointID, From: from.UTC(), To: to.UTC()})
	if err != nil {
		return nil, err
	}
	id := fmt.Sprintf("ledger:publish-measurements:%d:%d:%d", meteringPointID, from.Unix(), to.Unix())
	return asynq.NewTask(TypePublishMeasurements, b, asynq.TaskID(id),
		asynq.Queue(QueueLedger), asynq.MaxRetry(10), asynq.Timeout(10*time.Minute)), nil
}

func (e Enqueuer) enqueue(ctx context.Context, t *asynq.Task, err error) error {
	if err != nil {
		return fmt.Errorf("build %s task: %w", TypeLedgerSubmit, err)
	}
	if _, err := e.Client.EnqueueContext(ctx, t); err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
		return fmt.Errorf("enqueue %s: %w", t.Type(), err)
	}
	return nil
}

// EnqueueSubmit queues the post of batch id (outbox.Queue).
func (e Enqueuer) EnqueueSubmit(ctx context.Context, id string) error {
	t, err := NewLedgerSubmitTask(id)
	return e.enqueue(ctx, t, err)
}

// EnqueuePoll queues poll round `round` of batch id after delay (outbox.Queue).
func (e Enqueuer) EnqueuePoll(ctx context.Context, id string, round int, delay time.Duration) error {
	t, err := NewLedgerPollTask(id, round, delay)
	return e.enqueue(ctx, t, err)
}

// EnqueuePublishMeasurements queues the publication of meteringPointID's hours in [from, to).
func (e Enqueuer) EnqueuePublishMeasurements(ctx context.Context, meteringPointID int64, from, to time.Time) error {
	t, err := NewPublishMeasurementsTask(meteringPointID, from, to)
	return e.enqueue(ctx, t, err)
}

var _ outbox.Queue = Enqueuer{}

func (h *Handlers) registerLedger(mux *asynq.ServeMux) {
	mux.HandleFunc(TypeLedgerSubmit, h.HandleLedgerSubmit)
	mux.HandleFunc(TypeLedgerPoll, h.HandleLedgerPoll)
	mux.HandleFunc(TypeLedgerSweep, h.HandleLedgerSweep)
	mux.HandleFunc(TypePublishMeasurements, h.HandlePublishMeasurements)
}

func decodeBatch(t *asynq.Task) (string, error) {
	var p LedgerBatchPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil || p.BatchID == "" {
		return "", fmt.Errorf("decode %s payload: %v: %w", t.Type(), err, asynq.SkipRetry)
	}
	return p.BatchID, nil
}

// HandleLedgerSubmit posts one outbox batch.
func (h *Handlers) HandleLedgerSubmit(ctx context.Context, t *asynq.Task) error {
	id, err := decodeBatch(t)
	if err != nil {
		return err
	}
	err = h.Outbox.Submit(ctx, id)
	if errors.Is(err, outbox.ErrNotFound) {
		return fmt.Errorf("%w: %w", err, asynq.SkipRetry)
	}
	return err
}

// HandleLedgerPoll follows the status of one outbox batch (and others due).
func (h *Handlers) HandleLedgerPoll(ctx context.Context, t *asynq.Task) error {
	id, err := decodeBatch(t)
	if err != nil {
		return err
	}
	return h.Outbox.Poll(ctx, id)
}

// HandleLedgerSweep recovers outbox batches whose tasks were lost.
func (h *Handlers) HandleLedgerSweep(ctx context.Context, _ *asynq.Task) error {
	n, err := h.Outbox.Sweep(ctx)
	if n > 0 {
		h.Log.InfoContext(ctx, "ledger batches swept", "count", n)
	}
	return err
}

// HandlePublishMeasurements publishes a window of one metering point's measurements.
func (h *Handlers) HandlePublishMeasurements(ctx context.Context, t *asynq.Task) error {
	var p PublishMeasurementsPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil || p.MeteringPointID <= 0 || !p.From.Before(p.To) {
		return fmt.Errorf("decode %s payload: %v: %w", t.Type(), err, asynq.SkipRetry)
	}
	if h.Publisher == nil {
		return fmt.Errorf("publication is not configured in this worker: %w", asynq.SkipRetry)
	}
	_, err := h.Publisher.PublishMeasurements(ctx, p.MeteringPointID, p.From, p.To)
	if errors.Is(err, publish.ErrNotFound) {
		return fmt.Errorf("%w: %w", err, asynq.SkipRetry)
	}
	return err
}
