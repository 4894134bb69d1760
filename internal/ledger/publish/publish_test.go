package publish_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/originhub/originhub/internal/ledger"
	"github.com/originhub/originhub/internal/ledger/outbox"
	"github.com/originhub/originhub/internal/ledger/publish"
	"github.com/originhub/originhub/models"
)

func statuses(evs []outbox.Event) []models.LedgerBatchStatus {
	out := make([]models.LedgerBatchStatus, len(evs))
	for i, e := range evs {
		out[i] = e.Status
	}
	return out
}

// TestPublishCommits publishes windows of different sizes through the whole outbox path and
// checks batching, the publication rows, the ledger state and the events.
func TestPublishCommits(t *testing.T) {
	tests := []struct {
		name        string
		hours       int
		wantBatches int
	}{
		{"one hour", 1, 1},
		{"one full batch", publish.MaxTxPerBatch, 1},
		{"two batches", publish.MaxTxPerBatch + 1, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			f := newFixture(t, outbox.Backoff{First: time.Nanosecond})
			userID, mpID := f.user(t, models.MeteringPointProduction, tc.hours)
			events := f.events(t, userID)

			ids, err := f.pub.PublishMeasurements(ctx, mpID, hour0, hour0.Add(time.Duration(tc.hours)*time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			if len(ids) != tc.wantBatches {
				t.Fatalf("PublishMeasurements() = %d batches, want %d", len(ids), tc.wantBatches)
			}
			rows := f.publications(t, mpID)
			if len(rows) != tc.hours {
				t.Fatalf("publication rows = %d, want %d", len(rows), tc.hours)
			}
			for _, id := range ids {
				if b := f.batch(t, id); b.Status != models.LedgerBatchPending || b.Kind != publish.Kind || *b.UserID != userID {
					t.Fatalf("batch %s = %s %s user %d, want PENDING %s user %d", id, b.Status, b.Kind, *b.UserID, publish.Kind, userID)
				}
			}
			for _, id := range ids {
				if err := f.outbox.Submit(ctx, id); err != nil {
					t.Fatal(err)
				}
			}
			// The first submission posts the user's pending batches together; the others
			// find theirs posted.
			if posts := len(f.proxy.Posts()); posts != 1 {
				t.Fatalf("%d posts, want the batches in one", posts)
			}
			f.commit(t)
			if err := f.outbox.Poll(ctx, ids...); err != nil {
				t.Fatal(err)
			}
			for _, id := range ids {
				b := f.batch(t, id)
				if b.Status != models.LedgerBatchCommitted || b.CommittedAt == nil || b.NextPollAt != nil {
					t.Fatalf("batch %s = %s committed_at %v next_poll_at %v, want COMMITTED, set, nil", id, b.Status, b.CommittedAt, b.NextPollAt)
				}
			}
			// The ledger holds the last hour at the address recorded for it.
			last := rows[len(rows)-1]
			if _, err := f.client.State(ctx, last.Address); err != nil {
				t.Fatalf("State(%s) = %v, want the published measurement", last.Address, err)
			}
			want := slices.Repeat([]models.LedgerBatchStatus{models.LedgerBatchSubmitted}, len(ids))
			want = append(want, slices.Repeat([]models.LedgerBatchStatus{models.LedgerBatchCommitted}, len(ids))...)
			if got := statuses(drain(events, 300*time.Millisecond)); !slices.Equal(got, want) {
				t.Fatalf("events = %v, want %v", got, want)
			}
			// Published hours are not published again.
			again, err := f.pub.PublishMeasurements(ctx, mpID, hour0, hour0.Add(time.Duration(tc.hours)*time.Hour))
			if err != nil || len(again) != 0 {
				t.Fatalf("second PublishMeasurements() = %v, %v; want no batches", again, err)
			}
		})
	}
}

// TestInvalidRollsBack makes the stand-in refuse a publication (the hour's address already
// holds another measurement) and checks that the publication rows are removed, the ledger's
// message recorded, and the hour can be published again.
func TestInvalidRollsBack(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t, outbox.Backoff{First: time.Nanosecond})
	userID, mpID := f.user(t, models.MeteringPointConsumption, 1)
	events := f.events(t, userID)

	// Someone else's batch takes the hour's address first, with another amount.
	var key *ledger.Key
	if err := f.db.RunInTx(ctx, nil, func(ctx2 txCtx, tx txT) error {
		var err error
		key, err = f.wallets.MeteringPointKey(ctx2, tx, mpID)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	hk, _ := key.MeasurementKey(hour0)
	addr := hk.Address(ledger.PrefixMeasurement)
	squat, err := ledger.PublishMeasurement(key, ledger.Measurement{Address: addr, Begin: hour0, Sector: "DK1", Type: ledger.Consumption, Amount: 7})
	if err != nil {
		t.Fatal(err)
	}
	sb, err := ledger.NewBatch(key, squat)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.client.Submit(ctx, sb); err != nil {
		t.Fatal(err)
	}
	f.commit(t)

	ids, err := f.pub.PublishMeasurements(ctx, mpID, hour0, hour0.Add(time.Hour))
	if err != nil || len(ids) != 1 {
		t.Fatalf("PublishMeasurements() = %v, %v; want one batch", ids, err)
	}
	if err := f.outbox.Submit(ctx, ids[0]); err != nil {
		t.Fatal(err)
	}
	f.commit(t)
	if err := f.outbox.Poll(ctx, ids[0]); err != nil {
		t.Fatal(err)
	}
	b := f.batch(t, ids[0])
	wantMsg := `Address already in use "` + addr + `"!`
	if b.Status != models.LedgerBatchInvalid || b.Error == nil || !strings.Contains(*b.Error, wantMsg) {
		t.Fatalf("batch = %s %v, want INVALID with %q", b.Status, b.Error, wantMsg)
	}
	if rows := f.publications(t, mpID); len(rows) != 0 {
		t.Fatalf("publication rows after INVALID = %d, want 0", len(rows))
	}
	want := []models.LedgerBatchStatus{models.LedgerBatchSubmitted, models.LedgerBatchInvalid}
	if got := statuses(drain(events, 300*time.Millisecond)); !slices.Equal(got, want) {
		t.Fatalf("events = %v, want %v", got, want)
	}
	// The hour can be published again: the same change re-arms the same batch.
	again, err := f.pub.PublishMeasurements(ctx, mpID, hour0, hour0.Add(time.Hour))
	if err != nil || len(again) != 1 {
		t.Fatalf("PublishMeasurements() again = %v, %v; want one batch", again, err)
	}
	if rows := f.publications(t, mpID); len(rows) != 1 || rows[0].BatchID != again[0] {
		t.Fatalf("publication rows after republish = %+v, want one in batch %s", rows, again[0])
	}
	if b := f.batch(t, again[0]); b.Status != models.LedgerBatchPending || b.Error != nil {
		t.Fatalf("republished batch = %s %v, want PENDING without error", b.Status, b.Error)
	}
}

// TestRefusedGroupPostedOneByOne: a user's pending batches are posted together; when the
// ledger refuses the post because one of them is malformed (a payload that no longer
// matches its header), each is posted alone: the bad one becomes INVALID with its
// publication rows removed, the good one goes on to COMMITTED.
func TestRefusedGroupPostedOneByOne(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t, outbox.Backoff{First: time.Nanosecond})
	_, mpID := f.user(t, models.MeteringPointConsumption, 2)
	var ids []string
	for h := range 2 {
		got, err := f.pub.PublishMeasurements(ctx, mpID, hour0.Add(time.Duration(h)*time.Hour), hour0.Add(time.Duration(h+1)*time.Hour))
		if err != nil || len(got) != 1 {
			t.Fatalf("PublishMeasurements(hour %d) = %v, %v", h, got, err)
		}
		ids = append(ids, got...)
	}
	bad := f.batch(t, ids[1])
	list, err := ledger.UnmarshalBatchList(bad.Body)
	if err != nil || len(list) != 1 {
		t.Fatalf("UnmarshalBatchList() = %d, %v", len(list), err)
	}
	list[0].Transactions[0].Payload = append(list[0].Transactions[0].Payload, 0)
	if _, err := f.db.NewRaw("UPDATE ledger_batches SET body = ? WHERE id = ?", ledger.MarshalBatchList(list[0].Marshal()), ids[1]).Exec(ctx); err != nil {
		t.Fatal(err)
	}

	if err := f.outbox.Submit(ctx, ids[0]); err != nil {
		t.Fatal(err)
	}
	if posts := len(f.proxy.Posts()); posts != 3 {
		t.Fatalf("%d posts, want the refused pair and each alone", posts)
	}
	if b := f.batch(t, ids[1]); b.Status != models.LedgerBatchInvalid || b.Error == nil {
		t.Fatalf("malformed batch = %s %v, want INVALID with the ledger's message", b.Status, b.Error)
	}
	f.commit(t)
	if err := f.outbox.Poll(ctx, ids[0]); err != nil {
		t.Fatal(err)
	}
	if b := f.batch(t, ids[0]); b.Status != models.LedgerBatchCommitted {
		t.Fatalf("good batch = %s, want COMMITTED", b.Status)
	}
	if rows := f.publications(t, mpID); len(rows) != 1 || !rows[0].BeginAt.Equal(hour0) {
		t.Fatalf("publication rows = %+v, want only hour 0's", rows)
	}
}
