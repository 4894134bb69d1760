// Package agreement holds trade agreements between two accounts: proposed by either party,
// accepted or declined by the other, withdrawn by the proposer, cancelled by either. Only
// the two parties ever see an agreement. Automatic consumption (internal/account) transfers
// under the ACCEPTED ones.
package agreement

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/originhub/originhub/internal/input"
	"github.com/originhub/originhub/models"
)

// Errors of the agreement service.
var (
	// ErrNotFound: no such agreement among the caller's (others' are indistinguishable).
	ErrNotFound     = errors.New("not found")
	ErrInvalidInput = input.ErrInvalid
	// ErrConflict: the agreement is not in a state that allows the action.
	ErrConflict = errors.New("conflict")
)

// InputError says which input was wrong; it matches ErrInvalidInput.
type InputError = input.Error

// Direction is the proposer's side: OUTBOUND sends GGOs, INBOUND receives them.
type Direction string

// Directions.
const (
	Inbound  Direction = "INBOUND"
	Outbound Direction = "OUTBOUND"
)

// Service manages agreements.
type Service struct {
	db    *bun.DB
	clock func() time.Time
}

// NewService returns a Service.
func NewService(db *bun.DB, clock func() time.Time) *Service { return &Service{db: db, clock: clock} }

// ProposeInput is a proposal. Dates are inclusive days in Europe/Copenhagen (only the date
// part counts). At least one cap: a fixed amount with unit, a percent, or limit-to-consumption.
type ProposeInput struct {
	Direction          Direction
	CounterpartID      int64
	Reference          string
	Amount             *int64
	Unit               *models.AmountUnit
	AmountPercent      *int
	DateFrom, DateTo   time.Time
	Technologies       []string // labels; empty: any
	FacilityGSRNs      []string // the sender's production GSRNs; only an OUTBOUND proposer sets them
	LimitToConsumption bool
	ProposalNote       string
}

// Propose creates a PENDING agreement between the user and an existing other user.
// Errors: *InputError.
func (s *Service) Propose(ctx context.Context, user int64, in ProposeInput) (models.Agreement, error) {
	a := models.Agreement{
		ProposedByUserID: user, State: models.AgreementPending, Reference: strings.TrimSpace(in.Reference),
		Amount: in.Amount, Unit: in.Unit, AmountPercent: in.AmountPercent, LimitToConsumption: in.LimitToConsumption,
		ProposalNote: strings.TrimSpace(in.ProposalNote),
		DateFrom:     dateOnly(in.DateFrom), DateTo: dateOnly(in.DateTo),
	}
	switch in.Direction {
	case Outbound:
		a.FromUserID, a.ToUserID = user, in.CounterpartID
	case Inbound:
		a.FromUserID, a.ToUserID = in.CounterpartID, user
		if len(in.FacilityGSRNs) > 0 {
			return a, &InputError{Field: "input.facilityGsrns", Message: "only the sender chooses facilities"}
		}
	default:
		return a, &InputError{Field: "input.direction", Message: "must be INBOUND or OUTBOUND"}
	}
	if in.CounterpartID == user {
		return a, &InputError{Field: "input.counterpartId", Message: "is yourself"}
	}
	if a.Reference == "" || len(a.Reference) > 200 {
		return a, &InputError{Field: "input.reference", Message: "must be 1 to 200 characters"}
	}
	if len(a.ProposalNote) > 2000 {
		return a, &InputError{Field: "input.proposalNote", Message: "at most 2000 characters"}
	}
	if a.DateTo.Before(a.DateFrom) {
		return a, &InputError{Field: "input.dateTo", Message: "is before dateFrom"}
	}
	if (in.Amount == nil) != (in.Unit == nil) {
		return a, &InputError{Field: "input.amount", Message: "amount and unit go together"}
	}
	if in.Amount != nil && (*in.Amount <= 0 || in.Unit.Multiplier() == 0 || *in.Amount > int64(models.MaxWattHours)/in.Unit.Multiplier()) {
		return a, &InputError{Field: "input.amount", Message: "must be a positive amount in Wh, kWh, MWh or GWh"}
	}
	if in.AmountPercent != nil && (*in.AmountPercent < 1 || *in.AmountPercent > 100) {
		return a, &InputError{Field: "input.amountPercent", Message: "must be 1 to 100"}
	}
	if in.Amount == nil && in.AmountPercent == nil && !in.LimitToConsumption {
		return a, &InputError{Field: "input.amount", Message: "give an amount, a percent or limit to consumption"}
	}
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		n, err := tx.NewSelect().Model((*models.User)(nil)).Where("u.id = ?", in.CounterpartID).Count(ctx)
		if err != nil {
			return fmt.Errorf("find counterpart: %w", err)
		}
		if n == 0 {
			return &InputError{Field: "input.counterpartId", Message: "no such account"}
		}
		if a.Technologies, err = technologies(ctx, tx, in.Technologies); err != nil {
			return err
		}
		if a.FacilityGSRNs, err = facilities(ctx, tx, a.FromUserID, in.FacilityGSRNs); err != nil {
			return err
		}
		if _, err := tx.NewInsert().Model(&a).Returning("*").Exec(ctx); err != nil {
			return fmt.Errorf("record agreement: %w", err)
		}
		return nil
	})
	return a, err
}

