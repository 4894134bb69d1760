package webhook_test

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/originhub/originhub/internal/webhook"
	"github.com/originhub/originhub/models"
)

func TestPublicAddr(t *testing.T) {
	tests := []struct {
		addr string
		want bool
	}{
		{"93.184.216.34", true},
		{"2606:2800:220:1:248:1893:25c8:1946", true},
		{"127.0.0.1", false},
		{"127.8.9.10", false},
		{"::1", false},
		{"10.1.2.3", false},
		{"172.16.0.1", false},
		{"192.168.1.1", false},
		{"169.254.169.254", false}, // cloud metadata
		{"fe80::1", false},
		{"fc00::1", false},
		{"fd12:3456::1", false},
		{"0.0.0.0", false},
		{"::", false},
		{"100.64.0.1", false},
		{"224.0.0.1", false},
		{"255.255.255.255", false},
		{"::ffff:127.0.0.1", false},
		{"::ffff:10.0.0.1", false},
		{"::ffff:93.184.216.34", true},
	}
	for _, tc := range tests {
		t.Run(tc.addr, func(t *testing.T) {
			if got := webhook.PublicAddr(netip.MustParseAddr(tc.addr)); got != tc.want {
				t.Fatalf("PublicAddr(%s) = %v, want %v", tc.addr, got, tc.want)
			}
		})
	}
}

// TestSubscribeValidates: bad URLs and secrets are refused with the field named, and with
// private targets off, addresses that are (or resolve to) non-public ones are refused.
func TestSubscribeValidates(t *testing.T) {
	e := newEnv(t, func(c *webhook.Config) {
		c.AllowPrivateTargets = false
		c.Resolver = staticResolver{
			"hooks.example.com":  {netip.MustParseAddr("93.184.216.34")},
			"localhost":          {netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("::1")},
			"sneaky.example.com": {netip.MustParseAddr("93.184.216.35"), netip.MustParseAddr("10.0.0.7")},
			"metadata.example":   {netip.MustParseAddr("169.254.169.254")},
		}
	})
	uid := newUser(t)
	tests := []struct {
		name      string
		in        webhook.SubscribeInput
		wantField string // empty: accepted
	}{
		{"public host", webhook.SubscribeInput{Event: webhook.EventGGOReceived, URL: "https://hooks.example.com/originhub"}, ""},
		{"public ip with own secret", webhook.SubscribeInput{Event: webhook.EventGGOIssued, URL: "http://93.184.216.34:8443/x?y=1", Secret: "sixteen-bytes-ok"}, ""},
		{"unknown event", webhook.SubscribeInput{Event: "GGO_EATEN", URL: "https://hooks.example.com/"}, "event"},
		{"relative", webhook.SubscribeInput{Event: webhook.EventGGOReceived, URL: "/hooks"}, "url"},
		{"ftp", webhook.SubscribeInput{Event: webhook.EventGGOReceived, URL: "ftp://hooks.example.com/"}, "url"},
		{"javascript", webhook.SubscribeInput{Event: webhook.EventGGOReceived, URL: "javascript:alert(1)"}, "url"},
		{"credentials", webhook.SubscribeInput{Event: webhook.EventGGOReceived, URL: "https://user:pw@hooks.example.com/"}, "url"},
		{"fragment", webhook.SubscribeInput{Event: webhook.EventGGOReceived, URL: "https://hooks.example.com/#x"}, "url"},
		{"too long", webhook.SubscribeInput{Event: webhook.EventGGOReceived, URL: "https://hooks.example.com/" + strings.Repeat("a", webhook.MaxURLLength)}, "url"},
		{"bad port", webhook.SubscribeInput{Event: webhook.EventGGOReceived, URL: "https://hooks.example.com:99999/"}, "url"},
		{"short secret", webhook.SubscribeInput{Event: webhook.EventGGOReceived, URL: "https://hooks.example.com/s", Secret: "short"}, "secret"},
		{"long secret", webhook.SubscribeInput{Event: webhook.EventGGOReceived, URL: "https://hooks.example.com/s", Secret: strings.Repeat("s", 257)}, "secret"},
		{"loopback ip", webhook.SubscribeInput{Event: webhook.EventGGOReceived, URL: "http://127.0.0.1:8080/"}, "url"},
		{"loopback v6", webhook.SubscribeInput{Event: webhook.EventGGOReceived, URL: "http://[::1]/"}, "url"},
		{"mapped loopback", webhook.SubscribeInput{Event: webhook.EventGGOReceived, URL: "http://[::ffff:127.0.0.1]/"}, "url"},
		{"private ip", webhook.SubscribeInput{Event: webhook.EventGGOReceived, URL: "http://10.1.2.3/"}, "url"},
		{"link-local metadata", webhook.SubscribeInput{Event: webhook.EventGGOReceived, URL: "http://169.254.169.254/latest/meta-data"}, "url"},
		{"localhost name", webhook.SubscribeInput{Event: webhook.EventGGOReceived, URL: "http://localhost:9000/"}, "url"},
		{"name with one private address", webhook.SubscribeInput{Event: webhook.EventGGOReceived, URL: "https://sneaky.example.com/"}, "url"},
		{"name resolving to metadata", webhook.SubscribeInput{Event: webhook.EventGGOReceived, URL: "http://metadata.example/"}, "url"},
		{"name that does not resolve", webhook.SubscribeInput{Event: webhook.EventGGOReceived, URL: "https://nowhere.invalid/"}, "url"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sub, err := e.svc.Subscribe(t.Context(), uid, tc.in)
			if tc.wantField == "" {
				if err != nil || sub.ID == 0 || sub.HasOwnSecret() != (tc.in.Secret != "") {
					t.Fatalf("Subscribe() = %+v, %v; want accepted", sub, err)
				}
				if tc.in.Secret != "" && strings.Contains(string(sub.SecretSealed), tc.in.Secret) {
					t.Fatal("secret stored in plain text")
				}
				return
			}
			var ie *webhook.InputError
			if !errors.As(err, &ie) || ie.Field != tc.wantField {
				t.Fatalf("Subscribe() = %v, want an input error on %q", err, tc.wantField)
			}
		})
	}
}

