package publish_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/uptrace/bun"

	"github.com/originhub/originhub/internal/ledger"
	"github.com/originhub/originhub/internal/ledger/outbox"
	"github.com/originhub/originhub/internal/ledger/publish"
	"github.com/originhub/originhub/internal/ledger/rest"
	"github.com/originhub/originhub/internal/ledger/standin"
	"github.com/originhub/originhub/internal/ledger/wallet"
	"github.com/originhub/originhub/internal/pubsub"
	"github.com/originhub/originhub/internal/testkit"
	"github.com/originhub/originhub/models"
	"github.com/originhub/originhub/tasks"
)

func TestMain(m *testing.M) { testkit.Main(m) }

// partitionsMu serialises partition creation: parallel tests creating the same month race
// inside ensure_measurement_partitions.
var partitionsMu sync.Mutex

var hour0 = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

// proxy sits between the outbox and the stand-in: it records every POST /batches body and
// can drop posts (answer 202 without forwarding) or fail them, to provoke UNKNOWN and
// network errors over real HTTP.
type proxy struct {
	mu    sync.Mutex
	posts [][]byte
	drop  int // next posts answered 202 but not forwarded
	fail  int // next posts answered 503
}

func (p *proxy) Posts() [][]byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([][]byte(nil), p.posts...)
}

func (p *proxy) set(drop, fail int) {
	p.mu.Lock()
	p.drop, p.fail = drop, fail
	p.mu.Unlock()
}

// fixture is one test's ledger world. Tests in this package do not run in parallel: a poll
// also takes other due batches of the shared database, which would ask the wrong stand-in.
//
// A fixture is a stand-in in its own schema of the package database,
// the outbox and publication services on the package database, and the user's events.
type fixture struct {
	db      *bun.DB
	schema  string
	standin *standin.Ledger
	client  *rest.Client
	proxy   *proxy
	outbox  *outbox.Service
	pub     *publish.Service
	wallets *wallet.Service
	queue   tasks.Enqueuer
	bus     *pubsub.Bus
	deps    outbox.Deps
}

