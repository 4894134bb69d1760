// Package bench holds the `originhub bench` benchmarks: whole-system figures measured on a
// database of their own, printed as one JSON line.
package bench

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/uptrace/bun"
	"golang.org/x/sync/errgroup"

	"github.com/originhub/originhub/internal/config"
	"github.com/originhub/originhub/internal/db"
	"github.com/originhub/originhub/internal/ledger"
	"github.com/originhub/originhub/internal/ledger/outbox"
	"github.com/originhub/originhub/internal/ledger/standin"
)

// LedgerResult is the line `originhub bench ledger` prints.
type LedgerResult struct {
	SignTxPerS          float64 `json:"sign_tx_per_s"`
	StandinCommitTxPerS float64 `json:"standin_commit_tx_per_s"`
	E2EP50Ms            float64 `json:"e2e_p50_ms"`
	E2EP95Ms            float64 `json:"e2e_p95_ms"`
}

// LedgerOptions size the ledger benchmark.
type LedgerOptions struct {
	// Clients is the number of parallel clients of the end-to-end part (default 100).
	Clients int
	// SignFor is how long transactions are signed for (default 2 s).
	SignFor time.Duration
	// CommitRounds is the number of 100-batch rounds through the stand-in (default 5).
	CommitRounds int
	// RedisDB is the Redis DB index the platform under test uses for its queues and
	// pub/sub; it is flushed before and after.
	RedisDB int
}

func (o LedgerOptions) withDefaults() LedgerOptions {
	if o.Clients <= 0 {
		o.Clients = 100
	}
	if o.SignFor <= 0 {
		o.SignFor = 2 * time.Second
	}
	if o.CommitRounds <= 0 {
		o.CommitRounds = 5
	}
	return o
}

