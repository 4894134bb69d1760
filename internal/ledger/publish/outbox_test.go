package publish_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/uptrace/bun"

	"github.com/originhub/originhub/internal/ledger/outbox"
	"github.com/originhub/originhub/internal/ledger/publish"
	"github.com/originhub/originhub/internal/testkit"
	"github.com/originhub/originhub/models"
	"github.com/originhub/originhub/tasks"
)

// TestCrashBetweenPostAndCommit kills a worker right after its post reached the ledger and
// before it recorded it, then starts a new worker (real asynq server, stand-in committer)
// whose sweeper finds the batch: it ends COMMITTED exactly once.
func TestCrashBetweenPostAndCommit(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t, outbox.Backoff{First: 20 * time.Millisecond})
	userID, mpID := f.user(t, models.MeteringPointProduction, 2)
	events := f.events(t, userID)

	ids, err := f.pub.PublishMeasurements(ctx, mpID, hour0, hour0.Add(2*time.Hour))
	if err != nil || len(ids) != 1 {
		t.Fatalf("PublishMeasurements() = %v, %v", ids, err)
	}
	id := ids[0]
	// The enqueued submit task belongs to the dead worker: drop it, as a crash between
	// commit and enqueue would have.
	insp := asynq.NewInspector(asynq.RedisClientOpt{Addr: testkit.RedisOptions(t).Addr, DB: testkit.RedisOptions(t).DB})
	defer insp.Close()
	_ = insp.DeleteTask(tasks.QueueLedger, "ledger:submit:"+id)

	// Worker 1 posts and dies before recording the post.
	wctx, kill := context.WithCancel(ctx)
	deps := f.deps
	deps.Ledger = ctxCancelLedger{Ledger: f.client, cancel: kill}
	if err := outbox.NewService(deps).Submit(wctx, id); err == nil {
		t.Fatal("Submit() of the killed worker = nil, want its context error")
	}
	if b := f.batch(t, id); b.Status != models.LedgerBatchPending {
		t.Fatalf("after the crash batch = %s, want PENDING", b.Status)
	}

	// Worker 2: a real asynq server with the outbox handlers, and the stand-in's committer.
	// Its clock runs past the outbox grace period, so the sweep finds the batch overdue.
	deps = f.deps
	deps.Backoff = outbox.Backoff{First: 20 * time.Millisecond}
	deps.Clock = func() time.Time { return time.Now().UTC().Add(time.Minute) }
	ob2 := outbox.NewService(deps)
	log := slog.New(slog.DiscardHandler)
	srv := tasks.NewServer(asynq.RedisClientOpt{Addr: testkit.RedisOptions(t).Addr, DB: testkit.RedisOptions(t).DB},
		tasks.ServerConfig{Concurrency: 4, ShutdownTimeout: 5 * time.Second}, log)
	if err := srv.Start(tasks.NewMux(&tasks.Handlers{DB: f.db, Log: log, Outbox: ob2, Publisher: f.pub})); err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	go func() { _ = f.standin.Run(runCtx) }()

	if n, err := ob2.Sweep(ctx); err != nil || n < 1 {
		t.Fatalf("Sweep() = %d, %v; want at least our batch", n, err)
	}
	testkit.Eventually(t, 10*time.Second, func() bool { return f.batch(t, id).Status == models.LedgerBatchCommitted }, "batch COMMITTED")

	// Late duplicates change nothing.
	if err := ob2.Submit(ctx, id); err != nil {
		t.Fatal(err)
	}
	if got := f.standinCount(t, id, "COMMITTED"); got != 1 {
		t.Fatalf("stand-in committed batches = %d, want 1", got)
	}
	// The sweep also posts other tests' overdue batches of this package's database; every
	// post of ours (its id is in its bytes) must carry the stored bytes.
	var ours int
	for _, p := range f.proxy.Posts() {
		if !bytes.Contains(p, []byte(id)) {
			continue
		}
		ours++
		if !bytes.Equal(p, f.batch(t, id).Body) {
			t.Fatal("a post differs from the stored batch bytes")
		}
	}
	if ours < 2 {
		t.Fatalf("%d posts of the batch, want the killed worker's and the sweep's", ours)
	}
	var committed int
	for _, ev := range drain(events, 300*time.Millisecond) {
		if ev.BatchID != id {
			t.Fatalf("event for batch %s, want only %s", ev.BatchID, id)
		}
		if ev.Status == models.LedgerBatchCommitted {
			committed++
		}
	}
	if committed != 1 {
		t.Fatalf("COMMITTED events = %d, want 1", committed)
	}
}