// RespondInput is the counterpart's answer. On acceptance the recipient may set the
// technologies if none were given; the sender may set facilities and the percent.
type RespondInput struct {
	Accept        bool
	Technologies  []string
	FacilityGSRNs []string
	AmountPercent *int
}

// Respond accepts or declines a PENDING agreement proposed to the user. An accepted
// agreement goes last in the sender's transfer priority.
// Errors: ErrNotFound, ErrConflict (not pending, or the user proposed it), *InputError.
func (s *Service) Respond(ctx context.Context, user, id int64, in RespondInput) (models.Agreement, error) {
	var a models.Agreement
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var err error
		if a, err = lockParty(ctx, tx, user, id); err != nil {
			return err
		}
		if a.State != models.AgreementPending || a.ProposedByUserID == user {
			return fmt.Errorf("agreement is %s: %w", a.State, ErrConflict)
		}
		now := s.clock()
		if !in.Accept {
			a.State, a.DeclinedAt = models.AgreementDeclined, &now
			return update(ctx, tx, &a)
		}
		if len(in.Technologies) > 0 {
			if len(a.Technologies) > 0 {
				return &InputError{Field: "input.technologies", Message: "were set by the proposer"}
			}
			if a.Technologies, err = technologies(ctx, tx, in.Technologies); err != nil {
				return err
			}
		}
		if len(in.FacilityGSRNs) > 0 || in.AmountPercent != nil {
			if a.FromUserID != user {
				return &InputError{Field: "input.facilityGsrns", Message: "only the sender chooses facilities and percent"}
			}
			if in.AmountPercent != nil {
				if *in.AmountPercent < 1 || *in.AmountPercent > 100 {
					return &InputError{Field: "input.amountPercent", Message: "must be 1 to 100"}
				}
				a.AmountPercent = in.AmountPercent
			}
			if len(in.FacilityGSRNs) > 0 {
				if a.FacilityGSRNs, err = facilities(ctx, tx, a.FromUserID, in.FacilityGSRNs); err != nil {
					return err
				}
			}
		}
		// Serialise priority assignment per sender.
		if err := lockSender(ctx, tx, a.FromUserID); err != nil {
			return err
		}
		var next int
		if err := tx.NewSelect().Model((*models.Agreement)(nil)).ColumnExpr("coalesce(max(ag.transfer_priority) + 1, 0)").
			Where("ag.from_user_id = ? AND ag.state = 'ACCEPTED'", a.FromUserID).Scan(ctx, &next); err != nil {
			return fmt.Errorf("next transfer priority: %w", err)
		}
		a.State, a.TransferPriority, a.AcceptedAt = models.AgreementAccepted, &next, &now
		return update(ctx, tx, &a)
	})
	return a, err
}