// Ledger runs the ledger benchmark against a fresh database originhub_bench_<random> on the
// server of DATABASE_URI (read through lookup), which it drops at the end.
func Ledger(ctx context.Context, lookup config.Lookup, log *slog.Logger, o LedgerOptions) (LedgerResult, error) {
	o = o.withDefaults()
	var res LedgerResult
	res.SignTxPerS = signRate(o.SignFor)

	uri, drop, err := benchDatabase(ctx, lookup, log)
	if err != nil {
		return res, err
	}
	defer drop()
	d, err := db.Open(ctx, db.Options{URI: uri, PoolSize: 4})
	if err != nil {
		return res, err
	}
	defer d.Close()
	if res.StandinCommitTxPerS, err = commitRate(ctx, d, o.CommitRounds); err != nil {
		return res, err
	}
	p, err := startPlatform(ctx, lookup, log, uri, o.RedisDB, nil)
	if err != nil {
		return res, err
	}
	defer p.stop()
	lat, err := e2e(ctx, p, o)
	if err != nil {
		return res, err
	}
	slices.Sort(lat)
	res.E2EP50Ms = ms(lat[len(lat)*50/100])
	res.E2EP95Ms = ms(lat[min(len(lat)-1, len(lat)*95/100)])
	return res, nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// signRate encodes and signs 100-transaction batches of transfers on one goroutine, as
// internal/ledger's BenchmarkEncodeSign does, and returns transactions per second.
func signRate(dur time.Duration) float64 {
	m, _ := ledger.NewMasterKey(bytes.Repeat([]byte{7}, 32))
	owners := make([]*ledger.Key, 64)
	for i := range owners {
		owners[i], _ = m.TradedGGOKey(uint32(i))
	}
	dests := make([]string, 100)
	for i := range dests {
		var priv [32]byte
		priv[31], priv[30] = byte(i+1), 0x5a
		dests[i] = ledger.AddressOf(ledger.PrefixGGO, secp256k1.PrivKeyFromBytes(priv[:]).PubKey().SerializeCompressed())
	}
	txs := make([]ledger.Tx, len(dests))
	count := 0
	start := time.Now()
	for time.Since(start) < dur {
		for j := range txs {
			o := owners[(count+j)%len(owners)]
			txs[j], _ = ledger.TransferGGO(o, o.Address(ledger.PrefixGGO), dests[j])
		}
		if _, err := ledger.NewBatch(m, txs...); err != nil {
			return 0
		}
		count += len(txs)
	}
	return float64(count) / time.Since(start).Seconds()
}

// commitRate posts rounds of 100 publish+issue batches to a stand-in on d (through its HTTP
// handler: decode, verify, queue) and commits them; it returns committed transactions per
// second. Building the batches is not timed.
func commitRate(ctx context.Context, d *bun.DB, rounds int) (float64, error) {
	l, err := standin.New(d, standin.Options{Schema: "bench_standin"})
	if err != nil {
		return 0, err
	}
	if err := l.Migrate(ctx); err != nil {
		return 0, err
	}
	h := l.Handler()
	m, _ := ledger.NewMasterKey(bytes.Repeat([]byte{9}, 32))
	mp, _ := m.MeteringPointKey(0)
	begin := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	var n uint64
	var elapsed time.Duration
	committed := 0
	for range rounds {
		bodies := make([][]byte, 100)
		for i := range bodies {
			n++
			var seed [32]byte
			binary.BigEndian.PutUint64(seed[24:], n)
			pub := secp256k1.PrivKeyFromBytes(seed[:]).PubKey().SerializeCompressed()
			maddr, gaddr := ledger.AddressOf(ledger.PrefixMeasurement, pub), ledger.AddressOf(ledger.PrefixGGO, pub)
			p, err := ledger.PublishMeasurement(mp, ledger.Measurement{Address: maddr, Begin: begin, Sector: "DK1", Type: ledger.Production, Amount: 1000})
			if err != nil {
				return 0, err
			}
			is, err := ledger.IssueGGO(mp, ledger.Issue{MeasurementAddress: maddr, GGOAddress: gaddr, TechType: "T020001", FuelType: "F01050100"})
			if err != nil {
				return 0, err
			}
			b, err := ledger.NewBatch(mp, p, is)
			if err != nil {
				return 0, err
			}
			bodies[i] = b.Bytes
		}
		start := time.Now()
		for _, body := range bodies {
			req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/batches", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/octet-stream")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusAccepted {
				return 0, fmt.Errorf("stand-in POST /batches = %d %s", rec.Code, rec.Body)
			}
		}
		for {
			k, err := l.CommitDue(ctx)
			if err != nil {
				return 0, err
			}
			if k == 0 {
				break
			}
			committed += 2 * k
		}
		elapsed += time.Since(start)
	}
	return float64(committed) / elapsed.Seconds(), nil
}