// TestDialGuardStopsRebinding: a subscription whose host later points at a private
// address (here: stored directly, as if DNS changed after the check) is refused at
// connect time, and the receiver never sees a request.
func TestDialGuardStopsRebinding(t *testing.T) {
	e := newEnv(t, func(c *webhook.Config) { c.AllowPrivateTargets = false })
	uid := newUser(t)
	r := newReceiver(t, 200)
	sub := models.WebhookSubscription{UserID: uid, Event: webhook.EventGGOReceived, URL: r.URL + "/rebound"}
	if _, err := e.db.NewInsert().Model(&sub).Exec(t.Context()); err != nil {
		t.Fatal(err)
	}
	id := e.emit(t, uid, webhook.EventGGOReceived, map[string]int{"n": 1})[0]
	var re *webhook.RetryError
	if err := e.svc.Deliver(t.Context(), id); !errors.As(err, &re) || !errors.Is(err, webhook.ErrForbiddenTarget) {
		t.Fatalf("Deliver() = %v, want a retry for a forbidden target", err)
	}
	if n := len(r.requests()); n != 0 {
		t.Fatalf("receiver got %d requests, want 0", n)
	}
	log := e.attempts(t, id)
	if len(log) != 1 || log[0].StatusCode != nil || log[0].Error == nil || !strings.Contains(*log[0].Error, "private") {
		t.Fatalf("attempt log = %+v, want one refused attempt", log)
	}
}

// TestDuplicateSubscriptionConflicts: the same event and URL twice is a conflict, while
// another event or another user may use the URL.
func TestDuplicateSubscriptionConflicts(t *testing.T) {
	e := newEnv(t)
	alice, bob := newUser(t), newUser(t)
	in := webhook.SubscribeInput{Event: webhook.EventGGOReceived, URL: "http://127.0.0.1:9/dup"}
	if _, err := e.svc.Subscribe(t.Context(), alice, in); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Subscribe(t.Context(), alice, in); !errors.Is(err, webhook.ErrConflict) {
		t.Fatalf("second Subscribe() = %v, want ErrConflict", err)
	}
	if _, err := e.svc.Subscribe(t.Context(), alice, webhook.SubscribeInput{Event: webhook.EventGGOIssued, URL: in.URL}); err != nil {
		t.Fatalf("Subscribe(other event) = %v", err)
	}
	if _, err := e.svc.Subscribe(t.Context(), bob, in); err != nil {
		t.Fatalf("Subscribe(other user) = %v", err)
	}
}

