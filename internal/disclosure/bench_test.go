package disclosure_test

import (
	"testing"
	"time"

	"github.com/uptrace/bun/dialect/pgdialect"

	"github.com/originhub/originhub/models"
)

// BenchmarkCompileYear compiles a disclosure of 10 consumption points over a year (87,600
// point-hours, each with a retired Wind GGO). The first compilation writes everything and is
// reported as first-ms; the timed loop is the incremental recompilation that finds nothing
// changed.
func BenchmarkCompileYear(b *testing.B) {
	f := newFixture(b)
	ctx := b.Context()
	from := time.Date(2035, 1, 1, 0, 0, 0, 0, time.UTC)
	to := from.AddDate(1, 0, 0)
	if _, err := f.db.ExecContext(ctx, "SELECT ensure_measurement_partitions(?, ?)", from, to); err != nil {
		b.Fatal(err)
	}
	gsrns := make([]string, 10)
	ids := make([]int64, 10)
	for i := range gsrns {
		gsrns[i] = f.point(b, f.owner, "CONSUMPTION", "", "", "")
		ids[i] = f.ids[gsrns[i]]
	}
	if _, err := f.db.ExecContext(ctx, `INSERT INTO measurements (metering_point_id, begin_at, amount_wh)
		SELECT p.id, h, 1000 FROM unnest(?::bigint[]) AS p (id), generate_series(?::timestamptz, ?::timestamptz - interval '1 hour', interval '1 hour') AS h`,
		pgdialect.Array(ids), from, to); err != nil {
		b.Fatal(err)
	}
	if _, err := f.db.ExecContext(ctx, `INSERT INTO ggos (user_id, begin_at, end_at, amount_wh, sector, technology_code, fuel_code, state, origin, issued_at, expires_at, retire_metering_point_id, retired_at)
		SELECT ?, h, h + interval '1 hour', 600, 'DK1', 'T020000', 'F01050100', 'RETIRED', 'PART', h, h + interval '90 days', p.id, h
		FROM unnest(?::bigint[]) AS p (id), generate_series(?::timestamptz, ?::timestamptz - interval '1 hour', interval '1 hour') AS h`,
		f.owner, pgdialect.Array(ids), from, to); err != nil {
		b.Fatal(err)
	}
	s := f.settings(gsrns...)
	s.From, s.To, s.MaxResolution = from, to, models.DisclosureDay
	d, err := f.svc.Create(ctx, f.owner, s)
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	st, err := f.svc.Compile(ctx, d.ID)
	if err != nil || st.HoursWritten != 87_600 || st.RetiredWritten != 87_600 {
		b.Fatalf("first compile = %+v, %v", st, err)
	}
	first := time.Since(start)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if st, err := f.svc.Compile(ctx, d.ID); err != nil || st.HoursWritten != 0 {
			b.Fatalf("recompile = %+v, %v", st, err)
		}
	}
	b.ReportMetric(float64(first.Milliseconds()), "first-ms")
	b.ReportMetric(87_600/first.Seconds(), "first-hours/s")
}
