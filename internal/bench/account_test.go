package bench_test

import (
	"log/slog"
	"net"
	"testing"

	"github.com/originhub/originhub/internal/bench"
	"github.com/originhub/originhub/internal/testkit"
)

// TestAccountSmoke runs the account benchmark tiny: every transfer is accounted for
// (committed, refused or failed), the figures are positive, and the summary answered (the
// benchmark itself checks it against a plain SQL aggregate).
func TestAccountSmoke(t *testing.T) {
	ropt := testkit.RedisOptions(t)
	host, port, _ := net.SplitHostPort(ropt.Addr)
	env := map[string]string{"DATABASE_URI": testkit.DatabaseURI(t), "REDIS_HOST": host, "REDIS_PORT": port, "LEDGER_COMMIT_DELAY": "20ms"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	res, err := bench.Account(t.Context(), lookup, slog.New(slog.DiscardHandler), bench.AccountOptions{
		Clients: 3, Transfers: 12, GGOs: 3000, Summaries: 3, RedisDB: ropt.DB,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Committed+res.Refused+res.Failed != 12 || res.Committed == 0 || res.TransfersPerS <= 0 {
		t.Fatalf("Account() transfers = %+v, want 12 accounted for, some committed", res)
	}
	if res.SummaryP50Ms <= 0 || res.SummaryP95Ms < res.SummaryP50Ms || res.SummaryRows == 0 || res.SQLBaselineP50Ms <= 0 {
		t.Fatalf("Account() summary = %+v, want positive latencies, p95 >= p50, rows", res)
	}
}