// TestTenancy: one user cannot list, delete, redeliver or receive another's webhooks.
func TestTenancy(t *testing.T) {
	e := newEnv(t)
	alice, bob := newUser(t), newUser(t)
	ra, rb := newReceiver(t, 200), newReceiver(t, 200)
	subA, err := e.svc.Subscribe(t.Context(), alice, webhook.SubscribeInput{Event: webhook.EventGGOReceived, URL: ra.URL})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Subscribe(t.Context(), bob, webhook.SubscribeInput{Event: webhook.EventGGOReceived, URL: rb.URL}); err != nil {
		t.Fatal(err)
	}
	ids := e.emit(t, alice, webhook.EventGGOReceived, map[string]string{"to": "alice"})
	if len(ids) != 1 {
		t.Fatalf("Emit(alice) = %v, want one delivery (alice's subscription only)", ids)
	}
	if err := e.svc.Deliver(t.Context(), ids[0]); err != nil {
		t.Fatal(err)
	}
	if len(ra.requests()) != 1 || len(rb.requests()) != 0 {
		t.Fatalf("alice's receiver got %d, bob's %d; want 1 and 0", len(ra.requests()), len(rb.requests()))
	}

	subs, err := e.svc.Subscriptions(t.Context(), bob, relayFirst(100))
	if err != nil || len(subs.Edges) != 1 || subs.Edges[0].Node.UserID != bob {
		t.Fatalf("bob's Subscriptions() = %+v, %v", subs, err)
	}
	dels, err := e.svc.Deliveries(t.Context(), bob, webhook.DeliveryFilter{}, relayFirst(100), true)
	if err != nil || len(dels.Edges) != 0 {
		t.Fatalf("bob's Deliveries() = %d edges, %v; want none", len(dels.Edges), err)
	}
	if _, err := e.svc.Redeliver(t.Context(), bob, ids[0]); !errors.Is(err, webhook.ErrNotFound) {
		t.Fatalf("bob's Redeliver(alice's) = %v, want ErrNotFound", err)
	}
	if _, err := e.svc.Delivery(t.Context(), bob, ids[0]); !errors.Is(err, webhook.ErrNotFound) {
		t.Fatalf("bob's Delivery(alice's) = %v, want ErrNotFound", err)
	}
	if log, err := e.svc.Attempts(t.Context(), bob, ids); err != nil || len(log[ids[0]]) != 0 {
		t.Fatalf("bob's Attempts(alice's) = %v, %v; want none", log, err)
	}
	if err := e.svc.Unsubscribe(t.Context(), bob, subA.ID); !errors.Is(err, webhook.ErrNotFound) {
		t.Fatalf("bob's Unsubscribe(alice's) = %v, want ErrNotFound", err)
	}

	// Alice sees her log with its attempt, filtered as asked.
	dels, err = e.svc.Deliveries(t.Context(), alice, webhook.DeliveryFilter{State: models.WebhookDeliverySucceeded, SubscriptionID: subA.ID}, relayFirst(10), true)
	if err != nil || len(dels.Edges) != 1 || len(dels.Edges[0].Node.AttemptLog) != 1 {
		t.Fatalf("alice's Deliveries() = %+v, %v", dels, err)
	}
	if dels, _ := e.svc.Deliveries(t.Context(), alice, webhook.DeliveryFilter{State: models.WebhookDeliveryFailed}, relayFirst(10), false); len(dels.Edges) != 0 {
		t.Fatalf("FAILED filter = %d edges, want 0", len(dels.Edges))
	}
}

// TestRedeliverAndUnsubscribe: a finished delivery can be sent again with the same event
// id; deleting the subscription ends pending deliveries and keeps the log.
func TestRedeliverAndUnsubscribe(t *testing.T) {
	e := newEnv(t)
	uid := newUser(t)
	r := newReceiver(t, 200)
	sub, err := e.svc.Subscribe(t.Context(), uid, webhook.SubscribeInput{Event: webhook.EventOperationCommitted, URL: r.URL})
	if err != nil {
		t.Fatal(err)
	}
	first := e.emit(t, uid, webhook.EventOperationCommitted, 1)[0]
	if _, err := e.svc.Redeliver(t.Context(), uid, first); !errors.Is(err, webhook.ErrConflict) {
		t.Fatalf("Redeliver(pending) = %v, want ErrConflict", err)
	}
	if err := e.svc.Deliver(t.Context(), first); err != nil {
		t.Fatal(err)
	}
	again, err := e.svc.Redeliver(t.Context(), uid, first)
	if err != nil || again.RedeliveryOf == nil || *again.RedeliveryOf != first {
		t.Fatalf("Redeliver() = %+v, %v", again, err)
	}
	if err := e.svc.Deliver(t.Context(), again.ID); err != nil {
		t.Fatal(err)
	}
	got := r.requests()
	if len(got) != 2 || got[0].header.Get(webhook.HeaderDelivery) != got[1].header.Get(webhook.HeaderDelivery) {
		t.Fatalf("receiver got %d requests; a redelivery keeps the event id", len(got))
	}

	pending := e.emit(t, uid, webhook.EventOperationCommitted, 2)[0]
	if err := e.svc.Unsubscribe(t.Context(), uid, sub.ID); err != nil {
		t.Fatalf("Unsubscribe() = %v", err)
	}
	if err := e.svc.Unsubscribe(t.Context(), uid, sub.ID); !errors.Is(err, webhook.ErrNotFound) {
		t.Fatalf("second Unsubscribe() = %v, want ErrNotFound", err)
	}
	if err := e.svc.Deliver(t.Context(), pending); err != nil {
		t.Fatalf("Deliver(after unsubscribe) = %v", err)
	}
	d := e.delivery(t, pending)
	if d.State != models.WebhookDeliveryFailed || d.SubscriptionID != nil || d.Attempts != 0 || len(r.requests()) != 2 {
		t.Fatalf("pending delivery after unsubscribe = %+v", d)
	}
	if d := e.delivery(t, first); d.State != models.WebhookDeliverySucceeded {
		t.Fatalf("the log of a past delivery changed: %+v", d)
	}
	if _, err := e.svc.Redeliver(t.Context(), uid, first); !errors.Is(err, webhook.ErrInvalidInput) {
		t.Fatalf("Redeliver(without subscription) = %v, want ErrInvalidInput", err)
	}
}
