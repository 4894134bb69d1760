package webhook_test

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/uptrace/bun"

	"github.com/originhub/originhub/internal/testkit"
	"github.com/originhub/originhub/internal/webhook"
	"github.com/originhub/originhub/models"
	"github.com/originhub/originhub/tasks"
)

// TestSignaturesVerify delivers one event to a subscription with its own secret and one
// without: each receiver's request verifies with the right secret only.
func TestSignaturesVerify(t *testing.T) {
	e := newEnv(t)
	uid := newUser(t)
	own, plain := newReceiver(t, 200), newReceiver(t, 204)
	const ownSecret = "the-subscribers-own-secret"
	if _, err := e.svc.Subscribe(t.Context(), uid, webhook.SubscribeInput{Event: webhook.EventGGOReceived, URL: own.URL + "/hook", Secret: ownSecret}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Subscribe(t.Context(), uid, webhook.SubscribeInput{Event: webhook.EventGGOReceived, URL: plain.URL + "/hook"}); err != nil {
		t.Fatal(err)
	}
	ids := e.emit(t, uid, webhook.EventGGOReceived, map[string]any{"address": "abc", "amount": 1000})
	if len(ids) != 2 {
		t.Fatalf("Emit() = %d deliveries, want 2", len(ids))
	}
	for _, id := range ids {
		if err := e.svc.Deliver(t.Context(), id); err != nil {
			t.Fatalf("Deliver(%d) = %v", id, err)
		}
	}
	var eventIDs []string
	for _, tc := range []struct {
		name             string
		r                *receiver
		secret, notValid string
	}{
		{"own secret", own, ownSecret, defaultSecret},
		{"default secret", plain, defaultSecret, ownSecret},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.r.requests()
			if len(got) != 1 {
				t.Fatalf("receiver got %d requests, want 1", len(got))
			}
			h, body := got[0].header, got[0].body
			ts, sig := h.Get(webhook.HeaderTimestamp), h.Get(webhook.HeaderSignature)
			if err := webhook.Verify(tc.secret, ts, body, sig, 5*time.Minute); err != nil {
				t.Fatalf("Verify(right secret) = %v", err)
			}
			if err := webhook.Verify(tc.notValid, ts, body, sig, 5*time.Minute); !errors.Is(err, webhook.ErrBadSignature) {
				t.Fatalf("Verify(other secret) = %v, want ErrBadSignature", err)
			}
			tampered := []byte(strings.Replace(string(body), "1000", "9000", 1))
			if err := webhook.Verify(tc.secret, ts, tampered, sig, 5*time.Minute); !errors.Is(err, webhook.ErrBadSignature) {
				t.Fatalf("Verify(tampered body) = %v, want ErrBadSignature", err)
			}
			n, _ := strconv.ParseInt(ts, 10, 64)
			if err := webhook.VerifyAt(tc.secret, ts, body, sig, 5*time.Minute, time.Unix(n, 0).Add(time.Hour)); !errors.Is(err, webhook.ErrStaleTimestamp) {
				t.Fatalf("Verify an hour later = %v, want ErrStaleTimestamp", err)
			}
			id, event, createdAt, data := decodeBody(t, body)
			if event != "GGO_RECEIVED" || h.Get(webhook.HeaderEvent) != event || h.Get(webhook.HeaderDelivery) != id || id == "" {
				t.Fatalf("event %q id %q headers %v", event, id, h)
			}
			if _, err := time.Parse(time.RFC3339Nano, createdAt); err != nil || string(data) != `{"address":"abc","amount":1000}` {
				t.Fatalf("createdAt %q data %s", createdAt, data)
			}
			if h.Get("Content-Type") != "application/json" {
				t.Fatalf("Content-Type = %q", h.Get("Content-Type"))
			}
			eventIDs = append(eventIDs, id)
		})
	}
	if len(eventIDs) == 2 && eventIDs[0] != eventIDs[1] {
		t.Fatalf("event ids %v differ; one event has one id", eventIDs)
	}
	for _, id := range ids {
		if d := e.delivery(t, id); d.State != models.WebhookDeliverySucceeded || d.Attempts != 1 || d.FinishedAt == nil || d.NextAttemptAt != nil {
			t.Fatalf("delivery %d = %+v, want SUCCEEDED after 1 attempt", id, d)
		}
	}
}

