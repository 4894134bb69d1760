package outbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/uptrace/bun"

	"github.com/originhub/originhub/internal/db"
	"github.com/originhub/originhub/internal/ledger"
	"github.com/originhub/originhub/internal/ledger/rest"
	"github.com/originhub/originhub/models"
)

// ErrDuplicateBatch is returned by Write when a live (not INVALID) batch with the same id is
// already in the outbox: the same change was already written.
var ErrDuplicateBatch = errors.New("ledger batch already in the outbox")

// Hooks finalise or undo the change a batch carries. They run inside the transaction that
// moves the batch to its final status, so the change and the status commit together.
type Hooks struct {
	// OnCommitted runs when the ledger committed the batch (may be nil).
	OnCommitted func(ctx context.Context, tx bun.IDB, b models.LedgerBatch) error
	// OnCommittedAll, when set, does what OnCommitted does for many committed batches of the
	// kind at once: pollers then finalise the batches one poll found committed together, in
	// one transaction, instead of a transaction each.
	OnCommittedAll func(ctx context.Context, tx bun.IDB, bs []models.LedgerBatch) error
	// OnInvalid runs when the ledger refused the batch; it must undo the change (may be nil).
	OnInvalid func(ctx context.Context, tx bun.IDB, b models.LedgerBatch) error
}

// Handlers are the hooks by batch kind.
type Handlers map[string]Hooks

// Ledger is what the outbox needs of the ledger's REST API (rest.Client).
type Ledger interface {
	Submit(ctx context.Context, b ledger.Batch) error
	Statuses(ctx context.Context, ids ...string) ([]rest.BatchStatus, error)
}

// Queue schedules the outbox's tasks (tasks.Enqueuer). Implementations make enqueueing
// idempotent per business key: a task already queued counts as success.
type Queue interface {
	// EnqueueSubmit queues the post of batch id.
	EnqueueSubmit(ctx context.Context, id string) error
	// EnqueuePoll queues a status poll of batch id in delay; round tells poll rounds apart.
	EnqueuePoll(ctx context.Context, id string, round int, delay time.Duration) error
}

// Backoff is the polling schedule.
type Backoff struct {
	// First is the wait between a post and the first status poll (default 250 ms).
	First time.Duration
	// Max bounds the wait between polls (default 30 s); from First/2 it grows by half each
	// poll.
	Max time.Duration
	// ResubmitAfter is how long a batch may read UNKNOWN after its post before its bytes
	// are posted again (default 10 s).
	ResubmitAfter time.Duration
	// Lease is how long a claimed batch is hidden from other pollers and the sweeper while
	// its status is fetched (default 30 s); a crashed poller's batches come back after it.
	Lease time.Duration
	// Grace is how long a new batch waits for the task enqueued after its commit before the
	// sweeper posts it (default 30 s).
	Grace time.Duration
}

func (b Backoff) withDefaults() Backoff {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&b.First, 250*time.Millisecond)
	def(&b.Max, 30*time.Second)
	def(&b.ResubmitAfter, 10*time.Second)
	def(&b.Lease, 30*time.Second)
	def(&b.Grace, 30*time.Second)
	return b
}

// delay is the wait before poll round n (0 after the post). Round 0 waits First, the time
// a commit usually takes; a batch still pending then is close to done, so later rounds
// restart at First/2 and grow by half each round up to Max.
func (b Backoff) delay(n int) time.Duration {
	if n == 0 {
		return b.First
	}
	d := max(b.First/2, time.Nanosecond)
	for range n - 1 {
		d += d / 2
		if d >= b.Max {
			return b.Max
		}
	}
	return d
}

// Deps are a Service's dependencies.
type Deps struct {
	DB        *bun.DB
	Ledger    Ledger
	Queue     Queue
	Publisher Publisher
	Handlers  Handlers
	Backoff   Backoff
	// PollEvery > 0 says every worker runs RunPoller with this period: batches are then
	// polled when their next_poll_at falls due, by whichever worker claims them, and no
	// per-batch poll task is queued. 0: each post and poll queues the next poll as a task.
	PollEvery time.Duration
	Clock     func() time.Time
	Log       *slog.Logger
}