func newFixture(t *testing.T, backoff outbox.Backoff) *fixture {
	t.Helper()
	ctx := t.Context()
	db := testkit.DB(t)
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	schema := "standin_" + hex.EncodeToString(rnd[:])
	l, err := standin.New(db, standin.Options{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(l.Handler())
	t.Cleanup(srv.Close)
	target, _ := url.Parse(srv.URL)
	px := &proxy{}
	rp := httputil.NewSingleHostReverseProxy(target)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			body, _ := io.ReadAll(r.Body)
			px.mu.Lock()
			px.posts = append(px.posts, body)
			drop, fail := px.drop > 0, px.fail > 0 && px.drop == 0
			if drop {
				px.drop--
			} else if fail {
				px.fail--
			}
			px.mu.Unlock()
			switch {
			case drop:
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusAccepted)
				_, _ = w.Write([]byte(`{"link":"dropped"}`))
				return
			case fail:
				http.Error(w, "<html>bad gateway</html>", http.StatusServiceUnavailable)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	client := rest.New(front.URL, nil).WithRetry(rest.RetryPolicy{Attempts: 1})

	aq := asynq.NewClient(asynq.RedisClientOpt{Addr: testkit.RedisOptions(t).Addr, DB: testkit.RedisOptions(t).DB})
	t.Cleanup(func() { _ = aq.Close() })
	bus := pubsub.New(testkit.Redis(t), slog.New(slog.DiscardHandler))
	t.Cleanup(func() { _ = bus.Close() })

	sealer, err := ledger.NewSealer([]byte("test secret of sixteen+ chars"))
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{db: db, schema: schema, standin: l, client: client, proxy: px, wallets: wallet.NewService(sealer), queue: tasks.Enqueuer{Client: aq}, bus: bus}
	f.deps = outbox.Deps{DB: db, Ledger: client, Queue: f.queue, Publisher: bus,
		Handlers: outbox.Handlers{publish.Kind: publish.Hooks()}, Backoff: backoff}
	f.outbox = outbox.NewService(f.deps)
	f.pub = publish.NewService(db, f.wallets, f.outbox, nil, nil)
	return f
}

// user creates a user with one metering point and n hourly measurements from hour0.
func (f *fixture) user(t *testing.T, mpType models.MeteringPointType, n int) (userID, mpID int64) {
	t.Helper()
	ctx := t.Context()
	if err := f.db.NewRaw("INSERT INTO users (subject) VALUES (?) RETURNING id", testkit.Subject(t)).Scan(ctx, &userID); err != nil {
		t.Fatal(err)
	}
	gsrn, _ := rand.Int(rand.Reader, big.NewInt(1e16))
	if err := f.db.NewRaw("INSERT INTO metering_points (user_id, gsrn, type, sector) VALUES (?, ?, ?, 'DK1') RETURNING id",
		userID, fmt.Sprintf("57%016d", gsrn), mpType).Scan(ctx, &mpID); err != nil {
		t.Fatal(err)
	}
	partitionsMu.Lock()
	_, err := f.db.ExecContext(ctx, "SELECT ensure_measurement_partitions(?, ?)", hour0, hour0.Add(time.Duration(n+1)*time.Hour))
	partitionsMu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.ExecContext(ctx, `INSERT INTO measurements (metering_point_id, begin_at, amount_wh)
		SELECT ?, ?::timestamptz + g * interval '1 hour', 1000 + g FROM generate_series(0, ? - 1) g`, mpID, hour0, n); err != nil {
		t.Fatal(err)
	}
	return userID, mpID
}

// events subscribes to userID's batch events.
func (f *fixture) events(t *testing.T, userID int64) <-chan []byte {
	t.Helper()
	ch, err := f.bus.Subscribe(t.Context(), outbox.UserTopic(userID))
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

// drain returns the events received within a short quiet period after the last one.
func drain(ch <-chan []byte, quiet time.Duration) []outbox.Event {
	var out []outbox.Event
	for {
		select {
		case raw := <-ch:
			var ev outbox.Event
			_ = json.Unmarshal(raw, &ev)
			out = append(out, ev)
		case <-time.After(quiet):
			return out
		}
	}
}

func (f *fixture) batch(t *testing.T, id string) models.LedgerBatch {
	t.Helper()
	b, err := f.outbox.Get(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (f *fixture) publications(t *testing.T, mpID int64) []models.MeasurementLedgerState {
	t.Helper()
	var rows []models.MeasurementLedgerState
	if err := f.db.NewSelect().Model(&rows).Where("metering_point_id = ?", mpID).Order("begin_at").Scan(t.Context()); err != nil {
		t.Fatal(err)
	}
	return rows
}

// commit lets the stand-in apply everything due.
func (f *fixture) commit(t *testing.T) {
	t.Helper()
	if _, err := f.standin.CommitDue(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// standinCount counts the stand-in's batches with id in status.
func (f *fixture) standinCount(t *testing.T, id, status string) int {
	t.Helper()
	var n int
	if err := f.db.NewRaw(fmt.Sprintf("SELECT count(*) FROM %s.batches WHERE id = ? AND status = ?", f.schema), id, status).Scan(t.Context(), &n); err != nil {
		t.Fatal(err)
	}
	return n
}

// ctxCancelLedger posts for real and then cancels the worker's context before the outbox
// records the post: a worker killed between post and commit.
type ctxCancelLedger struct {
	outbox.Ledger
	cancel context.CancelFunc
}

func (c ctxCancelLedger) Submit(ctx context.Context, b ledger.Batch) error {
	err := c.Ledger.Submit(context.WithoutCancel(ctx), b)
	c.cancel()
	if err != nil {
		return err
	}
	return ctx.Err()
}

type (
	txCtx = context.Context
	txT   = bun.Tx
)
