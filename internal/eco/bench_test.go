package eco_test

import (
	"testing"
	"time"

	"github.com/originhub/originhub/internal/declaration"
	"github.com/originhub/originhub/internal/eco"
	"github.com/originhub/originhub/internal/testkit"
)

// BenchmarkDeclareYear declares a year of one consumption point (8,784 hours in 2036, each with a
// retired Wind GGO and an hourly residual and grid mix of two technologies) at daily
// resolution: every load is one SQL aggregate over the year.
func BenchmarkDeclareYear(b *testing.B) {
	db := testkit.DB(b)
	ctx := b.Context()
	w := newWorld(b, db)
	c := w.point(b, "CONSUMPTION", "DK2")
	from := time.Date(2036, 1, 1, 0, 0, 0, 0, time.UTC)
	to := from.AddDate(1, 0, 0)
	for _, q := range []string{
		"SELECT ensure_measurement_partitions(?0, ?1)",
		`INSERT INTO measurements (metering_point_id, begin_at, amount_wh)
			SELECT ?2, h, 1000 FROM generate_series(?0::timestamptz, ?1::timestamptz - interval '1 hour', interval '1 hour') AS h`,
		`INSERT INTO ggos (user_id, begin_at, end_at, amount_wh, sector, technology_code, fuel_code, state, origin, issued_at, expires_at, retire_metering_point_id, retired_at)
			SELECT ?3, h, h + interval '1 hour', 600, 'DK2', 'T020000', 'F01050100', 'RETIRED', 'PART', h, h + interval '90 days', ?2, h
			FROM generate_series(?0::timestamptz, ?1::timestamptz - interval '1 hour', interval '1 hour') AS h`,
		`INSERT INTO energy_mix (kind, sector, begin_at, technology, share_ppm, co2eq_mg_per_kwh, source)
			SELECT k, 'DK2', h, t, 500000, 100000, 'bench'
			FROM generate_series(?0::timestamptz, ?1::timestamptz - interval '1 hour', interval '1 hour') AS h,
			     (VALUES ('residual'), ('grid')) AS kinds (k), (VALUES ('Coal'), ('Wind')) AS techs (t)`,
	} {
		if _, err := db.ExecContext(ctx, q, from, to, w.points[c], w.userID); err != nil {
			b.Fatal(err)
		}
	}
	s := eco.NewService(db)
	b.ReportAllocs()
	for b.Loop() {
		res, err := s.Declare(ctx, w.userID, eco.Query{GSRNs: []string{c}, From: from, To: to, Resolution: declaration.Day})
		if err != nil || res.Declaration.Individual.MatchedWh != int64(to.Sub(from)/time.Hour)*600 || len(res.Declaration.MissingResidual) != 0 {
			b.Fatalf("Declare() = %+v, %v", res.Declaration.Individual, err)
		}
	}
}
