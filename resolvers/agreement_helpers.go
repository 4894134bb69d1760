package resolvers

import (
	"context"
	"errors"
	"strings"

	"github.com/originhub/originhub/graph"
	"github.com/originhub/originhub/internal/agreement"
	"github.com/originhub/originhub/internal/loaders"
	"github.com/originhub/originhub/internal/relay"
	"github.com/originhub/originhub/models"
)

const typeAgreement = "Agreement"

// counterpartOf is the party of a that is not the viewer.
func counterpartOf(a *models.Agreement, viewerID int64) int64 {
	if a.FromUserID == viewerID {
		return a.ToUserID
	}
	return a.FromUserID
}

func agreementFilter(w *graph.AgreementFilter) agreement.Filter {
	if w == nil {
		return agreement.Filter{}
	}
	return agreement.Filter{States: w.State, Direction: w.Direction, ProposedByUser: w.ProposedByMe}
}

// agreementPayload maps an agreement mutation's outcome; conflict is what the action needs
// that the agreement's state (or the caller's role in it) did not allow.
func agreementPayload(a models.Agreement, err error, conflict string) (*graph.AgreementPayload, error) {
	out := &graph.AgreementPayload{UserErrors: []graph.UserError{}}
	var ie *agreement.InputError
	switch {
	case err == nil:
		out.Agreement = &a
	case errors.As(err, &ie):
		out.UserErrors = append(out.UserErrors, inputUserError(ie))
	case errors.Is(err, agreement.ErrNotFound), errors.Is(err, relay.ErrInvalidID):
		out.UserErrors = append(out.UserErrors, graph.UserError{Field: []string{"input", "id"}, Message: "no such agreement", Code: CodeNotFound})
	case errors.Is(err, agreement.ErrConflict):
		out.UserErrors = append(out.UserErrors, graph.UserError{Field: []string{"input", "id"},
			Message: conflict + " (it is " + string(a.State) + ")", Code: CodeConflict})
	default:
		return nil, err
	}
	return out, nil
}

func (r *mutationResolver) proposeAgreement(ctx context.Context, in graph.ProposeAgreementInput) (*graph.AgreementPayload, error) {
	v, err := viewer(ctx)
	if err != nil {
		return nil, err
	}
	counterpart, err := relay.DecodeIntID(in.CounterpartID, typeUser)
	if err != nil {
		return agreementPayload(models.Agreement{}, &agreement.InputError{Field: "input.counterpartId", Message: "no such account"}, "")
	}
	pi := agreement.ProposeInput{
		Direction: in.Direction, CounterpartID: counterpart, Reference: in.Reference,
		Unit: in.Unit, AmountPercent: in.AmountPercent, DateFrom: in.DateFrom, DateTo: in.DateTo,
		Technologies: in.Technologies, FacilityGSRNs: in.FacilityGsrns,
		LimitToConsumption: deref(in.LimitToConsumption), ProposalNote: deref(in.ProposalNote),
	}
	if in.Amount != nil {
		amount := int64(*in.Amount)
		pi.Amount = &amount
	}
	a, err := r.AgreementService.Propose(ctx, v.UserID, pi)
	return agreementPayload(a, err, "")
}

func (r *mutationResolver) respondToAgreement(ctx context.Context, in graph.RespondToAgreementInput) (*graph.AgreementPayload, error) {
	v, err := viewer(ctx)
	if err != nil {
		return nil, err
	}
	const conflict = "only the counterpart answers, and only a PENDING agreement"
	id, err := relay.DecodeIntID(in.ID, typeAgreement)
	if err != nil {
		return agreementPayload(models.Agreement{}, err, conflict)
	}
	a, err := r.AgreementService.Respond(ctx, v.UserID, id, agreement.RespondInput{
		Accept: in.Accept, Technologies: in.Technologies, FacilityGSRNs: in.FacilityGsrns, AmountPercent: in.AmountPercent,
	})
	return agreementPayload(a, err, conflict)
}

func (r *mutationResolver) withdrawAgreement(ctx context.Context, in graph.WithdrawAgreementInput) (*graph.AgreementPayload, error) {
	v, err := viewer(ctx)
	if err != nil {
		return nil, err
	}
	const conflict = "only the proposer withdraws, and only a PENDING agreement"
	id, err := relay.DecodeIntID(in.ID, typeAgreement)
	if err != nil {
		return agreementPayload(models.Agreement{}, err, conflict)
	}
	a, err := r.AgreementService.Withdraw(ctx, v.UserID, id)
	return agreementPayload(a, err, conflict)
}