// Withdraw withdraws a PENDING agreement the user proposed.
// Errors: ErrNotFound, ErrConflict.
func (s *Service) Withdraw(ctx context.Context, user, id int64) (models.Agreement, error) {
	var a models.Agreement
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var err error
		if a, err = lockParty(ctx, tx, user, id); err != nil {
			return err
		}
		if a.State != models.AgreementPending || a.ProposedByUserID != user {
			return fmt.Errorf("agreement is %s: %w", a.State, ErrConflict)
		}
		now := s.clock()
		a.State, a.WithdrawnAt = models.AgreementWithdrawn, &now
		return update(ctx, tx, &a)
	})
	return a, err
}

// Cancel ends an ACCEPTED agreement (either party); the sender's remaining agreements are
// renumbered 0..n-1 in their order. Automatic consumption stops transferring under it from
// its next run (a run in progress holds the agreement FOR SHARE, so this waits for it).
// Errors: ErrNotFound, ErrConflict.
func (s *Service) Cancel(ctx context.Context, user, id int64) (models.Agreement, error) {
	var a models.Agreement
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var err error
		if a, err = lockParty(ctx, tx, user, id); err != nil {
			return err
		}
		if a.State != models.AgreementAccepted {
			return fmt.Errorf("agreement is %s: %w", a.State, ErrConflict)
		}
		if err := lockSender(ctx, tx, a.FromUserID); err != nil {
			return err
		}
		now := s.clock()
		a.State, a.CancelledAt, a.TransferPriority = models.AgreementCancelled, &now, nil
		if err := update(ctx, tx, &a); err != nil {
			return err
		}
		return renumber(ctx, tx, a.FromUserID)
	})
	return a, err
}

// SetTransferPriority orders the user's ACCEPTED outbound agreements: the listed ones first,
// in order, the rest after them in their previous order.
// Errors: *InputError (an id that is not one of the user's accepted outbound agreements).
func (s *Service) SetTransferPriority(ctx context.Context, user int64, ids []int64) error {
	return s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := lockSender(ctx, tx, user); err != nil {
			return err
		}
		var own []models.Agreement
		if err := tx.NewSelect().Model(&own).Where("ag.from_user_id = ? AND ag.state = 'ACCEPTED'", user).
			OrderExpr("ag.transfer_priority NULLS LAST, ag.id").Scan(ctx); err != nil {
			return fmt.Errorf("load outbound agreements: %w", err)
		}
		order := make([]int64, 0, len(own))
		for i, id := range ids {
			if slices.Contains(ids[:i], id) || !slices.ContainsFunc(own, func(a models.Agreement) bool { return a.ID == id }) {
				return &InputError{Field: "input.ids", Message: "must list your accepted outbound agreements, each once"}
			}
			order = append(order, id)
		}
		for _, a := range own {
			if !slices.Contains(order, a.ID) {
				order = append(order, a.ID)
			}
		}
		for i, id := range order {
			if _, err := tx.NewUpdate().Model((*models.Agreement)(nil)).Set("transfer_priority = ?, updated_at = now()", i).
				Where("ag.id = ?", id).Exec(ctx); err != nil {
				return fmt.Errorf("set transfer priority: %w", err)
			}
		}
		return nil
	})
}

// Get returns one of the user's agreements.
// Errors: ErrNotFound (also when the user is not a party).
func (s *Service) Get(ctx context.Context, user, id int64) (models.Agreement, error) {
	var a models.Agreement
	err := s.db.NewSelect().Model(&a).Apply(party(user)).Where("ag.id = ?", id).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return a, ErrNotFound
	}
	if err != nil {
		return a, fmt.Errorf("load agreement: %w", err)
	}
	return a, nil
}

