package agreement

import (
	"context"
	"fmt"
	"math"

	"github.com/uptrace/bun"

	"github.com/originhub/originhub/internal/db"
	"github.com/originhub/originhub/internal/relay"
	"github.com/originhub/originhub/models"
)

// Filter narrows a user's agreements; zero fields match all.
type Filter struct {
	States []models.AgreementState
	// Direction is relative to the user: OUTBOUND, the user sends under it.
	Direction *Direction
	// ProposedByUser: true, proposed by the user; false, by the counterpart (a PENDING one
	// awaits the user's answer).
	ProposedByUser *bool
}

func (f Filter) apply(user int64) func(*bun.SelectQuery) *bun.SelectQuery {
	return func(q *bun.SelectQuery) *bun.SelectQuery {
		q = q.Apply(party(user))
		if len(f.States) > 0 {
			q = q.Where("ag.state IN (?)", bun.In(f.States))
		}
		if f.Direction != nil {
			if *f.Direction == Outbound {
				q = q.Where("ag.from_user_id = ?", user)
			} else {
				q = q.Where("ag.to_user_id = ?", user)
			}
		}
		if f.ProposedByUser != nil {
			if *f.ProposedByUser {
				q = q.Where("ag.proposed_by_user_id = ?", user)
			} else {
				q = q.Where("ag.proposed_by_user_id <> ?", user)
			}
		}
		return q
	}
}

// Order is the order of a page of agreements.
type Order string

// Orders.
const (
	// OrderCreated: newest first.
	OrderCreated Order = "CREATED"
	// OrderTransferPriority: the user's accepted outbound agreements in the order automatic
	// consumption serves them, then all others oldest first. The sender's order is not the
	// recipient's business, so it never sorts the agreements the user receives under.
	OrderTransferPriority Order = "TRANSFER_PRIORITY"
)

// noPriority sorts after every transfer priority.
const noPriority = math.MaxInt32

// Page returns one page of the user's agreements matching f.
// Errors: *InputError (direction or order unknown), relay.ErrInvalidArgs.
func (s *Service) Page(ctx context.Context, user int64, f Filter, order Order, args relay.Args) (*relay.Connection[models.Agreement], error) {
	if f.Direction != nil && *f.Direction != Inbound && *f.Direction != Outbound {
		return nil, &InputError{Field: "where.direction", Message: "must be INBOUND or OUTBOUND"}
	}
	q := s.db.NewSelect().Model((*models.Agreement)(nil)).Apply(f.apply(user))
	switch order {
	case OrderCreated, "":
		return relay.Paginate(ctx, q, args, relay.Order{Columns: []string{"ag.created_at", "ag.id"}, Desc: true},
			func(a *models.Agreement) []any { return []any{a.CreatedAt, a.ID} })
	case OrderTransferPriority:
		// user is an int64, so formatting it into the keyset expression is safe.
		prio := fmt.Sprintf("coalesce(CASE WHEN ag.from_user_id = %d THEN ag.transfer_priority END, %d)", user, noPriority)
		return relay.Paginate(ctx, q, args, relay.Order{Columns: []string{prio, "ag.id"}},
			func(a *models.Agreement) []any { return []any{priorityKey(user, a), a.ID} })
	}
	return nil, &InputError{Field: "orderBy", Message: "must be CREATED or TRANSFER_PRIORITY"}
}

func priorityKey(user int64, a *models.Agreement) int {
	if a.FromUserID != user || a.TransferPriority == nil {
		return noPriority
	}
	return *a.TransferPriority
}

// CounterpartsByIDs returns the public profile (id, name, company, account reference) of
// those among ids who share an agreement with user, keyed by id. Nobody else is visible.
func (s *Service) CounterpartsByIDs(ctx context.Context, user int64, ids []int64) (map[int64]models.User, error) {
	var rows []models.User
	if err := s.db.NewSelect().Model(&rows).Column("id", "name", "company", "account_reference").
		Where("u.id IN (?)", bun.In(ids)).
		Where(`EXISTS (SELECT 1 FROM agreements ag
			WHERE (ag.from_user_id = ? AND ag.to_user_id = u.id) OR (ag.to_user_id = ? AND ag.from_user_id = u.id))`, user, user).
		Scan(ctx); err != nil {
		return nil, fmt.Errorf("load counterparts: %w", err)
	}
	return db.Keyed(rows, func(u *models.User) int64 { return u.ID }), nil
}

// transferredParts selects, among GGOs joined as g to their agreement ag, the parts the
// recipient received under it: not what the recipient later made of them, and not parts
// whose transfer is still on its way to the ledger.
const transferredParts = "g.origin = 'RECEIVED' AND g.received_from_user_id = ag.from_user_id AND g.state <> 'PENDING'"

// TransferredByIDs sums what was transferred under each of the user's agreements among ids
// (0 for none yet), keyed by id; others' agreements are absent.
func (s *Service) TransferredByIDs(ctx context.Context, user int64, ids []int64) (map[int64]models.WattHours, error) {
	var rows []struct {
		ID       int64            `bun:"id"`
		AmountWh models.WattHours `bun:"amount_wh"`
	}
	if err := s.db.NewSelect().Model((*models.Agreement)(nil)).
		Join("LEFT JOIN ggos AS g ON g.agreement_id = ag.id AND "+transferredParts).
		ColumnExpr("ag.id, coalesce(sum(g.amount_wh), 0)::bigint AS amount_wh").
		Apply(party(user)).Where("ag.id IN (?)", bun.In(ids)).GroupExpr("ag.id").
		Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("sum transferred: %w", err)
	}
	out := make(map[int64]models.WattHours, len(rows))
	for _, r := range rows {
		out[r.ID] = r.AmountWh
	}
	return out, nil
}