// e2e measures on the running platform, for o.Clients
// parallel clients, the time from a change that submits a batch (publishing one hour of the
// client's own metering point) to the COMMITTED event on the client's ledgerBatchUpdated
// subscription over WebSocket.
func e2e(ctx context.Context, p *platform, o LedgerOptions) ([]time.Duration, error) {
	a := p.app
	begin := time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)
	if _, err := a.DB.ExecContext(ctx, "SELECT ensure_measurement_partitions(?, ?)", begin, begin.Add(time.Hour)); err != nil {
		return nil, err
	}
	type client struct {
		userID, mpID int64
		conn         *websocket.Conn
	}
	clients := make([]client, o.Clients)
	for i := range clients {
		u, err := a.Users.Ensure(ctx, fmt.Sprintf("bench-%d", i))
		if err != nil {
			return nil, err
		}
		var mpID int64
		if err := a.DB.NewRaw("INSERT INTO metering_points (user_id, gsrn, type, sector) VALUES (?, ?, 'PRODUCTION', 'DK1') RETURNING id",
			u.ID, fmt.Sprintf("5799%014d", i)).Scan(ctx, &mpID); err != nil {
			return nil, fmt.Errorf("create metering point: %w", err)
		}
		if _, err := a.DB.ExecContext(ctx, "INSERT INTO measurements (metering_point_id, begin_at, amount_wh) VALUES (?, ?, ?)", mpID, begin, 1000+i); err != nil {
			return nil, fmt.Errorf("create measurement: %w", err)
		}
		// The wallet and the point's key index exist from onboarding on; the timed change
		// is the publication itself.
		if err := a.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			_, err := a.Wallets.MeteringPointKey(ctx, tx, mpID)
			return err
		}); err != nil {
			return nil, fmt.Errorf("create wallet: %w", err)
		}
		tok, err := a.DevIssuer.Mint(u.Subject, time.Hour)
		if err != nil {
			return nil, err
		}
		c, err := subscribe(ctx, "ws://"+p.addr+"/graphql", tok)
		if err != nil {
			return nil, err
		}
		defer c.CloseNow()
		clients[i] = client{userID: u.ID, mpID: mpID, conn: c}
	}
	// Subscriptions register asynchronously after "subscribe".
	deadline := time.Now().Add(30 * time.Second)
	for _, c := range clients {
		for a.Bus.Subscribers(outbox.UserTopic(c.userID)) == 0 {
			if time.Now().After(deadline) {
				return nil, errors.New("subscriptions not registered within 30 s")
			}
			time.Sleep(5 * time.Millisecond)
		}
	}

	lat := make([]time.Duration, len(clients))
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	gctx, cancel := context.WithTimeout(gctx, 2*time.Minute)
	defer cancel()
	startLine := make(chan struct{})
	for i, c := range clients {
		g.Go(func() error {
			<-startLine
			start := time.Now()
			ids, err := a.Publisher.PublishMeasurements(gctx, c.mpID, begin, begin.Add(time.Hour))
			if err != nil {
				return err
			}
			if len(ids) != 1 {
				return fmt.Errorf("client %d: %d batches, want 1", i, len(ids))
			}
			if err := waitCommitted(gctx, c.conn, ids[0]); err != nil {
				return fmt.Errorf("client %d: %w", i, err)
			}
			mu.Lock()
			lat[i] = time.Since(start)
			mu.Unlock()
			return nil
		})
	}
	close(startLine)
	if err := g.Wait(); err != nil {
		var counts []struct {
			Status string `bun:"status"`
			N      int    `bun:"n"`
		}
		_ = a.DB.NewRaw("SELECT status, count(*) AS n FROM ledger_batches GROUP BY status").Scan(context.WithoutCancel(ctx), &counts)
		return nil, fmt.Errorf("%w (outbox: %v)", err, counts)
	}
	return lat, nil
}

type wsMessage struct {
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload"`
}

// subscribe opens a graphql-transport-ws connection and starts ledgerBatchUpdated.
func subscribe(ctx context.Context, u, token string) (*websocket.Conn, error) {
	c, _, err := websocket.Dial(ctx, u, &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", u, err)
	}
	if err := wsjson.Write(ctx, c, map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + token}}); err != nil {
		c.CloseNow()
		return nil, err
	}
	for {
		var m wsMessage
		if err := wsjson.Read(ctx, c, &m); err != nil {
			c.CloseNow()
			return nil, fmt.Errorf("await connection_ack: %w", err)
		}
		if m.Type == "connection_ack" {
			break
		}
	}
	err = wsjson.Write(ctx, c, map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{
		"query": `subscription { ledgerBatchUpdated { batchId status } }`,
	}})
	if err != nil {
		c.CloseNow()
		return nil, err
	}
	return c, nil
}

// waitCommitted reads events until batch id is reported COMMITTED.
func waitCommitted(ctx context.Context, c *websocket.Conn, id string) error {
	for {
		var m wsMessage
		if err := wsjson.Read(ctx, c, &m); err != nil {
			return fmt.Errorf("await COMMITTED of %s: %w", id, err)
		}
		switch m.Type {
		case "ping":
			_ = wsjson.Write(ctx, c, map[string]any{"type": "pong"})
		case "next":
			var ev struct {
				Data struct {
					LedgerBatchUpdated struct{ BatchID, Status string }
				}
			}
			if err := json.Unmarshal(m.Payload, &ev); err != nil {
				return err
			}
			if ev.Data.LedgerBatchUpdated.BatchID == id && ev.Data.LedgerBatchUpdated.Status == "COMMITTED" {
				return nil
			}
		case "error", "complete":
			return fmt.Errorf("subscription ended: %s %s", m.Type, m.Payload)
		}
	}
}
