package agreement

import (
	"context"
	"fmt"
	"time"

	"github.com/originhub/originhub/models"
)

// Resolution is the bucket size of a summary.
type Resolution string

// Resolutions; buckets start at local midnight etc. in Europe/Copenhagen.
const (
	Hour  Resolution = "hour"
	Day   Resolution = "day"
	Month Resolution = "month"
	Year  Resolution = "year"
)

// SummaryRow is what was transferred of one technology in one bucket.
type SummaryRow struct {
	Bucket     time.Time        `bun:"bucket"`
	Technology string           `bun:"technology"`
	AmountWh   models.WattHours `bun:"amount_wh"`
}

// SummaryInput narrows a transfer summary: one agreement (or all the user's), a direction
// (nil: both), a range of GGO hours and a resolution.
type SummaryInput struct {
	AgreementID *int64
	Direction   *Direction
	From, Until time.Time
	Resolution  Resolution
}

// Summary sums the GGOs transferred under the user's agreements per bucket and technology,
// in SQL (the parts carry their agreement).
// Errors: *InputError.
func (s *Service) Summary(ctx context.Context, user int64, in SummaryInput) ([]SummaryRow, error) {
	switch in.Resolution {
	case Hour, Day, Month, Year:
	default:
		return nil, &InputError{Field: "resolution", Message: "must be hour, day, month or year"}
	}
	if !in.From.Before(in.Until) {
		return nil, &InputError{Field: "begin", Message: "gte must be before lt"}
	}
	q := s.db.NewSelect().TableExpr("ggos AS g").
		Join("JOIN agreements ag ON ag.id = g.agreement_id").
		Join("LEFT JOIN technologies t ON t.technology_code = g.technology_code AND t.fuel_code = g.fuel_code").
		ColumnExpr("date_trunc(?, g.begin_at, 'Europe/Copenhagen') AS bucket", string(in.Resolution)).
		ColumnExpr("coalesce(t.label, g.technology_code || '/' || g.fuel_code) AS technology").
		ColumnExpr("sum(g.amount_wh)::bigint AS amount_wh").
		Where("g.begin_at >= ? AND g.begin_at < ?", in.From.UTC(), in.Until.UTC()).
		Where(transferredParts)
	switch {
	case in.Direction != nil && *in.Direction == Outbound:
		q = q.Where("ag.from_user_id = ?", user)
	case in.Direction != nil && *in.Direction == Inbound:
		q = q.Where("ag.to_user_id = ?", user)
	default:
		q = q.Where("(ag.from_user_id = ? OR ag.to_user_id = ?)", user, user)
	}
	if in.AgreementID != nil {
		q = q.Where("ag.id = ?", *in.AgreementID)
	}
	var out []SummaryRow
	if err := q.GroupExpr("1, 2").OrderExpr("1, 2").Limit(MaxSummaryRows+1).Scan(ctx, &out); err != nil {
		return nil, fmt.Errorf("agreement summary: %w", err)
	}
	if len(out) > MaxSummaryRows {
		return nil, &InputError{Field: "resolution", Message: fmt.Sprintf("more than %d rows: use a coarser resolution or a shorter range", MaxSummaryRows)}
	}
	return out, nil
}

// MaxSummaryRows bounds one summary answer (hours of years would be millions of rows).
const MaxSummaryRows = 100_000
