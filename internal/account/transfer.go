package account

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/originhub/originhub/models"
)

// TransferInput asks for an amount of the owner's GGOs to go to another account.
type TransferInput struct {
	Amount models.WattHours
	Filter Filter
	// Recipient is an account reference (OH-…) or the recipient's user id as a string.
	RecipientReference string
	RecipientUserID    int64
	Reference          string // free text for both parties, e.g. an agreement
	IdempotencyKey     string
}

// Recipient resolves the receiving user by account reference or id.
// Errors: ErrNotFound.
func (s *Service) Recipient(ctx context.Context, db bun.IDB, reference string, userID int64) (models.User, error) {
	var u models.User
	q := db.NewSelect().Model(&u)
	if reference != "" {
		q = q.Where("account_reference = ?", strings.ToUpper(strings.TrimSpace(reference)))
	} else {
		q = q.Where("id = ?", userID)
	}
	err := q.Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return u, ErrNotFound
	}
	if err != nil {
		return u, fmt.Errorf("find recipient: %w", err)
	}
	return u, nil
}

// existing returns the owner's operation with this idempotency key, if any.
func (s *Service) existing(ctx context.Context, owner int64, key string) (*models.GgoOperation, error) {
	if key == "" {
		return nil, nil
	}
	var op models.GgoOperation
	err := s.db.NewSelect().Model(&op).Where("user_id = ? AND idempotency_key = ?", owner, key).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("look up idempotency key: %w", err)
	}
	return &op, nil
}

// Transfer sends amount Wh of the owner's STORED GGOs matching the filter to the recipient,
// earliest expiry first, splitting the last GGO when it is larger than what is left: one
// database transaction and one ledger batch (transfers and at most one split). The consumed
// GGOs are LOCKED until the batch commits (then TRANSFERRED/SPLIT, the recipient's parts
// STORED) or is refused (everything reverts). A repeated idempotency key returns the first
// operation.
// Errors: *InputError, ErrNotFound (recipient), *InsufficientError (with what is available).
func (s *Service) Transfer(ctx context.Context, owner int64, in TransferInput) (models.GgoOperation, error) {
	if in.Amount <= 0 {
		return models.GgoOperation{}, &InputError{Field: "input.amount", Message: "must be positive"}
	}
	if err := in.Filter.Validate(); err != nil {
		return models.GgoOperation{}, err
	}
	if op, err := s.existing(ctx, owner, in.IdempotencyKey); op != nil || err != nil {
		return deref(op), err
	}
	recipient, err := s.Recipient(ctx, s.db, in.RecipientReference, in.RecipientUserID)
	if err != nil {
		return models.GgoOperation{}, err
	}
	if recipient.ID == owner {
		return models.GgoOperation{}, &InputError{Field: "input.recipient", Message: "is your own account"}
	}
	// Best effort: the builder opens the wallets itself when this fails.
	_ = s.wallets.Warm(ctx, s.db, owner, recipient.ID)
	op := models.GgoOperation{UserID: owner, Kind: models.OperationTransfer, AmountWh: in.Amount, RecipientUserID: &recipient.ID}
	if in.Reference != "" {
		op.Reference = &in.Reference
	}
	if in.IdempotencyKey != "" {
		op.IdempotencyKey = &in.IdempotencyKey
	}
	var batchID string
	err = s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		b, err := s.newBuilder(ctx, tx, owner)
		if err != nil {
			return err
		}
		picked, sum, err := s.pick(ctx, tx, owner, in.Filter, in.Amount, s.cfg.MaxGgosPerOperation)
		if err != nil {
			return err
		}
		if sum < in.Amount {
			return s.shortage(ctx, tx, owner, in.Amount, sum)
		}
		left := in.Amount
		for _, g := range picked {
			if g.AmountWh <= left {
				if err := b.transferWhole(ctx, g, recipient.ID); err != nil {
					return err
				}
				left -= g.AmountWh
				continue
			}
			if _, err := b.split(ctx, g, []share{{owner: recipient.ID, amount: left}, {owner: owner, amount: g.AmountWh - left}}); err != nil {
				return err
			}
			left = 0
		}
		batchID, err = b.finish(ctx, &op)
		return err
	})
	if errors.Is(err, errHeld) {
		// Still in flight after the retries: refuse with what is available now.
		if available, aerr := s.Available(ctx, owner, in.Filter); aerr == nil {
			return models.GgoOperation{}, s.shortage(ctx, s.db, owner, in.Amount, available)
		}
	}
	if err != nil {
		return models.GgoOperation{}, err
	}
	s.enqueue(ctx, batchID)
	return op, nil
}

// inTx runs fn in a transaction, retrying a few times on serialization failures and
// deadlocks (which concurrent operations can provoke) and on a duplicate idempotency key
// race.
//
// A pick short of GGOs other operations hold (errHeld) is retried after a short, growing,
// jittered pause, outside the transaction, until those operations have finished; if it still
// is after maxHeldRetries, errHeld is returned.
func (s *Service) inTx(ctx context.Context, fn func(context.Context, bun.Tx) error) error {
	var err error
	for attempt, held := 0, 0; attempt < 3; {
		err = s.db.RunInTx(ctx, nil, fn)
		switch {
		case errors.Is(err, errHeld):
			if held++; held > maxHeldRetries {
				return err
			}
			pause := time.Duration(held)*5*time.Millisecond + time.Duration(rand.Int64N(int64(5*time.Millisecond)))
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(pause):
			}
		case retryable(err):
			attempt++
			s.log.WarnContext(ctx, "account transaction retried", "attempt", attempt, "err", err)
		default:
			return err
		}
	}
	return err
}

// maxHeldRetries bounds the retries of an operation whose GGOs are in flight (about 0.3 s
// of pauses in all).
const maxHeldRetries = 10

func (s *Service) enqueue(ctx context.Context, batchID string) {
	if err := s.outbox.Enqueue(ctx, batchID); err != nil {
		// Committed: the outbox sweeper posts it after its grace period.
		s.log.WarnContext(ctx, "ledger batch not queued", "batch_id", batchID, "err", err)
	}
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// shortage builds the error for a request larger than what is available, with what the
// owner has in flight.
//
// Inside an operation's transaction pass that transaction: asking the pool for a second
// connection while holding one can exhaust it under load.
func (s *Service) shortage(ctx context.Context, db bun.IDB, owner int64, requested, available models.WattHours) error {
	var inFlight int64
	// Best effort: the figure only improves the message.
	_ = db.NewSelect().Model((*models.Ggo)(nil)).ColumnExpr("coalesce(sum(g.amount_wh), 0)::bigint").
		Where("g.user_id = ? AND g.state = 'LOCKED'", owner).Scan(ctx, &inFlight)
	return &InsufficientError{Requested: requested, Available: available, InFlight: models.WattHours(inFlight)}
}
