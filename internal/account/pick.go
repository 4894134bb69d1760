package account

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/originhub/originhub/models"
)

// errShort rolls back a pick that skipped rows others hold and came up short.
var errShort = errors.New("pick came up short")

// pick locks the owner's STORED, unexpired GGOs matching f, earliest expiry first, until
// they cover want (or there are no more), and returns them with their sum. Every picked row
// stays locked until the transaction ends, so no GGO can be spent twice.
//
// The lock is FOR NO KEY UPDATE, not FOR UPDATE: it excludes other picks and updates just
// the same, but not the FOR KEY SHARE lock a concurrent operation's part insert takes on its
// parent and root (foreign keys). With FOR UPDATE a pick holding a root waited for, and was
// waited on by, an operation inserting parts of that root: deadlocks, each costing a
// deadlock_timeout (1 s) and a retry.
//
// It first skips rows other operations hold (SKIP LOCKED), so concurrent operations on one
// account take disjoint GGOs instead of queueing behind each other. When that comes up short
// — the missing GGOs may only be held by an operation that will fail — it releases what it
// took (a savepoint) and picks again waiting for those rows, in the same total order every
// pick uses, so waits cannot form a cycle. A row whose holder spent it no longer matches and
// is passed over.
func (s *Service) pick(ctx context.Context, tx bun.Tx, owner int64, f Filter, want models.WattHours, limit int) ([]models.Ggo, models.WattHours, error) {
	var picked []models.Ggo
	var sum models.WattHours
	err := tx.RunInTx(ctx, nil, func(ctx context.Context, sp bun.Tx) error {
		var err error
		picked, sum, err = s.pickRows(ctx, sp, owner, f, want, limit, "NO KEY UPDATE SKIP LOCKED")
		if err == nil && sum < want {
			return errShort
		}
		return err
	})
	if !errors.Is(err, errShort) {
		return picked, sum, err
	}
	return s.pickRows(ctx, tx, owner, f, want, limit, "NO KEY UPDATE")
}

func (s *Service) pickRows(ctx context.Context, tx bun.Tx, owner int64, f Filter, want models.WattHours, limit int, lock string) ([]models.Ggo, models.WattHours, error) {
	f.States = []models.GgoState{models.GgoStored}
	var picked []models.Ggo
	var sum models.WattHours
	const chunk = 50
	var after *models.Ggo
	for sum < want {
		var rows []models.Ggo
		q := tx.NewSelect().Model(&rows).
			Where("g.user_id = ? AND g.expires_at > ?", owner, s.clock()).Apply(f.apply).
			OrderExpr("g.expires_at, g.begin_at, g.id").Limit(chunk).For(lock)
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
				return nil, 0, &InputError{Field: "input.amount", Message: fmt.Sprintf("needs more than %d GGOs in one operation: transfer or retire a smaller amount at a time", limit)}
			}
			picked = append(picked, rows[i])
			sum += rows[i].AmountWh
		}
		if len(rows) < chunk {
			break
		}
		after = &rows[len(rows)-1]
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
