package webhook_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/uptrace/bun"

	"github.com/originhub/originhub/internal/relay"
	"github.com/originhub/originhub/internal/testkit"
	"github.com/originhub/originhub/internal/user"
	"github.com/originhub/originhub/internal/webhook"
	"github.com/originhub/originhub/models"
	"github.com/originhub/originhub/tasks"
)

func TestMain(m *testing.M) { testkit.Main(m) }

const defaultSecret = "platform-webhook-secret-for-tests"

// clock is a test clock that runs with real time shifted by an offset the test moves.
type clock struct{ offset atomic.Int64 }

func (c *clock) now() time.Time          { return time.Now().UTC().Add(time.Duration(c.offset.Load())) }
func (c *clock) advance(d time.Duration) { c.offset.Add(int64(d)) }
func quiet() *slog.Logger                { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// env is a webhook service on the package's database, queueing on the package's Redis.
type env struct {
	db    *bun.DB
	svc   *webhook.Service
	clock *clock
	redis asynq.RedisClientOpt
}

type option func(*webhook.Config)

func newEnv(t *testing.T, opts ...option) *env {
	t.Helper()
	d := testkit.DB(t)
	ropt := testkit.RedisOptions(t)
	redisOpt := asynq.RedisClientOpt{Addr: ropt.Addr, DB: ropt.DB}
	client := asynq.NewClientFromRedisClient(redis.NewClient(ropt))
	t.Cleanup(func() { client.Close() })
	cfg := webhook.Config{
		DefaultSecret: defaultSecret, SealSecret: "seal-secret-for-the-tests", AllowPrivateTargets: true,
		RetryDelay: func(int) time.Duration { return 20 * time.Millisecond },
	}
	for _, o := range opts {
		o(&cfg)
	}
	c := &clock{}
	svc, err := webhook.NewService(d, cfg, tasks.Enqueuer{Client: client}, quiet(), c.now)
	if err != nil {
		t.Fatal(err)
	}
	return &env{db: d, svc: svc, clock: c, redis: redisOpt}
}

// newUser returns a fresh user id.
func newUser(t *testing.T) int64 {
	t.Helper()
	u, err := user.NewService(testkit.DB(t)).Ensure(t.Context(), testkit.Subject(t))
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}

// emit emits in its own committed transaction and returns the delivery ids.
func (e *env) emit(t *testing.T, userID int64, ev webhook.Event, payload any) []int64 {
	t.Helper()
	var ids []int64
	err := e.db.RunInTx(t.Context(), nil, func(ctx context.Context, tx bun.Tx) error {
		var err error
		ids, err = e.svc.Emit(ctx, tx, userID, ev, payload)
		return err
	})
	if err != nil {
		t.Fatalf("Emit() = %v", err)
	}
	return ids
}

func (e *env) delivery(t *testing.T, id int64) models.WebhookDelivery {
	t.Helper()
	var d models.WebhookDelivery
	if err := e.db.NewSelect().Model(&d).Where("id = ?", id).Scan(t.Context()); err != nil {
		t.Fatal(err)
	}
	return d
}

func (e *env) attempts(t *testing.T, id int64) []models.WebhookDeliveryAttempt {
	t.Helper()
	var rows []models.WebhookDeliveryAttempt
	if err := e.db.NewSelect().Model(&rows).Where("delivery_id = ?", id).Order("attempt").Scan(t.Context()); err != nil {
		t.Fatal(err)
	}
	return rows
}

// received is one request a receiver got.
type received struct {
	header http.Header
	body   []byte
}

// receiver is an httptest server answering with the given statuses in turn (the last
// one repeats) and recording every request.
type receiver struct {
	*httptest.Server
	mu       sync.Mutex
	statuses []int
	got      []received
}

func newReceiver(t *testing.T, statuses ...int) *receiver {
	t.Helper()
	r := &receiver{statuses: statuses}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		n := len(r.got)
		r.got = append(r.got, received{header: req.Header.Clone(), body: b})
		status := r.statuses[min(n, len(r.statuses)-1)]
		r.mu.Unlock()
		w.WriteHeader(status)
		_, _ = w.Write([]byte(`{"ok":` + map[bool]string{true: "true", false: "false"}[status < 300] + `}`))
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) requests() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

// staticResolver answers host lookups from a table, standing in for DNS.
type staticResolver map[string][]netip.Addr

func (s staticResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if a, ok := s[host]; ok {
		return a, nil
	}
	return nil, &netErr{host}
}

type netErr struct{ host string }

func (e *netErr) Error() string { return "no such host " + e.host }

func decodeBody(t *testing.T, b []byte) (id, event, createdAt string, data json.RawMessage) {
	t.Helper()
	var env struct {
		ID        string          `json:"id"`
		Event     string          `json:"event"`
		CreatedAt string          `json:"createdAt"`
		Data      json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(b, &env); err != nil {
		t.Fatalf("body %s: %v", b, err)
	}
	return env.ID, env.Event, env.CreatedAt, env.Data
}

func relayFirst(n int) relay.Args { return relay.Args{First: &n} }
