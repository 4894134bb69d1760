package account

import (
	"context"
	"fmt"
	"time"

	"github.com/originhub/originhub/models"
)

// Distribution categories (DistributionRow.Category): issued to the user, now stored,
// retired, expired, received from others (inbound) and sent to others (outbound). A GGO may
// count in several (issued and retired).
const (
	CategoryIssued   = "ISSUED"
	CategoryStored   = "STORED"
	CategoryRetired  = "RETIRED"
	CategoryExpired  = "EXPIRED"
	CategoryInbound  = "INBOUND"
	CategoryOutbound = "OUTBOUND"
)

// DistributionRow is one category's amount of one technology.
type DistributionRow struct {
	Category   string           `bun:"category"` // one of the Category constants
	Technology string           `bun:"technology"`
	AmountWh   models.WattHours `bun:"amount_wh"`
}

// Distribution sums the user's GGOs with begin in [from, until) per category and
// technology label, in one query: issued to the user, stored, retired, expired, received
// (inbound) and sent to others (outbound). Parts in flight are left out.
// Errors: *InputError (bad range), database errors.
func (s *Service) Distribution(ctx context.Context, user int64, from, until time.Time) ([]DistributionRow, error) {
	if !from.Before(until) {
		return nil, &InputError{Field: "begin", Message: "gte must be before lt"}
	}
	var out []DistributionRow
	err := s.db.NewRaw(`
		WITH g AS (
			SELECT g.*, coalesce(t.label, g.technology_code || '/' || g.fuel_code) AS technology
			FROM ggos g LEFT JOIN technologies t ON t.technology_code = g.technology_code AND t.fuel_code = g.fuel_code
			WHERE (g.user_id = ? OR g.received_from_user_id = ?) AND g.begin_at >= ? AND g.begin_at < ? AND g.state <> 'PENDING')
		SELECT c.category, g.technology, sum(g.amount_wh)::bigint AS amount_wh
		FROM g CROSS JOIN LATERAL (VALUES
			(CASE WHEN g.user_id = ? AND g.origin = 'ISSUED' THEN 'ISSUED' END),
			(CASE WHEN g.user_id = ? AND g.state = 'STORED' THEN 'STORED' END),
			(CASE WHEN g.user_id = ? AND g.state = 'RETIRED' THEN 'RETIRED' END),
			(CASE WHEN g.user_id = ? AND g.state = 'EXPIRED' THEN 'EXPIRED' END),
			(CASE WHEN g.user_id = ? AND g.origin = 'RECEIVED' THEN 'INBOUND' END),
			(CASE WHEN g.received_from_user_id = ? AND g.origin = 'RECEIVED' THEN 'OUTBOUND' END)) c(category)
		WHERE c.category IS NOT NULL
		GROUP BY 1, 2 ORDER BY 1, 2`,
		user, user, from.UTC(), until.UTC(), user, user, user, user, user, user).Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("ggo distribution: %w", err)
	}
	return out, nil
}
