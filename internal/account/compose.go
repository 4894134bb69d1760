package account

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"

	"github.com/uptrace/bun"

	"github.com/originhub/originhub/models"
)

// ComposeTransfer sends a part of one GGO to another account.
type ComposeTransfer struct {
	RecipientReference string
	RecipientUserID    int64
	Amount             models.WattHours
	Reference          string
}

// ComposeRetire retires a part of one GGO to one of the owner's consumption points.
type ComposeRetire struct {
	GSRN   string
	Amount models.WattHours
}

// ComposeInput is the reference's explicit operation on one GGO, for users who pick GGOs
// themselves: several transfers and retires of parts of it, the rest back to the owner.
type ComposeInput struct {
	GgoID          int64
	Transfers      []ComposeTransfer
	Retires        []ComposeRetire
	IdempotencyKey string
}

// Compose runs in one transaction and one batch: a split into the requested parts (unless
// one transfer or one retire takes the whole GGO), transfers of the recipients' parts, and
// the retires with their settlements. Unlike the reference it counts retires earlier in the
// same request against a measurement's cap, refuses an oversized single amount with a clean
// error, and locks the GGO so that two composes of it cannot both run.
// Errors: *InputError, ErrNotFound (GGO or recipient), ErrConflict (the GGO is in use).
func (s *Service) Compose(ctx context.Context, owner int64, in ComposeInput) (models.GgoOperation, error) {
	if len(in.Transfers)+len(in.Retires) == 0 {
		return models.GgoOperation{}, &InputError{Field: "input", Message: "nothing to transfer or retire"}
	}
	if len(in.Transfers)+len(in.Retires) > 50 {
		return models.GgoOperation{}, &InputError{Field: "input", Message: "at most 50 transfers and retires at once"}
	}
	if op, err := s.existing(ctx, owner, in.IdempotencyKey); op != nil || err != nil {
		return deref(op), err
	}
	var total models.WattHours
	recipients := make([]int64, len(in.Transfers))
	for i, t := range in.Transfers {
		field := "input.transfers." + strconv.Itoa(i)
		if t.Amount <= 0 {
			return models.GgoOperation{}, &InputError{Field: field + ".amount", Message: "must be positive"}
		}
		u, err := s.Recipient(ctx, s.db, t.RecipientReference, t.RecipientUserID)
		if errors.Is(err, ErrNotFound) {
			return models.GgoOperation{}, &InputError{Field: field + ".account", Message: "no such account"}
		}
		if err != nil {
			return models.GgoOperation{}, err
		}
		if u.ID == owner {
			return models.GgoOperation{}, &InputError{Field: field + ".account", Message: "is your own account"}
		}
		recipients[i] = u.ID
		total += t.Amount
	}
	points := make([]models.MeteringPoint, len(in.Retires))
	for i, r := range in.Retires {
		field := "input.retires." + strconv.Itoa(i)
		if r.Amount <= 0 {
			return models.GgoOperation{}, &InputError{Field: field + ".amount", Message: "must be positive"}
		}
		mp, err := s.consumerPoint(ctx, s.db, owner, r.GSRN)
		if err != nil {
			return models.GgoOperation{}, &InputError{Field: field + ".gsrn", Message: "is not one of your consumption metering points"}
		}
		points[i] = mp
		total += r.Amount
	}
	op := models.GgoOperation{UserID: owner, Kind: models.OperationCompose, AmountWh: total}
	if in.IdempotencyKey != "" {
		op.IdempotencyKey = &in.IdempotencyKey
	}
	var batchID string
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var g models.Ggo
		err := tx.NewSelect().Model(&g).Where("g.id = ? AND g.user_id = ?", in.GgoID, owner).For("NO KEY UPDATE NOWAIT").Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if isLockNotAvailable(err) {
			return fmt.Errorf("ggo %d is being used by another operation: %w", in.GgoID, ErrConflict)
		}
		if err != nil {
			return fmt.Errorf("lock ggo: %w", err)
		}
		if g.State != models.GgoStored || !g.ExpiresAt.After(s.clock()) {
			return &InputError{Field: "input.ggo", Message: "is not stored (it is " + stateWord(g) + ")"}
		}
		if total > g.AmountWh {
			return &InputError{Field: "input", Message: fmt.Sprintf("asks for %d Wh, the GGO holds %d Wh", total, g.AmountWh)}
		}
		// Retire caps, counting this request's earlier retires to the same point.
		var hours map[int64]consumption
		if len(in.Retires) > 0 {
			hours = map[int64]consumption{}
			asked := map[int64]models.WattHours{}
			for i, r := range in.Retires {
				mp := points[i]
				if mp.Sector != g.Sector {
					return &InputError{Field: "input.retires." + strconv.Itoa(i) + ".gsrn", Message: "is in " + string(mp.Sector) + ", the GGO in " + string(g.Sector)}
				}
				h, ok := hours[mp.ID]
				if !ok {
					hs, err := lockConsumption(ctx, tx, mp.ID, g.BeginAt, g.EndAt)
					if err != nil {
						return err
					}
					if len(hs) == 0 {
						return &InputError{Field: "input.retires." + strconv.Itoa(i) + ".gsrn", Message: "has no consumption on the ledger for " + g.BeginAt.UTC().Format("2006-01-02T15:04Z")}
					}
					h = hs[0]
					hours[mp.ID] = h
				}
				asked[mp.ID] += r.Amount
				if allowed := h.AmountWh - h.Retired; asked[mp.ID] > allowed {
					return &InputError{Field: "input.retires." + strconv.Itoa(i) + ".amount", Message: fmt.Sprintf("can only retire up to %d Wh to %s for that hour", max(allowed, 0), mp.GSRN)}
				}
			}
		}
		b, err := s.newBuilder(ctx, tx, owner)
		if err != nil {
			return err
		}
		// Whole-GGO shortcuts need no split.
		switch {
		case len(in.Transfers) == 1 && len(in.Retires) == 0 && in.Transfers[0].Amount == g.AmountWh:
			if err := b.transferWhole(ctx, g, recipients[0]); err != nil {
				return err
			}
		case len(in.Transfers) == 0 && len(in.Retires) == 1 && in.Retires[0].Amount == g.AmountWh:
			mp := points[0]
			if err := b.retire(ctx, mp, g.BeginAt, hours[mp.ID].Address, []retirement{{existing: &g}}); err != nil {
				return err
			}
		default:
			var shares []share
			for i, t := range in.Transfers {
				shares = append(shares, share{owner: recipients[i], amount: t.Amount})
			}
			for i, r := range in.Retires {
				id := points[i].ID
				shares = append(shares, share{owner: owner, amount: r.Amount, retireMP: &id})
			}
			if rest := g.AmountWh - total; rest > 0 {
				shares = append(shares, share{owner: owner, amount: rest})
			}
			idx, err := b.split(ctx, g, shares)
			if err != nil {
				return err
			}
			// One settlement per consumption point (the hour is the GGO's).
			byPoint := map[int64][]retirement{}
			var order []int64
			for i := range in.Retires {
				id := points[i].ID
				if _, ok := byPoint[id]; !ok {
					order = append(order, id)
				}
				byPoint[id] = append(byPoint[id], retirement{partIdx: idx[len(in.Transfers)+i]})
			}
			for _, id := range order {
				var mp models.MeteringPoint
				for _, p := range points {
					if p.ID == id {
						mp = p
					}
				}
				if err := b.retire(ctx, mp, g.BeginAt, hours[id].Address, byPoint[id]); err != nil {
					return err
				}
			}
		}
		if len(in.Transfers) == 1 {
			op.RecipientUserID = &recipients[0]
			if in.Transfers[0].Reference != "" {
				op.Reference = &in.Transfers[0].Reference
			}
		}
		batchID, err = b.finish(ctx, &op)
		return err
	})
	if err != nil {
		return models.GgoOperation{}, err
	}
	s.enqueue(ctx, batchID)
	return op, nil
}

// stateWord names why a GGO cannot be used: its state, or "expired" for a STORED one past expiry.
func stateWord(g models.Ggo) string {
	if g.State == models.GgoStored {
		return "expired"
	}
	return string(g.State)
}
