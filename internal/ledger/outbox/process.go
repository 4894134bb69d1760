package outbox

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/uptrace/bun"

	"github.com/originhub/originhub/internal/ledger"
	"github.com/originhub/originhub/internal/ledger/rest"
	"github.com/originhub/originhub/models"
)

// ErrNotFound is returned when a batch is not in the outbox.
var ErrNotFound = errors.New("ledger batch not found")

// openStatuses are the statuses a batch can still leave.
var openStatuses = []models.LedgerBatchStatus{models.LedgerBatchPending, models.LedgerBatchSubmitted, models.LedgerBatchUnknown}

// polledStatuses are the statuses whose batch the ledger has accepted at least once.
var polledStatuses = []models.LedgerBatchStatus{models.LedgerBatchSubmitted, models.LedgerBatchUnknown}

// maxClaim bounds the batches one poll asks the ledger about.
const maxClaim = 200

// Submit posts batch id's stored bytes to the ledger (the ledger:submit task), together
// with up to maxGroup-1 other PENDING batches of the same user in one request: operations of
// one account come in bursts, and each post costs a request and a task. It never builds a
// batch: a retry, a resubmission or a second worker resends the same bytes, which the ledger
// dedupes by batch id. The posted batches are locked (FOR UPDATE SKIP LOCKED) from before
// the post until they are recorded SUBMITTED, so concurrent submitters never post one
// batch twice; a batch already SUBMITTED, final, or in another submitter's post is left
// alone. When the ledger refuses a group at submission, each batch is posted on its own,
// and one it refuses becomes INVALID with its change rolled back. Errors: ErrNotFound, or
// the ledger or database error after which the task is retried.
func (s *Service) Submit(ctx context.Context, id string) error {
	return s.post(ctx, id, true)
}

// postable are the statuses whose batches a submission posts.
var postable = []models.LedgerBatchStatus{models.LedgerBatchPending, models.LedgerBatchUnknown}

