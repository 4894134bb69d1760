package account

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/originhub/originhub/models"
)

// errHeld ends an operation's transaction whose pick came up short while other operations
// in flight hold enough of the GGOs it wants: inTx runs it again shortly, when those
// operations have committed (their GGOs are then LOCKED, no longer STORED) or rolled back.
var errHeld = fmt.Errorf("ggos held by operations in flight: %w", ErrConflict)

// pick locks the owner's STORED, unexpired GGOs matching f, earliest expiry first, until
// they cover want (or there are no more), and returns them with their sum. Every picked row
// stays locked until the transaction ends, so no GGO can be spent twice.
//
// It skips rows other operations hold (SKIP LOCKED), so concurrent operations on one account
// take disjoint GGOs instead of queueing behind each other. It never waits for a row lock:
// a pick that waited held locks on rows it then passed over (a row lock taken while waiting
// stays after the row is found spent), and with the hooks that finalise those rows it formed
// deadlocks, each costing deadlock_timeout (1 s). When it comes up short while the STORED
// rows it can see would cover want, the rest is in flight: it returns errHeld, and the
// operation is retried.
//
// The lock is FOR NO KEY UPDATE, not FOR UPDATE: it excludes other picks and updates just
// the same, but not the FOR KEY SHARE lock a concurrent operation's part insert takes on its
// parent and root (foreign keys), which deadlocked too.
// Errors: errHeld, *InputError, database errors.
func (s *Service) pick(ctx context.Context, tx bun.Tx, owner int64, f Filter, want models.WattHours, limit int) ([]models.Ggo, models.WattHours, error) {
	picked, sum, err := s.pickRows(ctx, tx, owner, f, want, limit, "NO KEY UPDATE SKIP LOCKED")
	if err != nil && !errors.Is(err, errTooMany) {
		return nil, 0, err
	}
	if err == nil && sum >= want {
		return picked, sum, nil
	}
	visible, verr := s.storedSum(ctx, tx, owner, f)
	if verr != nil {
		return nil, 0, verr
	}
	if err != nil {
		if visible < want {
			// Short anyway: say so, with the figure, rather than that it needs too many GGOs.
			return nil, visible, nil
		}
		return nil, 0, &InputError{Field: "input.amount", Message: fmt.Sprintf("needs more than %d GGOs in one operation: transfer or retire a smaller amount at a time", limit)}
	}
	if visible > sum {
		return nil, 0, errHeld
	}
	return picked, sum, nil
}

// errTooMany ends a pick that reached its limit of GGOs before covering what it wants.
var errTooMany = errors.New("pick needs too many ggos")

// storedSum sums the owner's STORED, unexpired GGOs matching f that the transaction can see,
// in flight (row-locked by others) or not.
func (s *Service) storedSum(ctx context.Context, tx bun.Tx, owner int64, f Filter) (models.WattHours, error) {
	f.States = []models.GgoState{models.GgoStored}
	var visible int64
	if err := tx.NewSelect().Model((*models.Ggo)(nil)).ColumnExpr("coalesce(sum(g.amount_wh), 0)::bigint").
		Where("g.user_id = ? AND g.expires_at > ?", owner, s.clock()).Apply(f.apply).Scan(ctx, &visible); err != nil {
		return 0, fmt.Errorf("sum stored ggos: %w", err)
	}
	return models.WattHours(visible), nil
}

// pickRows locks GGOs in chunks that start small and grow: a typical operation needs one or
// two GGOs, and every row a chunk locks beyond those stays locked, hidden from concurrent
// operations on the account, until the transaction ends.
func (s *Service) pickRows(ctx context.Context, tx bun.Tx, owner int64, f Filter, want models.WattHours, limit int, lock string) ([]models.Ggo, models.WattHours, error) {
	f.States = []models.GgoState{models.GgoStored}
	var picked []models.Ggo
	var sum models.WattHours
	chunk := 2
	var after *models.Ggo
	for sum < want {
		var rows []models.Ggo
		q := tx.NewSelect().Model(&rows).
			Where("g.user_id = ? AND g.expires_at > ?", owner, s.clock()).Apply(f.apply).
			OrderExpr("g.expires_at, g.begin_at, g.id").Limit(int64(chunk)).For(lock)
		if after != nil {
			q = q.Where("(g.expires_at, g.begin_at, g.id) > (?, ?, ?)", after.ExpiresAt, after.BeginAt, after.ID)
		}
		if err := q.Scan(ctx); err != nil {
			return nil, 0, fmt.Errorf("pick ggos: %w", err)
		}
		for i := range rows {
			if sum >= want {
				break
			}
			if len(picked) == limit {
				return nil, 0, errTooMany
			}
			picked = append(picked, rows[i])
			sum += rows[i].AmountWh
		}
		if len(rows) < chunk {
			break
		}
		after = &rows[len(rows)-1]
		chunk = min(chunk*4, 256)
	}
	return picked, sum, nil
}

// hourRange checks an operation's hour range.
func hourRange(from, until time.Time, maxHours int) error {
	if !from.Before(until) {
		return &InputError{Field: "input.begin", Message: "gte must be before lt"}
	}
	if from != from.Truncate(time.Hour) || until != until.Truncate(time.Hour) {
		return &InputError{Field: "input.begin", Message: "must be whole hours"}
	}
	if until.Sub(from) > time.Duration(maxHours)*time.Hour {
		return &InputError{Field: "input.begin", Message: fmt.Sprintf("at most %d hours at a time", maxHours)}
	}
	return nil
}
