package app_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/originhub/originhub/internal/app"
	"github.com/originhub/originhub/internal/testkit"
	"github.com/originhub/originhub/internal/webhook"
)

// TestWebhooksOverGraphQL: a user subscribes over GraphQL, a domain emits an event in its
// transaction, the worker delivers it signed with the subscription's secret, and the
// delivery shows in webhookDeliveries — for its owner only.
func TestWebhooksOverGraphQL(t *testing.T) {
	p := startRoles(t, testConfig(t, testkit.DatabaseURI(t), "GRAPHQL_MAX_DEPTH", "12"), app.Roles{API: true, Worker: true})
	aliceSub := testkit.Subject(t) + "-alice"
	alice := "Bearer " + p.token(t, aliceSub)
	bob := "Bearer " + p.token(t, testkit.Subject(t)+"-bob")

	type delivery struct {
		header http.Header
		body   []byte
	}
	var mu sync.Mutex
	var got []delivery
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, delivery{r.Header.Clone(), b})
		mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	defer recv.Close()

	const secret = "alice-own-webhook-secret"
	create := `mutation($in: CreateWebhookSubscriptionInput!) {
		createWebhookSubscription(input: $in) { subscription { id event url hasOwnSecret } userErrors { field message code } } }`
	in := map[string]any{"event": "GGO_RECEIVED", "url": recv.URL + "/hooks", "secret": secret}
	_, r := p.post(t, alice, create, map[string]any{"in": in})
	var created struct {
		CreateWebhookSubscription struct {
			Subscription *struct {
				ID, Event, URL string
				HasOwnSecret   bool
			}
			UserErrors []struct {
				Field         []string
				Message, Code string
			}
		}
	}
	mustData(t, r, &created)
	sub := created.CreateWebhookSubscription.Subscription
	if sub == nil || sub.Event != "GGO_RECEIVED" || !sub.HasOwnSecret || len(created.CreateWebhookSubscription.UserErrors) > 0 {
		t.Fatalf("createWebhookSubscription = %+v", created.CreateWebhookSubscription)
	}
	// The same again is a CONFLICT userError, not an error.
	_, r = p.post(t, alice, create, map[string]any{"in": in})
	mustData(t, r, &created)
	if ue := created.CreateWebhookSubscription.UserErrors; len(ue) != 1 || ue[0].Code != "CONFLICT" || created.CreateWebhookSubscription.Subscription != nil {
		t.Fatalf("duplicate createWebhookSubscription = %+v", created.CreateWebhookSubscription)
	}
	// A bad URL is a BAD_USER_INPUT userError on the field.
	_, r = p.post(t, alice, create, map[string]any{"in": map[string]any{"event": "GGO_ISSUED", "url": "https://u:p@example.com/"}})
	mustData(t, r, &created)
	if ue := created.CreateWebhookSubscription.UserErrors; len(ue) != 1 || ue[0].Code != "BAD_USER_INPUT" || strings.Join(ue[0].Field, ".") != "input.url" {
		t.Fatalf("createWebhookSubscription(credentials) = %+v", created.CreateWebhookSubscription)
	}
	// The secret is write-only: the schema has no field for it.
	if _, r = p.post(t, alice, `{ webhookSubscriptions { nodes { secret } } }`, nil); len(r.Errors) == 0 {
		t.Fatal("webhookSubscriptions exposes a secret field")
	}
	// Bob cannot delete Alice's subscription.
	del := `mutation($id: ID!) { deleteWebhookSubscription(input: {id: $id}) { deletedId userErrors { code } } }`
	_, r = p.post(t, bob, del, map[string]any{"id": sub.ID})
	if !strings.Contains(string(r.Data["deleteWebhookSubscription"]), `"NOT_FOUND"`) {
		t.Fatalf("bob's deleteWebhookSubscription = %s %+v", r.Data["deleteWebhookSubscription"], r.Errors)
	}

	// A domain emits in its transaction and enqueues after the commit.
	u, err := p.app.Users.Ensure(t.Context(), aliceSub)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	err = p.app.DB.RunInTx(t.Context(), nil, func(ctx context.Context, tx bun.Tx) error {
		ids, err = p.app.Webhooks.Emit(ctx, tx, u.ID, webhook.EventGGOReceived, map[string]any{"amount": 1500})
		return err
	})
	if err != nil || len(ids) != 1 {
		t.Fatalf("Emit() = %v, %v", ids, err)
	}
	if err := p.app.Webhooks.Enqueue(t.Context(), ids); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 20*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) == 1
	}, "the delivery at the receiver")
	mu.Lock()
	d := got[0]
	mu.Unlock()
	if err := webhook.Verify(secret, d.header.Get(webhook.HeaderTimestamp), d.body, d.header.Get(webhook.HeaderSignature), 5*time.Minute); err != nil {
		t.Fatalf("Verify() = %v", err)
	}
	if !strings.Contains(string(d.body), `"data":{"amount":1500}`) || d.header.Get(webhook.HeaderEvent) != "GGO_RECEIVED" {
		t.Fatalf("delivery %v %s", d.header, d.body)
	}

	q := `{ webhookDeliveries(first: 10) { totalCount nodes { id eventId event url subscriptionId state attempts lastStatusCode nextAttemptAt
		attemptLog { attempt statusCode durationMs error } } } }`
	var log struct {
		WebhookDeliveries struct {
			TotalCount int
			Nodes      []struct {
				ID, EventID, Event, URL, SubscriptionID, State string
				Attempts                                       int
				LastStatusCode                                 *int
				NextAttemptAt                                  *string
				AttemptLog                                     []struct {
					Attempt    int
					StatusCode *int
					Error      *string
				}
			}
		}
	}
	testkit.Eventually(t, 10*time.Second, func() bool {
		_, r = p.post(t, alice, q, nil)
		mustData(t, r, &log)
		n := log.WebhookDeliveries.Nodes
		return len(n) == 1 && n[0].State == "SUCCEEDED"
	}, "the delivery to show SUCCEEDED")
	n := log.WebhookDeliveries.Nodes[0]
	if log.WebhookDeliveries.TotalCount != 1 || n.EventID != d.header.Get(webhook.HeaderDelivery) || n.SubscriptionID != sub.ID || n.Attempts != 1 ||
		n.LastStatusCode == nil || *n.LastStatusCode != http.StatusAccepted || n.NextAttemptAt != nil ||
		len(n.AttemptLog) != 1 || *n.AttemptLog[0].StatusCode != http.StatusAccepted || n.AttemptLog[0].Error != nil {
		t.Fatalf("webhookDeliveries = %+v", log.WebhookDeliveries)
	}
	// Bob sees nothing of it and cannot redeliver it.
	_, r = p.post(t, bob, q, nil)
	mustData(t, r, &log)
	if log.WebhookDeliveries.TotalCount != 0 {
		t.Fatalf("bob's webhookDeliveries = %+v", log.WebhookDeliveries)
	}
	redeliver := `mutation($id: ID!) { redeliverWebhook(input: {deliveryId: $id}) { delivery { id state redeliveryOf } userErrors { code } } }`
	_, r = p.post(t, bob, redeliver, map[string]any{"id": n.ID})
	if !strings.Contains(string(r.Data["redeliverWebhook"]), `"NOT_FOUND"`) {
		t.Fatalf("bob's redeliverWebhook = %s %+v", r.Data["redeliverWebhook"], r.Errors)
	}
	// Alice can, and it arrives again with the same event id.
	_, r = p.post(t, alice, redeliver, map[string]any{"id": n.ID})
	if !strings.Contains(string(r.Data["redeliverWebhook"]), `"redeliveryOf":"`+n.ID+`"`) {
		t.Fatalf("redeliverWebhook = %s %+v", r.Data["redeliverWebhook"], r.Errors)
	}
	testkit.Eventually(t, 20*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) == 2
	}, "the redelivery at the receiver")
	mu.Lock()
	defer mu.Unlock()
	if got[1].header.Get(webhook.HeaderDelivery) != n.EventID {
		t.Fatal("redelivery changed the event id")
	}

	// Alice deletes her subscription.
	_, r = p.post(t, alice, del, map[string]any{"id": sub.ID})
	if !strings.Contains(string(r.Data["deleteWebhookSubscription"]), `"deletedId":"`+sub.ID+`"`) {
		t.Fatalf("deleteWebhookSubscription = %s %+v", r.Data["deleteWebhookSubscription"], r.Errors)
	}
}
