package bench_test

import (
	"log/slog"
	"net"
	"testing"

	"github.com/originhub/originhub/internal/bench"
	"github.com/originhub/originhub/internal/testkit"
)

// TestConsumeSmoke runs the consumption benchmark over two days, in one call and in two
// overlapping ones with the ledger live: every GGO of an hour with production is consumed
// (the benchmark itself checks that the ledger committed every operation).
func TestConsumeSmoke(t *testing.T) {
	ropt := testkit.RedisOptions(t)
	host, port, _ := net.SplitHostPort(ropt.Addr)
	env := map[string]string{"DATABASE_URI": testkit.DatabaseURI(t), "REDIS_HOST": host, "REDIS_PORT": port}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	for _, o := range []bench.ConsumeOptions{{Hours: 48}, {Hours: 48, Workers: 2, LedgerLive: true}} {
		o.RedisDB = ropt.DB
		res, err := bench.Consume(t.Context(), lookup, slog.New(slog.DiscardHandler), o)
		if err != nil {
			t.Fatalf("Consume(%+v) = %v", o, err)
		}
		// Wind every hour, solar in all but the first hour of each day.
		if res.Hours != 48 || res.GGOs != 48+46 || res.ConsumeGgosPerS <= 0 {
			t.Fatalf("Consume(%+v) = %+v, want 48 hours, 94 GGOs, a positive rate", o, res)
		}
	}
}