// Service writes batches into the outbox and moves them to the ledger and through their
// statuses. Every status change commits before its event is published.
type Service struct {
	db       *bun.DB
	ledger   Ledger
	queue    Queue
	pub      Publisher
	handlers Handlers
	backoff  Backoff
	every    time.Duration
	clock    func() time.Time
	log      *slog.Logger
}

// NewService returns a Service.
func NewService(d Deps) *Service {
	if d.Clock == nil {
		d.Clock = func() time.Time { return time.Now().UTC() }
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	return &Service{db: d.DB, ledger: d.Ledger, queue: d.Queue, pub: d.Publisher, handlers: d.Handlers,
		backoff: d.Backoff.withDefaults(), every: d.PollEvery, clock: d.Clock, log: d.Log}
}

// Write stores batch as PENDING for userID, inside the caller's transaction tx: the batch
// exists exactly when the change it carries commits. After the commit, call Enqueue; if that
// is lost, the sweeper posts the batch after Backoff.Grace. A batch id that was INVALID
// before (the very same change, refused) is armed again. Errors: ErrDuplicateBatch.
func (s *Service) Write(ctx context.Context, tx bun.IDB, batch ledger.Batch, userID int64, kind string) error {
	if batch.ID == "" || len(batch.Bytes) == 0 {
		return errors.New("write ledger batch: empty batch")
	}
	next := s.clock().Add(s.backoff.Grace)
	const insert = `INSERT INTO ledger_batches (id, user_id, kind, body, status, next_poll_at)
		VALUES ($1, $2, $3, $4, 'PENDING', $5)
		ON CONFLICT (id) DO UPDATE SET status = 'PENDING', error = NULL, attempts = 0, submitted_at = NULL,
			committed_at = NULL, next_poll_at = EXCLUDED.next_poll_at, updated_at = now()
		WHERE ledger_batches.status = 'INVALID'`
	// The body goes as a bind parameter, in binary: bun would inline it as a hex literal,
	// twice its size to build and for Postgres to parse (a batch of a month's consumption is
	// most of a megabyte).
	res, err := db.ExecBinary(ctx, tx, insert, batch.ID, userID, kind, batch.Bytes, next)
	if err != nil {
		return fmt.Errorf("write ledger batch %s: %w", batch.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("write ledger batch %s: %w", batch.ID, ErrDuplicateBatch)
	}
	return nil
}

// Enqueue queues the post of each batch; call it after the transaction that wrote them
// committed. A failure here loses nothing: the sweeper posts the batches later.
func (s *Service) Enqueue(ctx context.Context, ids ...string) error {
	var errs []error
	for _, id := range ids {
		if err := s.queue.EnqueueSubmit(ctx, id); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Get returns batch id with its body (for tests and operators; no subject scope).
func (s *Service) Get(ctx context.Context, id string) (models.LedgerBatch, error) {
	var b models.LedgerBatch
	if err := s.db.NewSelect().Model(&b).Where("lb.id = ?", id).Scan(ctx); err != nil {
		return b, fmt.Errorf("load ledger batch %s: %w", id, err)
	}
	return b, nil
}

func (s *Service) notify(ctx context.Context, b models.LedgerBatch) {
	if s.pub == nil || b.UserID == nil {
		return
	}
	// The status change is committed; a lost event only delays the subscriber's view until
	// its next query, so it is logged, not retried.
	if err := Notify(ctx, s.pub, *b.UserID, Event{BatchID: b.ID, Status: b.Status}); err != nil {
		s.log.WarnContext(ctx, "ledger batch event not published", "batch_id", b.ID, "error", err)
	}
}

// Handle sets the hooks of batches of kind; call it while wiring, before any batch is
// processed (services that write batches are built after the outbox they use).
func (s *Service) Handle(kind string, h Hooks) {
	if s.handlers == nil {
		s.handlers = Handlers{}
	}
	s.handlers[kind] = h
}

type afterCommitKey struct{}

// AfterCommit registers fn to run once the transaction a hook runs in has committed — for
// side effects outside Postgres (queueing webhook deliveries) that must not happen when the
// status change rolls back. Outside a hook it does nothing.
func AfterCommit(ctx context.Context, fn func(context.Context)) {
	if list, ok := ctx.Value(afterCommitKey{}).(*[]func(context.Context)); ok {
		*list = append(*list, fn)
	}
}