func (r *mutationResolver) cancelAgreement(ctx context.Context, in graph.CancelAgreementInput) (*graph.AgreementPayload, error) {
	v, err := viewer(ctx)
	if err != nil {
		return nil, err
	}
	const conflict = "only an ACCEPTED agreement can be cancelled"
	id, err := relay.DecodeIntID(in.ID, typeAgreement)
	if err != nil {
		return agreementPayload(models.Agreement{}, err, conflict)
	}
	a, err := r.AgreementService.Cancel(ctx, v.UserID, id)
	return agreementPayload(a, err, conflict)
}

func (r *mutationResolver) setAgreementTransferPriority(ctx context.Context, in graph.SetAgreementTransferPriorityInput) (*graph.AgreementsPayload, error) {
	v, err := viewer(ctx)
	if err != nil {
		return nil, err
	}
	out := &graph.AgreementsPayload{Agreements: []models.Agreement{}, UserErrors: []graph.UserError{}}
	ids := make([]int64, len(in.Ids))
	for i, s := range in.Ids {
		if ids[i], err = relay.DecodeIntID(s, typeAgreement); err != nil {
			break
		}
	}
	if err == nil {
		err = r.AgreementService.SetTransferPriority(ctx, v.UserID, ids)
	}
	var ie *agreement.InputError
	switch {
	case errors.Is(err, relay.ErrInvalidID):
		out.UserErrors = append(out.UserErrors, graph.UserError{Field: []string{"input", "ids"}, Message: "not an agreement id", Code: CodeBadUserInput})
		return out, nil
	case errors.As(err, &ie):
		out.UserErrors = append(out.UserErrors, inputUserError(ie))
		return out, nil
	case err != nil:
		return nil, err
	}
	l, err := r.AgreementService.List(ctx, v.UserID)
	if err != nil {
		return nil, err
	}
	out.Agreements = append(out.Agreements, l.Outbound...)
	return out, nil
}

func (r *mutationResolver) updateProfile(ctx context.Context, in graph.UpdateProfileInput) (*graph.UpdateProfilePayload, error) {
	v, err := viewer(ctx)
	if err != nil {
		return nil, err
	}
	out := &graph.UpdateProfilePayload{UserErrors: []graph.UserError{}}
	u, err := r.AgreementService.SetProfile(ctx, v.UserID, in.Name, in.Company)
	var ie *agreement.InputError
	switch {
	case errors.As(err, &ie):
		out.UserErrors = append(out.UserErrors, inputUserError(ie))
	case err != nil:
		return nil, err
	default:
		out.Me = &u
	}
	return out, nil
}

func (r *queryResolver) agreementByID(ctx context.Context, id string) (*models.Agreement, error) {
	v, err := viewer(ctx)
	if err != nil {
		return nil, err
	}
	key, err := relay.DecodeIntID(id, typeAgreement)
	if err != nil {
		return nil, agreement.ErrNotFound // indistinguishable from others' agreements
	}
	a, err := r.AgreementService.Get(ctx, v.UserID, key)
	if err != nil {
		return nil, err
	}
	return &a, nil
}

func (r *queryResolver) agreementSummary(ctx context.Context, where *graph.AgreementSummaryFilter, begin graph.TimeRange, resolution graph.Resolution) ([]agreement.SummaryRow, error) {
	v, err := viewer(ctx)
	if err != nil {
		return nil, err
	}
	if begin.Gte == nil || begin.Lt == nil {
		return nil, &agreement.InputError{Field: "begin", Message: "needs gte and lt"}
	}
	in := agreement.SummaryInput{From: *begin.Gte, Until: *begin.Lt, Resolution: agreement.Resolution(strings.ToLower(string(resolution)))}
	if where != nil {
		in.Direction = where.Direction
		if where.AgreementID != nil {
			id, err := relay.DecodeIntID(*where.AgreementID, typeAgreement)
			if err != nil {
				return nil, err
			}
			in.AgreementID = &id
		}
	}
	return r.AgreementService.Summary(ctx, v.UserID, in)
}

// loadCounterpart loads the public profile of the agreement party that is not the viewer.
func loadCounterpart(ctx context.Context, a *models.Agreement) (*models.User, error) {
	v, err := viewer(ctx)
	if err != nil {
		return nil, err
	}
	l := loaders.For(ctx)
	if l == nil {
		return nil, ErrUnauthenticated
	}
	u, err := l.Counterpart(ctx, counterpartOf(a, v.UserID))
	if err != nil {
		return nil, err
	}
	return &u, nil
}