// post posts batch id, with the user's other PENDING batches when together is set (see
// Submit).
func (s *Service) post(ctx context.Context, id string, together bool) error {
	var own struct {
		UserID *int64                   `bun:"user_id"`
		Status models.LedgerBatchStatus `bun:"status"`
	}
	err := s.db.NewRaw("SELECT user_id, status FROM ledger_batches WHERE id = ?", id).Scan(ctx, &own)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("submit ledger batch %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("load ledger batch %s: %w", id, err)
	}
	if !slices.Contains(postable, own.Status) {
		return nil // posted and recorded already, or final
	}
	var group []models.LedgerBatch
	var refused *rest.Error
	errRefused := errors.New("refused at submission")
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		group, refused = nil, nil
		if err := tx.NewSelect().Model(&group).Column("id", "user_id", "status", "body").
			Where("lb.id = ? AND lb.status IN (?)", id, bun.In(postable)).For("UPDATE SKIP LOCKED").Scan(ctx); err != nil {
			return fmt.Errorf("lock ledger batch %s to post: %w", id, err)
		}
		if len(group) == 0 {
			return nil // in another submitter's post, or done
		}
		if together && own.UserID != nil {
			// Only batches this post will carry are locked (a locked batch's own task leaves
			// it to us), and one request stays well below ledger APIs' body limits (the
			// stand-in's is 16 MiB; a consumption batch of many hours nears a megabyte).
			var more []models.LedgerBatch
			if err := tx.NewSelect().Model(&more).Column("id", "user_id", "status", "body").
				Where(`lb.id IN (SELECT id FROM (
					SELECT id, sum(octet_length(body)) OVER (ORDER BY created_at, id) AS size
					FROM ledger_batches WHERE user_id = ? AND status = ? AND id <> ?
					ORDER BY created_at, id LIMIT ?) c WHERE c.size <= ?)`,
					*own.UserID, models.LedgerBatchPending, id, maxGroup-1, maxGroupBytes-len(group[0].Body)).
				Where("lb.status = ?", models.LedgerBatchPending).
				OrderExpr("lb.created_at, lb.id").For("UPDATE SKIP LOCKED").Scan(ctx); err != nil {
				return fmt.Errorf("lock ledger batches to post with %s: %w", id, err)
			}
			group = append(group, more...)
		}
		var body []byte
		ids := make([]string, len(group))
		for i, b := range group {
			// A BatchList holding several batches is the concatenation of one-batch lists.
			body = append(body, b.Body...)
			ids[i] = b.ID
		}
		err := s.ledger.Submit(ctx, ledger.Batch{ID: strings.Join(ids, ","), Bytes: body})
		if errors.Is(err, rest.ErrBatchRejected) && errors.As(err, &refused) {
			return errRefused
		}
		if err != nil {
			return err
		}
		now := s.clock()
		var marked []struct {
			ID       string `bun:"id"`
			Attempts int    `bun:"attempts"`
		}
		if err := tx.NewUpdate().Model((*models.LedgerBatch)(nil)).Where("lb.id IN (?)", bun.In(ids)).
			Set("status = ?", models.LedgerBatchSubmitted).Set("attempts = lb.attempts + 1").Set("submitted_at = ?", now).
			Set("next_poll_at = ?", now.Add(s.backoff.First)).Set("updated_at = ?", now).
			Returning("lb.id, lb.attempts").Scan(ctx, &marked); err != nil {
			return fmt.Errorf("mark %d ledger batches submitted: %w", len(ids), err)
		}
		// A batch's attempts number its poll rounds.
		attempts := make(map[string]int, len(marked))
		for _, m := range marked {
			attempts[m.ID] = m.Attempts
		}
		for i := range group {
			group[i].Attempts = attempts[group[i].ID]
		}
		return nil
	})
	if errors.Is(err, errRefused) {
		if len(group) == 1 {
			return s.finish(ctx, id, models.LedgerBatchInvalid, refused.Message)
		}
		// One of them is malformed: post each alone, so only that one becomes INVALID.
		var errs []error
		for _, b := range group {
			errs = append(errs, s.post(ctx, b.ID, false))
		}
		return errors.Join(errs...)
	}
	if err != nil {
		return err
	}
	for _, b := range group {
		b.Status = models.LedgerBatchSubmitted
		s.notify(ctx, b)
		s.queuePoll(ctx, b.ID, b.Attempts, s.backoff.First)
	}
	return nil
}

// maxGroup and maxGroupBytes bound what one post carries.
const (
	maxGroup      = 50
	maxGroupBytes = 4 << 20
)

// queuePoll queues the next poll of batch id unless pollers claim due batches themselves.
func (s *Service) queuePoll(ctx context.Context, id string, round int, delay time.Duration) {
	if s.every > 0 {
		return
	}
	if err := s.queue.EnqueuePoll(ctx, id, round, delay); err != nil {
		// The sweeper polls it once next_poll_at is overdue.
		s.log.WarnContext(ctx, "ledger poll not queued", "batch_id", id, "error", err)
	}
}

// RunPoller polls due batches until ctx ends (with Deps.PollEvery set, in every worker):
// each round claims up to maxClaim batches whose next_poll_at has come, asks the ledger about
// them in one call and moves them on; a full claim is followed at once by the next round.
// Claims skip rows other pollers hold, so workers share the load. Errors are logged and the
// next round tries again.
func (s *Service) RunPoller(ctx context.Context) error {
	if s.every <= 0 {
		return nil
	}
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		rows, err := s.claim(ctx, polledStatuses, nil)
		if err == nil {
			err = s.pollClaimed(ctx, rows)
		}
		if err != nil && ctx.Err() == nil {
			s.log.WarnContext(ctx, "ledger poll round failed", "error", err)
		}
		if len(rows) == maxClaim {
			t.Reset(0)
		} else {
			t.Reset(s.every)
		}
	}
}