// TestFailingReceiverRetried runs the handler directly: 500, 500, then 200 makes three
// attempts, each in the log, with the retry delay handed to the queue.
func TestFailingReceiverRetried(t *testing.T) {
	e := newEnv(t, func(c *webhook.Config) {
		c.RetryDelay = func(n int) time.Duration { return time.Duration(n) * time.Minute }
	})
	uid := newUser(t)
	r := newReceiver(t, 500, 500, 200)
	if _, err := e.svc.Subscribe(t.Context(), uid, webhook.SubscribeInput{Event: webhook.EventOperationCommitted, URL: r.URL}); err != nil {
		t.Fatal(err)
	}
	id := e.emit(t, uid, webhook.EventOperationCommitted, map[string]string{"operation": "1"})[0]
	h := &tasks.Handlers{Webhooks: e.svc, Log: quiet()}
	task, err := tasks.NewWebhookDeliverTask(id)
	if err != nil {
		t.Fatal(err)
	}
	for n := 1; n <= 2; n++ {
		err := h.HandleWebhookDeliver(t.Context(), task)
		var re *webhook.RetryError
		if !errors.As(err, &re) {
			t.Fatalf("attempt %d: HandleWebhookDeliver() = %v, want a RetryError", n, err)
		}
		base := time.Duration(n) * time.Minute
		if re.Delay < base || re.Delay > base+base/10 {
			t.Fatalf("attempt %d: retry delay %s, want %s plus up to 10%% jitter", n, re.Delay, base)
		}
		d := e.delivery(t, id)
		if d.State != models.WebhookDeliveryPending || d.Attempts != n || d.LastStatusCode == nil || *d.LastStatusCode != 500 || d.NextAttemptAt == nil {
			t.Fatalf("after attempt %d: %+v", n, d)
		}
		// The log's next attempt is the attempt's start plus the delay the queue was given
		// (plus the attempt's own duration).
		if diff := d.NextAttemptAt.Sub(d.LastAttemptAt.Add(re.Delay)); diff < -time.Millisecond || diff > 2*time.Second {
			t.Fatalf("next attempt at %s, last attempt at %s, delay %s", d.NextAttemptAt, d.LastAttemptAt, re.Delay)
		}
	}
	if err := h.HandleWebhookDeliver(t.Context(), task); err != nil {
		t.Fatalf("attempt 3: HandleWebhookDeliver() = %v, want nil", err)
	}
	// A duplicate task after success does nothing.
	if err := h.HandleWebhookDeliver(t.Context(), task); err != nil {
		t.Fatalf("duplicate run = %v", err)
	}
	if n := len(r.requests()); n != 3 {
		t.Fatalf("receiver got %d requests, want 3", n)
	}
	log := e.attempts(t, id)
	if len(log) != 3 {
		t.Fatalf("attempt log has %d rows, want 3", len(log))
	}
	for i, want := range []int{500, 500, 200} {
		a := log[i]
		if a.Attempt != i+1 || a.StatusCode == nil || *a.StatusCode != want || (want == 500) != (a.Error != nil) {
			t.Fatalf("attempt %d = %+v, want status %d", i+1, a, want)
		}
	}
	if !strings.Contains(*log[0].Error, "HTTP 500") {
		t.Fatalf("attempt 1 error = %q", *log[0].Error)
	}
	if d := e.delivery(t, id); d.State != models.WebhookDeliverySucceeded || d.Attempts != 3 {
		t.Fatalf("delivery = %+v, want SUCCEEDED after 3 attempts", d)
	}
	// Every attempt carried the same event id and body, each freshly signed.
	got := r.requests()
	for _, g := range got[1:] {
		if g.header.Get(webhook.HeaderDelivery) != got[0].header.Get(webhook.HeaderDelivery) || string(g.body) != string(got[0].body) {
			t.Fatal("attempts differ in event id or body")
		}
	}
}

