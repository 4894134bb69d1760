package app_test

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"math/big"
	"testing"
	"time"

	"github.com/coder/websocket/wsjson"

	"github.com/originhub/originhub/internal/app"
	"github.com/originhub/originhub/internal/ledger/outbox"
	"github.com/originhub/originhub/internal/testkit"
)

// startWorker runs the API and the worker, with the stand-in ledger mounted on the same
// server.
func startWorker(t *testing.T) *platform {
	t.Helper()
	return startRoles(t, testConfig(t, testkit.DatabaseURI(t), "LEDGER_COMMIT_DELAY", "50ms", "GRAPHQL_MAX_DEPTH", "12"), app.Roles{API: true, Worker: true})
}

// meteringPointWithHour gives userID a metering point with one measurement at begin.
func meteringPointWithHour(t *testing.T, p *platform, userID int64, begin time.Time) int64 {
	t.Helper()
	ctx := t.Context()
	n, _ := rand.Int(rand.Reader, big.NewInt(1e16))
	var mpID int64
	if err := p.app.DB.NewRaw("INSERT INTO metering_points (user_id, gsrn, type, sector) VALUES (?, ?, 'PRODUCTION', 'DK2') RETURNING id",
		userID, fmt.Sprintf("57%016d", n)).Scan(ctx, &mpID); err != nil {
		t.Fatal(err)
	}
	if _, err := p.app.DB.ExecContext(ctx, "SELECT ensure_measurement_partitions(?, ?)", begin, begin.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := p.app.DB.ExecContext(ctx, "INSERT INTO measurements (metering_point_id, begin_at, amount_wh) VALUES (?, ?, 1234)", mpID, begin); err != nil {
		t.Fatal(err)
	}
	return mpID
}

// TestSubscriptionFollowsPublishedBatches publishes a measurement for alice and one for bob
// through the real outbox, worker and stand-in ledger: alice's subscription reports her
// batch up to COMMITTED and never shows bob's.
func TestSubscriptionFollowsPublishedBatches(t *testing.T) {
	p := startWorker(t)
	ctx := t.Context()
	alice, bob := testkit.Subject(t)+"-alice", testkit.Subject(t)+"-bob"
	aliceUser, err := p.app.Users.Ensure(ctx, alice)
	if err != nil {
		t.Fatal(err)
	}
	bobUser, err := p.app.Users.Ensure(ctx, bob)
	if err != nil {
		t.Fatal(err)
	}
	begin := time.Date(2026, 2, 1, 10, 0, 0, 0, time.UTC)
	aliceMP := meteringPointWithHour(t, p, aliceUser.ID, begin)
	bobMP := meteringPointWithHour(t, p, bobUser.ID, begin)

	c, err := dialWS(t, p, map[string]any{"Authorization": "Bearer " + p.token(t, alice)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := readUntil(t, c, "connection_ack"); err != nil {
		t.Fatalf("no connection_ack: %v", err)
	}
	if err := wsjson.Write(ctx, c, map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{
		"query": `subscription { ledgerBatchUpdated { batchId status kind } }`,
	}}); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 5*time.Second, func() bool { return p.app.Bus.Subscribers(outbox.UserTopic(aliceUser.ID)) == 1 }, "subscription registered")

	bobIDs, err := p.app.Publisher.PublishMeasurements(ctx, bobMP, begin, begin.Add(time.Hour))
	if err != nil || len(bobIDs) != 1 {
		t.Fatalf("PublishMeasurements(bob) = %v, %v", bobIDs, err)
	}
	aliceIDs, err := p.app.Publisher.PublishMeasurements(ctx, aliceMP, begin, begin.Add(time.Hour))
	if err != nil || len(aliceIDs) != 1 {
		t.Fatalf("PublishMeasurements(alice) = %v, %v", aliceIDs, err)
	}
	for {
		m, err := readUntil(t, c, "next")
		if err != nil {
			t.Fatalf("no COMMITTED event for alice's batch: %v", err)
		}
		var got struct {
			Data struct {
				LedgerBatchUpdated struct{ BatchID, Status, Kind string }
			}
		}
		if err := json.Unmarshal(m.Payload, &got); err != nil {
			t.Fatal(err)
		}
		ev := got.Data.LedgerBatchUpdated
		if ev.BatchID != aliceIDs[0] {
			t.Fatalf("event for batch %s, want only alice's %s (bob's is %s)", ev.BatchID, aliceIDs[0], bobIDs[0])
		}
		if ev.Status == "COMMITTED" {
			break
		}
	}
	// The measurement shows its ledger state, resolved through the loaders.
	status, res := p.post(t, "Bearer "+p.token(t, alice), `{ measurements(first: 10) { nodes { begin ledger { address status batch { batchId status } } } } }`, nil)
	if status != 200 || len(res.Errors) > 0 {
		t.Fatalf("measurements query = %d %+v", status, res.Errors)
	}
	var ms struct {
		Nodes []struct {
			Begin  time.Time
			Ledger *struct {
				Address, Status string
				Batch           struct{ BatchID, Status string }
			}
		}
	}
	if err := json.Unmarshal(res.Data["measurements"], &ms); err != nil {
		t.Fatal(err)
	}
	if len(ms.Nodes) != 1 || ms.Nodes[0].Ledger == nil {
		t.Fatalf("measurements = %+v, want alice's one published hour", ms.Nodes)
	}
	if l := ms.Nodes[0].Ledger; l.Status != "COMMITTED" || l.Batch.BatchID != aliceIDs[0] || l.Batch.Status != "COMMITTED" || len(l.Address) != 70 {
		t.Fatalf("ledger state = %+v, want COMMITTED in batch %s at a 70-character address", *l, aliceIDs[0])
	}
	// Bob's batch commits too, on his own topic.
	testkit.Eventually(t, 10*time.Second, func() bool {
		b, err := p.app.Outbox.Get(ctx, bobIDs[0])
		return err == nil && b.Status == "COMMITTED"
	}, "bob's batch COMMITTED")
}