// claimed is a batch taken by one poller.
type claimed struct {
	ID          string                   `bun:"id"`
	Kind        string                   `bun:"kind"`
	Status      models.LedgerBatchStatus `bun:"status"`
	Attempts    int                      `bun:"attempts"`
	SubmittedAt *time.Time               `bun:"submitted_at"`
}

// claim leases up to maxClaim due batches in statuses, preferring ids, by pushing their
// next_poll_at past the lease: rows locked by another claimer are skipped, and a crashed
// claimer's rows come back when the lease ends.
func (s *Service) claim(ctx context.Context, statuses []models.LedgerBatchStatus, ids []string) ([]claimed, error) {
	now := s.clock()
	if len(ids) == 0 {
		ids = []string{""}
	}
	var rows []claimed
	err := s.db.NewRaw(`UPDATE ledger_batches SET next_poll_at = ? WHERE id IN (
			SELECT id FROM ledger_batches
			WHERE status IN (?) AND next_poll_at <= ?
			ORDER BY (id IN (?)) DESC, next_poll_at
			LIMIT ? FOR UPDATE SKIP LOCKED)
		RETURNING id, kind, status, attempts, submitted_at`,
		now.Add(s.backoff.Lease), bun.In(statuses), now, bun.In(ids), maxClaim).Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("claim ledger batches: %w", err)
	}
	return rows, nil
}

// Poll asks the ledger for the status of ids, and of other due batches in the same call
// (the ledger:poll task), and moves each batch on: COMMITTED and INVALID finalise it (with
// its hooks), PENDING and UNKNOWN schedule the next poll with backoff, and a batch UNKNOWN
// for longer than Backoff.ResubmitAfter is posted again with the same bytes. Batches not due
// (another poller has them) are skipped. Errors: the ledger or database error.
func (s *Service) Poll(ctx context.Context, ids ...string) error {
	if err := s.waitDue(ctx, ids); err != nil {
		return err
	}
	rows, err := s.claim(ctx, polledStatuses, ids)
	if err != nil {
		return err
	}
	return s.pollClaimed(ctx, rows)
}

// maxEarly bounds how long Poll waits for its batches to fall due. asynq schedules in whole
// seconds, so a poll task queued for 250 ms from now may start up to a second early; without
// the wait it would find its batch not due, skip it, and leave it to the sweeper.
const maxEarly = 1100 * time.Millisecond