// TestFailsAfterLastAttempt: a receiver that never answers 2xx (here with a redirect, which
// is not followed) leaves the delivery FAILED after MaxAttempts, and later runs do nothing.
func TestFailsAfterLastAttempt(t *testing.T) {
	e := newEnv(t, func(c *webhook.Config) { c.MaxAttempts = 2 })
	uid := newUser(t)
	r := newReceiver(t, http.StatusFound)
	if _, err := e.svc.Subscribe(t.Context(), uid, webhook.SubscribeInput{Event: webhook.EventOperationFailed, URL: r.URL}); err != nil {
		t.Fatal(err)
	}
	id := e.emit(t, uid, webhook.EventOperationFailed, nil)[0]
	var re *webhook.RetryError
	if err := e.svc.Deliver(t.Context(), id); !errors.As(err, &re) {
		t.Fatalf("first Deliver() = %v, want RetryError", err)
	}
	if err := e.svc.Deliver(t.Context(), id); err != nil {
		t.Fatalf("last Deliver() = %v, want nil", err)
	}
	if err := e.svc.Deliver(t.Context(), id); err != nil {
		t.Fatalf("Deliver() after the end = %v, want nil", err)
	}
	d := e.delivery(t, id)
	if d.State != models.WebhookDeliveryFailed || d.Attempts != 2 || d.NextAttemptAt != nil || d.FinishedAt == nil || *d.LastStatusCode != http.StatusFound {
		t.Fatalf("delivery = %+v, want FAILED after 2 attempts", d)
	}
	if n := len(r.requests()); n != 2 {
		t.Fatalf("receiver got %d requests, want 2", n)
	}
	if err := e.svc.Deliver(t.Context(), 1<<40); !errors.Is(err, webhook.ErrNotFound) {
		t.Fatalf("Deliver(unknown) = %v, want ErrNotFound", err)
	}
}

