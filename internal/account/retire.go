package account

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/originhub/originhub/models"
)

// RetireInput asks for the owner's GGOs to be retired to one of their consumption points.
type RetireInput struct {
	GSRN           string
	From, Until    time.Time         // the hours to cover
	MaxAmount      *models.WattHours // at most this much in all; nil: as much as consumed
	Filter         Filter            // e.g. technologies
	IdempotencyKey string
}

// maxRetireHours bounds one retire's range (one ledger batch).
const maxRetireHours = 31 * 24

// consumption is one hour of a consumption point as the ledger knows it, with what is
// already retired to it.
type consumption struct {
	BeginAt  time.Time        `bun:"begin_at"`
	Address  string           `bun:"address"`
	AmountWh models.WattHours `bun:"amount_wh"`
	Retired  models.WattHours `bun:"retired"`
}

// consumerPoint loads the owner's consumption point by GSRN.
// Errors: *InputError when it is not the owner's or not a consumption point (one message
// for both, so GSRNs of others cannot be probed).
func (s *Service) consumerPoint(ctx context.Context, db bun.IDB, owner int64, gsrn string) (models.MeteringPoint, error) {
	var mp models.MeteringPoint
	err := db.NewSelect().Model(&mp).Where("mp.user_id = ? AND mp.gsrn = ? AND mp.type = 'CONSUMPTION'", owner, gsrn).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return mp, &InputError{Field: "input.gsrn", Message: "is not one of your consumption metering points"}
	}
	if err != nil {
		return mp, fmt.Errorf("load metering point: %w", err)
	}
	return mp, nil
}

// retiredSQL is what is retired, or being retired, to the point of consumption row p
// (measurement_publications) at its hour: its GGOs and parts pending, locked or retired to
// it. Retire, automatic consumption and counterparts' rooms all count it so.
const retiredSQL = `coalesce((SELECT sum(g.amount_wh) FROM ggos g
	WHERE g.retire_metering_point_id = p.metering_point_id AND g.begin_at = p.begin_at
	  AND g.state IN ('PENDING', 'LOCKED', 'RETIRED')), 0)`

// onLedgerSQL keeps the publications p whose ledger batch committed: only consumption on
// the ledger can be retired to.
const onLedgerSQL = `JOIN ledger_batches b ON b.id = p.batch_id AND b.status = 'COMMITTED'`

// lockConsumption locks the published, committed consumption hours of mp in [from, until)
// and returns them with what is retired to each (pending retires included). The row locks
// on the publications serialise every retire to the same measurement, so the cap cannot be
// raced past. The sums are read by a second statement on purpose: in READ COMMITTED a
// statement that waited for a lock still reads with the snapshot it started with, so a sum
// computed in the locking statement would miss the retires committed by the transaction it
// waited for.
func lockConsumption(ctx context.Context, tx bun.Tx, mpID int64, from, until time.Time) ([]consumption, error) {
	var locked int
	err := tx.NewRaw(`
		SELECT count(*) FROM (
			SELECT 1 FROM measurement_publications p
			`+onLedgerSQL+`
			WHERE p.metering_point_id = ? AND p.begin_at >= ? AND p.begin_at < ?
			ORDER BY p.begin_at
			FOR UPDATE OF p) AS l`, mpID, from, until).Scan(ctx, &locked)
	if err != nil {
		return nil, fmt.Errorf("lock consumption: %w", err)
	}
	var hours []consumption
	err = tx.NewRaw(`
		SELECT p.begin_at, p.address, p.amount_wh,
		       `+retiredSQL+`::bigint AS retired
		FROM measurement_publications p
		`+onLedgerSQL+`
		WHERE p.metering_point_id = ? AND p.begin_at >= ? AND p.begin_at < ?
		ORDER BY p.begin_at`, mpID, from, until).Scan(ctx, &hours)
	if err != nil {
		return nil, fmt.Errorf("read consumption: %w", err)
	}
	return hours, nil
}

// Retire retires the owner's STORED GGOs to their consumption point, hour by hour: only
// GGOs of the same sector and the same hour, and never more per hour than the point
// consumed (as published on the ledger) minus what is already retired to it. Each retire
// carries its settlement; a GGO larger than what is left of an hour is split and only the
// part is retired. One database transaction, one ledger batch.
// Errors: *InputError (point not the owner's consumption point, bad range, nothing to
// retire), database errors.
func (s *Service) Retire(ctx context.Context, owner int64, in RetireInput) (models.GgoOperation, error) {
	if err := hourRange(in.From, in.Until, maxRetireHours); err != nil {
		return models.GgoOperation{}, err
	}
	if in.MaxAmount != nil && *in.MaxAmount <= 0 {
		return models.GgoOperation{}, &InputError{Field: "input.amount", Message: "must be positive"}
	}
	if op, err := s.existing(ctx, owner, in.IdempotencyKey); op != nil || err != nil {
		return deref(op), err
	}
	mp, err := s.consumerPoint(ctx, s.db, owner, in.GSRN)
	if err != nil {
		return models.GgoOperation{}, err
	}
	op := models.GgoOperation{UserID: owner, Kind: models.OperationRetire, MeteringPointID: &mp.ID}
	if in.IdempotencyKey != "" {
		op.IdempotencyKey = &in.IdempotencyKey
	}
	var batchID string
	err = s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		b, err := s.newBuilder(ctx, tx, owner)
		if err != nil {
			return err
		}
		hours, err := lockConsumption(ctx, tx, mp.ID, in.From, in.Until)
		if err != nil {
			return err
		}
		budget := models.MaxWattHours
		if in.MaxAmount != nil {
			budget = *in.MaxAmount
		}
		f := in.Filter
		f.Sectors = []models.Sector{mp.Sector}
		used := 0
		for _, h := range hours {
			need := min(h.AmountWh-h.Retired, budget)
			if need <= 0 {
				continue
			}
			if used >= s.cfg.MaxGgosPerOperation {
				break // one batch is full: retire what fits now, the rest in another call
			}
			f.From, f.Until = &h.BeginAt, ptr(h.BeginAt.Add(time.Hour))
			picked, sum, err := s.pick(ctx, tx, owner, f, need, s.cfg.MaxGgosPerOperation-used)
			if err != nil {
				return err
			}
			if len(picked) == 0 {
				continue
			}
			used += len(picked)
			var rs []retirement
			left := min(need, sum)
			for i := range picked {
				g := picked[i]
				if g.AmountWh <= left {
					rs = append(rs, retirement{existing: &picked[i]})
					left -= g.AmountWh
					continue
				}
				mpID := mp.ID
				idx, err := b.split(ctx, g, []share{{owner: owner, amount: left, retireMP: &mpID}, {owner: owner, amount: g.AmountWh - left}})
				if err != nil {
					return err
				}
				rs = append(rs, retirement{partIdx: idx[0]})
				left = 0
			}
			if err := b.retire(ctx, mp, h.BeginAt, h.Address, rs); err != nil {
				return err
			}
			retired := min(need, sum)
			b.amount += retired
			budget -= retired
		}
		if b.amount == 0 {
			return &InputError{Field: "input", Message: "nothing to retire: no stored GGOs of the same sector for hours with unretired consumption on the ledger"}
		}
		op.AmountWh = b.amount
		batchID, err = b.finish(ctx, &op)
		return err
	})
	if err != nil {
		return models.GgoOperation{}, err
	}
	s.enqueue(ctx, batchID)
	return op, nil
}

func ptr[T any](v T) *T { return &v }
