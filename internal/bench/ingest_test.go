package bench_test

import (
	"testing"

	"github.com/originhub/originhub/internal/bench"
	"github.com/originhub/originhub/internal/testkit"
)

func TestMain(m *testing.M) { testkit.Main(m) }

// The benchmark itself checks every window's counts; this runs it small so it cannot rot.
func TestIngestBenchmarkRuns(t *testing.T) {
	res, err := bench.Ingest(t.Context(), testkit.DatabaseURI(t), 20_000, 2)
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows != 26_280 || // rounded up to whole years of 8,760 hours
		res.CopyRowsPerS <= 0 || res.ImportRowsPerS <= 0 || res.ReimportRowsPerS <= 0 || res.Ratio <= 0 || res.PeakRSSMB <= 0 {
		t.Fatalf("result = %+v, want every figure measured", res)
	}
}