// TestRetriesResendSameBytes provokes a network failure on the post and a post the ledger
// never saw (UNKNOWN), and checks the batch still commits, every post carrying the same bytes.
func TestRetriesResendSameBytes(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t, outbox.Backoff{First: time.Nanosecond, ResubmitAfter: time.Nanosecond})
	_, mpID := f.user(t, models.MeteringPointConsumption, 3)
	ids, err := f.pub.PublishMeasurements(ctx, mpID, hour0, hour0.Add(3*time.Hour))
	if err != nil || len(ids) != 1 {
		t.Fatalf("PublishMeasurements() = %v, %v", ids, err)
	}
	id := ids[0]

	f.proxy.set(0, 1) // the first post fails with 503
	if err := f.outbox.Submit(ctx, id); err == nil {
		t.Fatal("Submit() through a failing ledger = nil, want an error")
	}
	if b := f.batch(t, id); b.Status != models.LedgerBatchPending {
		t.Fatalf("after a failed post batch = %s, want PENDING", b.Status)
	}
	f.proxy.set(1, 0) // the next post is answered 202 but lost
	if err := f.outbox.Submit(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := f.outbox.Poll(ctx, id); err != nil { // the ledger does not know it: UNKNOWN, post again
		t.Fatal(err)
	}
	if b := f.batch(t, id); b.Status != models.LedgerBatchUnknown {
		t.Fatalf("after a lost post batch = %s, want UNKNOWN", b.Status)
	}
	if err := f.outbox.Submit(ctx, id); err != nil { // the resubmission the poll queued
		t.Fatal(err)
	}
	f.commit(t)
	if err := f.outbox.Poll(ctx, id); err != nil {
		t.Fatal(err)
	}
	b := f.batch(t, id)
	if b.Status != models.LedgerBatchCommitted {
		t.Fatalf("batch = %s, want COMMITTED", b.Status)
	}
	posts := f.proxy.Posts()
	if len(posts) != 3 {
		t.Fatalf("posts = %d, want 3 (failed, lost, delivered)", len(posts))
	}
	if !slices.EqualFunc(posts, slices.Repeat([][]byte{b.Body}, 3), bytes.Equal) {
		t.Fatal("posts differ from the stored batch bytes")
	}
}

