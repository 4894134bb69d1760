package bench_test

import (
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/originhub/originhub/internal/bench"
	"github.com/originhub/originhub/internal/testkit"
)

// TestLedgerSmoke runs the ledger benchmark with three clients and short phases: every
// figure comes out positive and the latencies are ordered.
func TestLedgerSmoke(t *testing.T) {
	ropt := testkit.RedisOptions(t)
	host, port, _ := net.SplitHostPort(ropt.Addr)
	env := map[string]string{"DATABASE_URI": testkit.DatabaseURI(t), "REDIS_HOST": host, "REDIS_PORT": port, "LEDGER_COMMIT_DELAY": "20ms"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	res, err := bench.Ledger(t.Context(), lookup, slog.New(slog.DiscardHandler), bench.LedgerOptions{
		Clients: 3, SignFor: 50 * time.Millisecond, CommitRounds: 1, RedisDB: ropt.DB,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.SignTxPerS <= 0 || res.StandinCommitTxPerS <= 0 || res.E2EP50Ms <= 0 || res.E2EP95Ms < res.E2EP50Ms {
		t.Fatalf("Ledger() = %+v, want positive figures and p95 >= p50", res)
	}
}