// Lists are the user's agreements as the reference groups them.
type Lists struct {
	Pending   []models.Agreement // awaiting the user's response
	Sent      []models.Agreement // proposed by the user, pending
	Inbound   []models.Agreement // accepted, to the user
	Outbound  []models.Agreement // accepted, from the user, by transfer priority
	Cancelled []models.Agreement // within 14 days, newest first
	Declined  []models.Agreement // within 14 days, newest first
}

// List returns the user's agreements, grouped.
func (s *Service) List(ctx context.Context, user int64) (Lists, error) {
	var all []models.Agreement
	since := s.clock().Add(-14 * 24 * time.Hour)
	if err := s.db.NewSelect().Model(&all).Apply(party(user)).
		Where("ag.state IN ('PENDING', 'ACCEPTED') OR coalesce(ag.cancelled_at, ag.declined_at) >= ?", since).
		OrderExpr("ag.transfer_priority NULLS LAST, coalesce(ag.cancelled_at, ag.declined_at, ag.created_at) DESC, ag.id DESC").Scan(ctx); err != nil {
		return Lists{}, fmt.Errorf("list agreements: %w", err)
	}
	var l Lists
	for _, a := range all {
		switch {
		case a.State == models.AgreementPending && a.ProposedByUserID != user:
			l.Pending = append(l.Pending, a)
		case a.State == models.AgreementPending:
			l.Sent = append(l.Sent, a)
		case a.State == models.AgreementAccepted && a.ToUserID == user:
			l.Inbound = append(l.Inbound, a)
		case a.State == models.AgreementAccepted:
			l.Outbound = append(l.Outbound, a)
		case a.State == models.AgreementCancelled:
			l.Cancelled = append(l.Cancelled, a)
		case a.State == models.AgreementDeclined:
			l.Declined = append(l.Declined, a)
		}
	}
	return l, nil
}

// PendingCount is how many agreements await the user's response.
func (s *Service) PendingCount(ctx context.Context, user int64) (int64, error) {
	n, err := s.db.NewSelect().Model((*models.Agreement)(nil)).
		Where("ag.state = 'PENDING' AND ag.proposed_by_user_id <> ? AND (ag.from_user_id = ? OR ag.to_user_id = ?)", user, user, user).Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("count pending agreements: %w", err)
	}
	return n, nil
}

// Counterparts finds other users whose name or company starts with query
// (case-insensitive), by name: at most 20, and never from anyone's holdings.
// Errors: *InputError (query shorter than 2 characters).
func (s *Service) Counterparts(ctx context.Context, user int64, query string) ([]models.User, error) {
	q := strings.ToLower(strings.TrimSpace(query))
	if len([]rune(q)) < 2 {
		return nil, &InputError{Field: "query", Message: "at least 2 characters"}
	}
	like := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(q) + "%"
	var out []models.User
	if err := s.db.NewSelect().Model(&out).Column("id", "name", "company", "account_reference").
		Where("u.id <> ? AND (lower(u.name) LIKE ? OR lower(u.company) LIKE ?)", user, like, like).
		OrderExpr("u.name, u.company, u.id").Limit(20).Scan(ctx); err != nil {
		return nil, fmt.Errorf("find counterparts: %w", err)
	}
	return out, nil
}

// SetProfile sets the user's own display name and company.
// Errors: *InputError.
func (s *Service) SetProfile(ctx context.Context, user int64, name, company string) (models.User, error) {
	name, company = strings.TrimSpace(name), strings.TrimSpace(company)
	if len(name) > 200 || len(company) > 200 {
		return models.User{}, &InputError{Field: "input", Message: "name and company are at most 200 characters"}
	}
	var u models.User
	if err := s.db.NewUpdate().Model(&u).Set("name = ?, company = ?", name, company).Where("u.id = ?", user).Returning("*").Scan(ctx); err != nil {
		return u, fmt.Errorf("set profile: %w", err)
	}
	return u, nil
}

