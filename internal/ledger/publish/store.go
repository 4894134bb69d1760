package publish

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"github.com/originhub/originhub/models"
)

// HourKey names one measurement: its metering point and the Unix second its hour begins.
type HourKey struct {
	MeteringPointID int64
	BeginUnix       int64
}

// KeyOf returns the HourKey of the hour at begin.
func KeyOf(meteringPointID int64, begin time.Time) HourKey {
	return HourKey{MeteringPointID: meteringPointID, BeginUnix: begin.Unix()}
}

// Store reads publication state.
type Store struct{ db *bun.DB }

// NewStore returns a Store on db.
func NewStore(db *bun.DB) *Store { return &Store{db: db} }

// ByHours returns the ledger state of userID's measurements among keys, keyed like keys;
// hours not published (or not the user's) are left out. One query for all keys.
func (s *Store) ByHours(ctx context.Context, userID int64, keys []HourKey) (map[HourKey]models.MeasurementLedgerState, error) {
	if len(keys) == 0 {
		return map[HourKey]models.MeasurementLedgerState{}, nil
	}
	mps := make([]int64, len(keys))
	begins := make([]time.Time, len(keys))
	for i, k := range keys {
		mps[i], begins[i] = k.MeteringPointID, time.Unix(k.BeginUnix, 0).UTC()
	}
	var rows []models.MeasurementLedgerState
	err := s.db.NewSelect().Model(&rows).
		ColumnExpr("mpub.*, lb.status").
		Join("JOIN ledger_batches AS lb ON lb.id = mpub.batch_id").
		Join("JOIN metering_points AS mp ON mp.id = mpub.metering_point_id").
		Where("mp.user_id = ?", userID).
		Where("(mpub.metering_point_id, mpub.begin_at) IN (SELECT * FROM unnest(?::bigint[], ?::timestamptz[]))", pgdialect.Array(mps), pgdialect.Array(begins)).
		Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("load measurement publications: %w", err)
	}
	out := make(map[HourKey]models.MeasurementLedgerState, len(rows))
	for _, r := range rows {
		out[KeyOf(r.MeteringPointID, r.BeginAt)] = r
	}
	return out, nil
}