// TestRetriedThroughQueue runs the real asynq worker: the receiver fails twice and the
// queue retries on the delay the delivery log shows until the third attempt succeeds.
func TestRetriedThroughQueue(t *testing.T) {
	e := newEnv(t, func(c *webhook.Config) { c.RetryDelay = func(int) time.Duration { return 50 * time.Millisecond } })
	uid := newUser(t)
	r := newReceiver(t, 500, 503, 200)
	if _, err := e.svc.Subscribe(t.Context(), uid, webhook.SubscribeInput{Event: webhook.EventGGOIssued, URL: r.URL}); err != nil {
		t.Fatal(err)
	}
	srv := tasks.NewServer(e.redis, tasks.ServerConfig{
		Concurrency: 2, ShutdownTimeout: 5 * time.Second, Queues: map[string]int{tasks.QueueWebhook: 1},
	}, quiet())
	if err := srv.Start(tasks.NewMux(&tasks.Handlers{Webhooks: e.svc, Log: quiet()})); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)

	var ids []int64
	err := e.db.RunInTx(t.Context(), nil, func(ctx context.Context, tx bun.Tx) error {
		var err error
		ids, err = e.svc.Emit(ctx, tx, uid, webhook.EventGGOIssued, map[string]int64{"amountWh": 1234})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := e.svc.Enqueue(t.Context(), ids); err != nil {
		t.Fatalf("Enqueue() = %v", err)
	}
	testkit.Eventually(t, 20*time.Second, func() bool {
		return e.delivery(t, ids[0]).State != models.WebhookDeliveryPending
	}, "the delivery to finish")
	t.Logf("finished after %s", time.Since(start))
	d := e.delivery(t, ids[0])
	if d.State != models.WebhookDeliverySucceeded || d.Attempts != 3 {
		t.Fatalf("delivery = %+v, want SUCCEEDED after 3 attempts", d)
	}
	var codes []int
	for _, a := range e.attempts(t, ids[0]) {
		codes = append(codes, *a.StatusCode)
	}
	if len(codes) != 3 || codes[0] != 500 || codes[1] != 503 || codes[2] != 200 {
		t.Fatalf("attempt statuses = %v, want [500 503 200]", codes)
	}
}

// TestSweepQueuesLostDeliveries: a delivery whose task never got queued (the process died
// after the commit) is queued by the sweeper once overdue, and only then.
func TestSweepQueuesLostDeliveries(t *testing.T) {
	e := newEnv(t)
	uid := newUser(t)
	if _, err := e.svc.Subscribe(t.Context(), uid, webhook.SubscribeInput{Event: webhook.EventForecastReceived, URL: "http://127.0.0.1:9/lost"}); err != nil {
		t.Fatal(err)
	}
	id := e.emit(t, uid, webhook.EventForecastReceived, map[string]string{"forecast": "f"})[0]
	insp := asynq.NewInspector(e.redis)
	defer insp.Close()
	taskID := "webhook:deliver:" + strconv.FormatInt(id, 10)
	queued := func() bool {
		_, err := insp.GetTaskInfo(tasks.QueueWebhook, taskID)
		return err == nil
	}
	if _, err := e.svc.Sweep(t.Context()); err != nil || queued() {
		t.Fatalf("Sweep() before the grace period queued it (err %v)", err)
	}
	e.clock.advance(10 * time.Minute)
	if _, err := e.svc.Sweep(t.Context()); err != nil {
		t.Fatalf("Sweep() = %v", err)
	}
	if !queued() {
		t.Fatal("overdue delivery not queued by the sweeper")
	}
	// Sweeping again while it is queued is harmless.
	if _, err := e.svc.Sweep(t.Context()); err != nil {
		t.Fatalf("second Sweep() = %v", err)
	}

	// Finished deliveries leave the log after the retention, pending ones never do.
	done := e.emit(t, uid, webhook.EventForecastReceived, 2)[0]
	if _, err := e.db.NewUpdate().Model((*models.WebhookDelivery)(nil)).
		Set("state = 'SUCCEEDED', finished_at = ?, next_attempt_at = NULL", e.clock.now()).Where("id = ?", done).Exec(t.Context()); err != nil {
		t.Fatal(err)
	}
	e.clock.advance(webhook.DefaultRetention + time.Hour)
	if _, err := e.svc.Sweep(t.Context()); err != nil {
		t.Fatalf("Sweep() after the retention = %v", err)
	}
	left := func(id int64) bool {
		ok, err := e.db.NewSelect().Model((*models.WebhookDelivery)(nil)).Where("id = ?", id).Exists(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if left(done) || !left(id) {
		t.Fatalf("after the retention: finished kept %v, pending kept %v; want false, true", left(done), left(id))
	}
}

// TestEmitFollowsTheCallersTransaction: a rolled-back emitter leaves no deliveries.
func TestEmitFollowsTheCallersTransaction(t *testing.T) {
	e := newEnv(t)
	uid := newUser(t)
	if _, err := e.svc.Subscribe(t.Context(), uid, webhook.SubscribeInput{Event: webhook.EventMeasurementPublished, URL: "http://127.0.0.1:9/x"}); err != nil {
		t.Fatal(err)
	}
	rollback := errors.New("caller failed")
	var ids []int64
	err := e.db.RunInTx(t.Context(), nil, func(ctx context.Context, tx bun.Tx) error {
		var err error
		if ids, err = e.svc.Emit(ctx, tx, uid, webhook.EventMeasurementPublished, 1); err != nil {
			return err
		}
		return rollback
	})
	if !errors.Is(err, rollback) || len(ids) != 1 {
		t.Fatalf("RunInTx() = %v with %d ids", err, len(ids))
	}
	n, err := e.db.NewSelect().Model((*models.WebhookDelivery)(nil)).Where("user_id = ?", uid).Count(t.Context())
	if err != nil || n != 0 {
		t.Fatalf("deliveries after rollback = %d, %v; want 0", n, err)
	}
	// No subscription for the event: nothing to deliver.
	if ids := e.emit(t, uid, webhook.EventGGOIssued, 1); len(ids) != 0 {
		t.Fatalf("Emit() without subscribers = %v", ids)
	}
	if _, err := e.svc.Emit(t.Context(), e.db, uid, "NOT_AN_EVENT", 1); !errors.Is(err, webhook.ErrInvalidInput) {
		t.Fatalf("Emit(unknown event) = %v, want ErrInvalidInput", err)
	}
	if _, err := e.svc.Emit(t.Context(), e.db, uid, webhook.EventMeasurementPublished, strings.Repeat("x", webhook.MaxBodyBytes)); !errors.Is(err, webhook.ErrInvalidInput) {
		t.Fatalf("Emit(huge payload) = %v, want ErrInvalidInput", err)
	}
}