func party(user int64) func(*bun.SelectQuery) *bun.SelectQuery {
	return func(q *bun.SelectQuery) *bun.SelectQuery {
		return q.Where("(ag.from_user_id = ? OR ag.to_user_id = ?)", user, user)
	}
}

func lockParty(ctx context.Context, tx bun.Tx, user, id int64) (models.Agreement, error) {
	var a models.Agreement
	err := tx.NewSelect().Model(&a).Apply(party(user)).Where("ag.id = ?", id).For("UPDATE").Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return a, ErrNotFound
	}
	if err != nil {
		return a, fmt.Errorf("lock agreement: %w", err)
	}
	return a, nil
}

// lockSender serialises changes to one sender's transfer priorities.
func lockSender(ctx context.Context, tx bun.Tx, sender int64) error {
	if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(hashtextextended('originhub:agreement-priority:' || ?::text, 0))", sender); err != nil {
		return fmt.Errorf("lock sender priorities: %w", err)
	}
	return nil
}

func update(ctx context.Context, tx bun.Tx, a *models.Agreement) error {
	if _, err := tx.NewUpdate().Model(a).Column("state", "technologies", "facility_gsrns", "amount_percent", "transfer_priority",
		"accepted_at", "declined_at", "withdrawn_at", "cancelled_at").
		Set("updated_at = now()").WherePK().Exec(ctx); err != nil {
		return fmt.Errorf("update agreement: %w", err)
	}
	return nil
}

// renumber closes gaps in a sender's transfer priorities, keeping their order.
func renumber(ctx context.Context, tx bun.Tx, sender int64) error {
	_, err := tx.NewRaw(`
		UPDATE agreements ag SET transfer_priority = r.n - 1, updated_at = now()
		FROM (SELECT id, row_number() OVER (ORDER BY transfer_priority NULLS LAST, id) AS n
		      FROM agreements WHERE from_user_id = ? AND state = 'ACCEPTED') r
		WHERE ag.id = r.id AND ag.transfer_priority IS DISTINCT FROM r.n - 1`, sender).Exec(ctx)
	if err != nil {
		return fmt.Errorf("renumber transfer priorities: %w", err)
	}
	return nil
}

// technologies checks labels against the known technologies.
func technologies(ctx context.Context, tx bun.IDB, labels []string) ([]string, error) {
	if len(labels) == 0 {
		return nil, nil
	}
	var known []string
	if err := tx.NewSelect().Model((*models.Technology)(nil)).ColumnExpr("DISTINCT t.label").Scan(ctx, &known); err != nil {
		return nil, fmt.Errorf("load technologies: %w", err)
	}
	var out []string
	for _, l := range labels {
		if !slices.Contains(known, l) {
			return nil, &InputError{Field: "input.technologies", Message: "unknown technology " + l}
		}
		if !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	return out, nil
}

// facilities checks that GSRNs are the sender's production points.
func facilities(ctx context.Context, tx bun.IDB, sender int64, gsrns []string) ([]string, error) {
	if len(gsrns) == 0 {
		return nil, nil
	}
	var own []string
	if err := tx.NewSelect().Model((*models.MeteringPoint)(nil)).Column("gsrn").
		Where("mp.user_id = ? AND mp.type = 'PRODUCTION' AND mp.gsrn IN (?)", sender, bun.In(gsrns)).Scan(ctx, &own); err != nil {
		return nil, fmt.Errorf("load facilities: %w", err)
	}
	var out []string
	for _, g := range gsrns {
		if !slices.Contains(own, g) {
			return nil, &InputError{Field: "input.facilityGsrns", Message: "must be the sender's production metering points"}
		}
		if !slices.Contains(out, g) {
			out = append(out, g)
		}
	}
	return out, nil
}

func dateOnly(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}