// TestLedgerStateByHours checks the loader's query: one user's published hours with their
// batch status, nothing of another user's.
func TestLedgerStateByHours(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t, outbox.Backoff{})
	alice, aliceMP := f.user(t, models.MeteringPointProduction, 2)
	_, bobMP := f.user(t, models.MeteringPointProduction, 1)
	for _, mp := range []int64{aliceMP, bobMP} {
		if _, err := f.pub.PublishMeasurements(ctx, mp, hour0, hour0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	store := publish.NewStore(f.db)
	keys := []publish.HourKey{publish.KeyOf(aliceMP, hour0), publish.KeyOf(aliceMP, hour0.Add(time.Hour)), publish.KeyOf(bobMP, hour0)}
	got, err := store.ByHours(ctx, alice, keys)
	if err != nil {
		t.Fatal(err)
	}
	st, ok := got[keys[0]]
	if len(got) != 1 || !ok || st.Status != models.LedgerBatchPending || st.Address == "" || st.BatchID == "" {
		t.Fatalf("ByHours() = %+v, want only alice's first hour, PENDING", got)
	}
}

// pollCounter counts the poll tasks an outbox queues.
type pollCounter struct {
	outbox.Queue
	mu    sync.Mutex
	polls int
}

func (q *pollCounter) EnqueuePoll(ctx context.Context, id string, round int, delay time.Duration) error {
	q.mu.Lock()
	q.polls++
	q.mu.Unlock()
	return q.Queue.EnqueuePoll(ctx, id, round, delay)
}

// TestPollerFinalisesCommittedBatchesTogether: batches one poll finds committed go to their
// kind's OnCommittedAll hook together, and when that fails each is finalised on its own
// (OnCommitted), so none is left behind.
func TestPollerFinalisesCommittedBatchesTogether(t *testing.T) {
	for _, fail := range []bool{false, true} {
		t.Run(map[bool]string{false: "together", true: "fallback"}[fail], func(t *testing.T) {
			ctx := t.Context()
			f := newFixture(t, outbox.Backoff{First: 10 * time.Millisecond})
			ids := f.publishHours(t, 3)
			var mu sync.Mutex
			var groups [][]string
			var single []string
			hooks := publish.Hooks()
			hooks.OnCommittedAll = func(ctx context.Context, tx bun.IDB, bs []models.LedgerBatch) error {
				mu.Lock()
				defer mu.Unlock()
				var g []string
				for _, b := range bs {
					g = append(g, b.ID)
				}
				groups = append(groups, g)
				if fail {
					return errors.New("a hook that fails")
				}
				return nil
			}
			hooks.OnCommitted = func(ctx context.Context, tx bun.IDB, b models.LedgerBatch) error {
				mu.Lock()
				defer mu.Unlock()
				single = append(single, b.ID)
				return nil
			}
			deps := f.deps
			deps.Handlers, deps.PollEvery = outbox.Handlers{publish.Kind: hooks}, 20*time.Millisecond
			ob := outbox.NewService(deps)
			for _, id := range ids {
				if err := ob.Submit(ctx, id); err != nil {
					t.Fatal(err)
				}
			}
			f.commit(t)                       // all three committed before the first poll
			time.Sleep(50 * time.Millisecond) // and due (First is 10 ms)
			runCtx, stop := context.WithCancel(ctx)
			var wg sync.WaitGroup
			wg.Go(func() { _ = ob.RunPoller(runCtx) })
			testkit.Eventually(t, 10*time.Second, func() bool {
				for _, id := range ids {
					if f.batch(t, id).Status != models.LedgerBatchCommitted {
						return false
					}
				}
				return true
			}, "every batch COMMITTED")
			stop()
			wg.Wait()
			mu.Lock()
			defer mu.Unlock()
			if len(groups) != 1 || len(groups[0]) != 3 {
				t.Fatalf("OnCommittedAll calls = %v, want one with the three batches", groups)
			}
			if want := map[bool]int{false: 0, true: 3}[fail]; len(single) != want {
				t.Fatalf("OnCommitted calls = %v, want %d", single, want)
			}
		})
	}
}

// TestPollerMovesDueBatches runs the outbox with PollEvery: the worker's poller, not a poll
// task per batch, finds the posted batches due, asks the ledger and finalises them, with
// their PENDING rounds in between.
func TestPollerMovesDueBatches(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t, outbox.Backoff{First: 10 * time.Millisecond})
	ids := f.publishHours(t, 3)
	q := &pollCounter{Queue: f.queue}
	deps := f.deps
	deps.Queue, deps.PollEvery = q, 20*time.Millisecond
	ob := outbox.NewService(deps)
	for _, id := range ids {
		if err := ob.Submit(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	runCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { _ = ob.RunPoller(runCtx) })
	// The ledger commits only after a few polls have found the batches PENDING.
	time.Sleep(100 * time.Millisecond)
	wg.Go(func() { _ = f.standin.Run(runCtx) })
	testkit.Eventually(t, 10*time.Second, func() bool {
		for _, id := range ids {
			if f.batch(t, id).Status != models.LedgerBatchCommitted {
				return false
			}
		}
		return true
	}, "every batch COMMITTED by the poller")
	stop()
	wg.Wait()
	for _, id := range ids {
		if b := f.batch(t, id); b.Attempts < 3 {
			t.Errorf("batch %s finalised after %d attempts, want the post, PENDING polls and the final one", id, b.Attempts)
		}
	}
	if q.polls != 0 {
		t.Errorf("%d poll tasks queued, want none with a poller", q.polls)
	}
}

// publishHours publishes n hours of a new production point, an hour a batch, and returns
// the batch ids.
func (f *fixture) publishHours(t *testing.T, n int) []string {
	t.Helper()
	_, mpID := f.user(t, models.MeteringPointProduction, n)
	var ids []string
	for h := range n {
		got, err := f.pub.PublishMeasurements(t.Context(), mpID, hour0.Add(time.Duration(h)*time.Hour), hour0.Add(time.Duration(h+1)*time.Hour))
		if err != nil || len(got) != 1 {
			t.Fatalf("PublishMeasurements(hour %d) = %v, %v", h, got, err)
		}
		ids = append(ids, got...)
	}
	return ids
}