// waitDue sleeps until the earliest next_poll_at of ids if that is at most maxEarly away.
func (s *Service) waitDue(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	var next []time.Time
	err := s.db.NewRaw("SELECT next_poll_at FROM ledger_batches WHERE id IN (?) AND status IN (?) AND next_poll_at IS NOT NULL ORDER BY next_poll_at LIMIT 1",
		bun.In(ids), bun.In(polledStatuses)).Scan(ctx, &next)
	if err != nil {
		return fmt.Errorf("load next poll of ledger batches: %w", err)
	}
	if len(next) == 0 {
		return nil
	}
	d := next[0].Sub(s.clock())
	if d <= 0 || d > maxEarly {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func (s *Service) pollClaimed(ctx context.Context, rows []claimed) error {
	if len(rows) == 0 {
		return nil
	}
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	sts, err := s.ledger.Statuses(ctx, ids...)
	if err != nil {
		// Give the batches back on the normal schedule rather than after the lease.
		for _, r := range rows {
			if rerr := s.reschedule(ctx, r, r.Status); rerr != nil {
				err = errors.Join(err, rerr)
			}
		}
		return err
	}
	// A few batches move on at once, as one poll may answer for hundreds and each
	// finalisation waits mostly on the database. Committed batches whose kind finalises many
	// at once go in groups, a transaction each; the others one by one.
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	sem := make(chan struct{}, finishers)
	run := func(fn func() error) {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := fn(); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	groups := map[string][]string{}
	for i, st := range sts {
		r := rows[i]
		if st.Status == rest.Committed && s.handlers[r.Kind].OnCommittedAll != nil {
			groups[r.Kind] = append(groups[r.Kind], r.ID)
			continue
		}
		run(func() error { return s.advance(ctx, r, st) })
	}
	for kind, ids := range groups {
		for start := 0; start < len(ids); start += groupSize {
			group := ids[start:min(start+groupSize, len(ids))]
			run(func() error { return s.finishAll(ctx, kind, group) })
		}
	}
	wg.Wait()
	return errors.Join(errs...)
}

// groupSize bounds the committed batches finalised in one transaction.
const groupSize = 25

// finishAll finalises committed batches of kind together, with the kind's OnCommittedAll
// hook, in one transaction. If the group fails, each batch is finalised on its own, so
// that one batch whose hook fails does not hold back the others.
func (s *Service) finishAll(ctx context.Context, kind string, ids []string) error {
	_, err := s.finalise(ctx, ids, models.LedgerBatchCommitted, "", s.handlers[kind].OnCommittedAll)
	if err == nil {
		return nil
	}
	s.log.WarnContext(ctx, "ledger batches finalised one by one", "kind", kind, "batches", len(ids), "error", err)
	var errs []error
	for _, id := range ids {
		errs = append(errs, s.finish(ctx, id, models.LedgerBatchCommitted, ""))
	}
	return errors.Join(errs...)
}

// finalise moves the open batches among ids to the final status with msg (one statement
// locks, checks and moves them; batches already final, whose hook ran then, are left out)
// and runs hook on those it moved, in one transaction; after the commit it runs what the
// hook deferred with AfterCommit and publishes each change. It returns the batches moved.
func (s *Service) finalise(ctx context.Context, ids []string, status models.LedgerBatchStatus, msg string,
	hook func(ctx context.Context, tx bun.IDB, bs []models.LedgerBatch) error) ([]models.LedgerBatch, error) {
	now := s.clock()
	var done []models.LedgerBatch
	var after []func(context.Context)
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		done, after = nil, nil
		ctx = context.WithValue(ctx, afterCommitKey{}, &after)
		set := tx.NewUpdate().Model((*models.LedgerBatch)(nil)).Where("lb.id IN (?) AND lb.status IN (?)", bun.In(ids), bun.In(openStatuses)).
			Set("status = ?", status).Set("attempts = lb.attempts + 1").Set("next_poll_at = NULL").Set("updated_at = ?", now)
		if status == models.LedgerBatchCommitted {
			set = set.Set("committed_at = ?", now)
		} else {
			set = set.Set("error = ?", msg)
		}
		if err := set.Returning(finishedColumns).Scan(ctx, &done); err != nil {
			return fmt.Errorf("finalise %d ledger batches: %w", len(ids), err)
		}
		if len(done) == 0 || hook == nil {
			return nil
		}
		if err := hook(ctx, tx, done); err != nil {
			return fmt.Errorf("%s hook of %d ledger batches: %w", status, len(done), err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, fn := range after {
		fn(ctx)
	}
	for _, b := range done {
		s.notify(ctx, b)
	}
	return done, nil
}

// finishedColumns are what a finalisation returns of a batch: all but its body.
const finishedColumns = "lb.id, lb.user_id, lb.kind, lb.status, lb.error, lb.attempts, lb.created_at, lb.submitted_at, lb.committed_at, lb.updated_at, lb.next_poll_at"

// finishers bounds the batches one poll moves on at once.
const finishers = 8

// advance moves one polled batch on by the status the ledger gave it.
func (s *Service) advance(ctx context.Context, r claimed, st rest.BatchStatus) error {
	switch st.Status {
	case rest.Committed:
		return s.finish(ctx, r.ID, models.LedgerBatchCommitted, "")
	case rest.Invalid:
		return s.finish(ctx, r.ID, models.LedgerBatchInvalid, st.Message())
	case rest.Pending:
		return s.reschedule(ctx, r, models.LedgerBatchSubmitted)
	}
	// UNKNOWN: not queued yet, or forgotten by the validator.
	if r.SubmittedAt == nil || s.clock().Sub(*r.SubmittedAt) >= s.backoff.ResubmitAfter {
		return s.resubmit(ctx, r)
	}
	return s.reschedule(ctx, r, models.LedgerBatchUnknown)
}

// reschedule records a poll that found the batch still open and queues the next one.
func (s *Service) reschedule(ctx context.Context, r claimed, status models.LedgerBatchStatus) error {
	now := s.clock()
	round := r.Attempts + 1
	delay := s.backoff.delay(round)
	var b models.LedgerBatch
	err := s.db.NewUpdate().Model(&b).Where("id = ?", r.ID).Where("status IN (?)", bun.In(openStatuses)).
		Set("status = ?", status).Set("attempts = ?", round).Set("next_poll_at = ?", now.Add(delay)).
		Set("updated_at = ?", now).Returning("id, user_id, status").Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil // finalised meanwhile
	}
	if err != nil {
		return fmt.Errorf("reschedule ledger batch %s: %w", r.ID, err)
	}
	if status != r.Status {
		s.notify(ctx, b)
	}
	s.queuePoll(ctx, r.ID, round, delay)
	return nil
}

// resubmit marks a batch the ledger does not know as UNKNOWN and posts its bytes again.
func (s *Service) resubmit(ctx context.Context, r claimed) error {
	now := s.clock()
	var b models.LedgerBatch
	err := s.db.NewUpdate().Model(&b).Where("id = ?", r.ID).Where("status IN (?)", bun.In(openStatuses)).
		Set("status = ?", models.LedgerBatchUnknown).Set("attempts = attempts + 1").
		Set("updated_at = ?", now).Returning("id, user_id, status").Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("mark ledger batch %s unknown: %w", r.ID, err)
	}
	if r.Status != models.LedgerBatchUnknown {
		s.notify(ctx, b)
	}
	s.log.InfoContext(ctx, "ledger batch unknown, posting again", "batch_id", r.ID)
	return s.queue.EnqueueSubmit(ctx, r.ID)
}

// finish moves batch id to the final status with msg, running its kind's hook in the same
// transaction, then publishes the change. A batch already final is left alone, so a status
// is finalised (and its hook run, and its event sent) exactly once.
func (s *Service) finish(ctx context.Context, id string, status models.LedgerBatchStatus, msg string) error {
	done, err := s.finalise(ctx, []string{id}, status, msg, func(ctx context.Context, tx bun.IDB, bs []models.LedgerBatch) error {
		hook := s.handlers[bs[0].Kind].OnCommitted
		if status != models.LedgerBatchCommitted {
			hook = s.handlers[bs[0].Kind].OnInvalid
		}
		if hook == nil {
			return nil
		}
		return hook(ctx, tx, bs[0])
	})
	if err == nil && len(done) == 1 && status == models.LedgerBatchInvalid {
		s.log.WarnContext(ctx, "ledger batch invalid", "batch_id", id, "kind", done[0].Kind, "message", msg)
	}
	return err
}

// Sweep recovers batches whose tasks were lost (the ledger:sweep task, run every minute):
// it claims open batches whose next_poll_at is overdue, queues the post of those never
// accepted, and polls the others at once. Errors: the ledger or database error.
func (s *Service) Sweep(ctx context.Context) (int, error) {
	pending, err := s.claim(ctx, []models.LedgerBatchStatus{models.LedgerBatchPending}, nil)
	if err != nil {
		return 0, err
	}
	var errs []error
	for _, r := range pending {
		if err := s.queue.EnqueueSubmit(ctx, r.ID); err != nil {
			errs = append(errs, err)
		}
	}
	polled, err := s.claim(ctx, polledStatuses, nil)
	if err != nil {
		return len(pending), errors.Join(append(errs, err)...)
	}
	errs = append(errs, s.pollClaimed(ctx, polled))
	return len(pending) + len(polled), errors.Join(errs...)
}
