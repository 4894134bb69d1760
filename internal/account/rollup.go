package account

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/originhub/originhub/models"
)

// rollupColumns are the columns the rollup tables share with ggos (alias g in Summary).
const rollupColumns = "user_id, begin_at, sector, technology_code, fuel_code, state, origin, amount_wh, n"

// utcZones are the zone names whose days are UTC days, for which the daily rollup serves.
var utcZones = map[string]bool{"UTC": true, "Etc/UTC": true, "GMT": true, "Etc/GMT": true, "Etc/UCT": true, "UCT": true, "Zulu": true, "Etc/Zulu": true}

// summarySource returns what Summary aggregates, as alias g with the ggos columns it
// filters and groups on, and the expression that counts GGOs there.
//
// A filter on issuing metering points needs the ggos table itself; the rollups do not keep
// them. Otherwise it is a rollup base table plus the deltas not yet compacted into it: the
// UTC-day rollup when buckets are whole UTC days (resolution DAY or coarser in a UTC zone,
// range ends at UTC midnight), else the hourly one. Deltas are hourly, so they bucket
// correctly either way. Both branches carry the user and range conditions themselves, so
// each is an index range scan.
func (s *Service) summarySource(userID int64, f Filter, res Resolution, timeZone string) (*bun.SelectQuery, string) {
	if len(f.GSRNs) > 0 {
		return s.db.NewSelect().Model((*models.Ggo)(nil)), "count(*)"
	}
	base := "ggo_rollup_hours"
	if res != Hour && utcZones[timeZone] && utcMidnight(f.From) && utcMidnight(f.Until) {
		base = "ggo_rollup_days"
	}
	branch := func(table string) *bun.SelectQuery {
		q := s.db.NewSelect().ColumnExpr(rollupColumns).TableExpr(table).Where("user_id = ?", userID)
		if f.From != nil {
			q = q.Where("begin_at >= ?", *f.From)
		}
		if f.Until != nil {
			q = q.Where("begin_at < ?", *f.Until)
		}
		return q
	}
	return s.db.NewSelect().TableExpr("(? UNION ALL ?) AS g", branch(base), branch("ggo_rollup_deltas")), "sum(g.n)"
}

func utcMidnight(t *time.Time) bool {
	return t == nil || t.UTC().Equal(t.UTC().Truncate(24*time.Hour))
}

// rollupLockKey is the advisory lock that serialises compactions.
const rollupLockKey = 0x6767_6f5f_726f_6c6c // "ggo_roll"

// CompactRollup folds the GGO rollup deltas committed so far into the hourly and daily
// rollups, in one transaction, and returns how many deltas it folded. Summaries read base
// plus deltas, so their answers are the same before and after. Deltas written by
// transactions still open are invisible here and stay for the next run. When another
// compaction holds the advisory lock it returns 0 at once.
func (s *Service) CompactRollup(ctx context.Context) (int64, error) {
	var n int64
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var locked bool
		if err := tx.NewRaw("SELECT pg_try_advisory_xact_lock(?)", int64(rollupLockKey)).Scan(ctx, &locked); err != nil {
			return fmt.Errorf("lock ggo rollup: %w", err)
		}
		if !locked {
			return nil
		}
		// One statement: the deltas it deletes are exactly those it adds to both rollups.
		err := tx.NewRaw(`
			WITH moved AS (
				DELETE FROM ggo_rollup_deltas RETURNING `+rollupColumns+`),
			hours AS (
				INSERT INTO ggo_rollup_hours AS r (`+rollupColumns+`)
				SELECT user_id, begin_at, sector, technology_code, fuel_code, state, origin, sum(amount_wh), sum(n)
				FROM moved GROUP BY 1, 2, 3, 4, 5, 6, 7
				ON CONFLICT (user_id, begin_at, sector, technology_code, fuel_code, state, origin)
				DO UPDATE SET amount_wh = r.amount_wh + EXCLUDED.amount_wh, n = r.n + EXCLUDED.n),
			days AS (
				INSERT INTO ggo_rollup_days AS r (`+rollupColumns+`)
				SELECT user_id, date_trunc('day', begin_at, 'UTC'), sector, technology_code, fuel_code, state, origin, sum(amount_wh), sum(n)
				FROM moved GROUP BY 1, 2, 3, 4, 5, 6, 7
				ON CONFLICT (user_id, begin_at, sector, technology_code, fuel_code, state, origin)
				DO UPDATE SET amount_wh = r.amount_wh + EXCLUDED.amount_wh, n = r.n + EXCLUDED.n)
			SELECT count(*) FROM moved`).Scan(ctx, &n)
		if err != nil {
			return fmt.Errorf("compact ggo rollup: %w", err)
		}
		for _, table := range []string{"ggo_rollup_hours", "ggo_rollup_days"} {
			if _, err := tx.NewRaw("DELETE FROM ? WHERE n = 0", bun.Ident(table)).Exec(ctx); err != nil {
				return fmt.Errorf("prune %s: %w", table, err)
			}
		}
		return nil
	})
	return n, err
}
