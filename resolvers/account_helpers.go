package resolvers

import (
	"context"
	"errors"

	"github.com/vikstrous/dataloadgen"

	"github.com/originhub/originhub/graph"
	"github.com/originhub/originhub/internal/account"
	"github.com/originhub/originhub/internal/loaders"
	"github.com/originhub/originhub/internal/relay"
	"github.com/originhub/originhub/internal/technology"
	"github.com/originhub/originhub/models"
)

const (
	typeGgo          = "Ggo"
	typeGgoOperation = "GgoOperation"
)

func ggoFilter(w *graph.GgoFilter) account.Filter {
	if w == nil {
		return account.Filter{}
	}
	f := account.Filter{States: w.State, Origins: w.Origin, Sectors: w.Sector, Technologies: w.Technology, GSRNs: w.Gsrn}
	if w.Begin != nil {
		f.From, f.Until = w.Begin.Gte, w.Begin.Lt
	}
	return f
}

// loadTechnology loads a technology label through the request's loader; nil if unknown.
func loadTechnology(ctx context.Context, tech, fuel *string) (*models.Technology, error) {
	if tech == nil || fuel == nil {
		return nil, nil
	}
	l := loaders.For(ctx)
	if l == nil {
		return nil, ErrUnauthenticated
	}
	t, err := l.Technology(ctx, technology.Key{TechnologyCode: *tech, FuelCode: *fuel})
	if errors.Is(err, dataloadgen.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &t, nil
}

// loadLedgerBatch loads one of the viewer's batches; nil when absent or someone else's.
func loadLedgerBatch(ctx context.Context, id *string) (*models.LedgerBatch, error) {
	if id == nil {
		return nil, nil
	}
	l := loaders.For(ctx)
	if l == nil {
		return nil, ErrUnauthenticated
	}
	b, err := l.LedgerBatch(ctx, *id)
	if errors.Is(err, dataloadgen.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &b, nil
}

func loadAccountReference(ctx context.Context, userID int64) (*string, error) {
	l := loaders.For(ctx)
	if l == nil {
		return nil, ErrUnauthenticated
	}
	ref, err := l.AccountReference(ctx, userID)
	if errors.Is(err, dataloadgen.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &ref, nil
}

// operationPayload maps an operation's outcome: expected refusals become userErrors,
// anything else a GraphQL error.
func operationPayload(op models.GgoOperation, err error) (*graph.GgoOperationPayload, error) {
	out := &graph.GgoOperationPayload{UserErrors: []graph.UserError{}}
	var ie *account.InputError
	var short *account.InsufficientError
	switch {
	case err == nil:
		out.Operation = &op
	case errors.As(err, &short):
		out.UserErrors = append(out.UserErrors, graph.UserError{Field: []string{"input", "amount"}, Message: short.Error(), Code: CodeBadUserInput})
		out.Available = &short.Available
	case errors.As(err, &ie):
		out.UserErrors = append(out.UserErrors, inputUserError(ie))
	case errors.Is(err, account.ErrNotFound):
		out.UserErrors = append(out.UserErrors, graph.UserError{Field: []string{"input"}, Message: "no such account or GGO", Code: CodeNotFound})
	case errors.Is(err, account.ErrConflict):
		out.UserErrors = append(out.UserErrors, graph.UserError{Field: []string{"input"}, Message: "the GGOs are in use by another operation; try again", Code: CodeConflict})
	default:
		return nil, err
	}
	return out, nil
}

func splitField(f string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(f); i++ {
		if i == len(f) || f[i] == '.' {
			if i > start {
				out = append(out, f[start:i])
			}
			start = i + 1
		}
	}
	return out
}

func (r *mutationResolver) transferGgos(ctx context.Context, in graph.TransferGgosInput) (*graph.GgoOperationPayload, error) {
	v, err := viewer(ctx)
	if err != nil {
		return nil, err
	}
	ti := account.TransferInput{
		Amount: in.Amount, Filter: ggoFilter(in.Where), RecipientReference: in.Recipient,
		Reference: deref(in.Reference), IdempotencyKey: deref(in.IdempotencyKey),
	}
	// The recipient is an account reference (OH-…) or the account's User id.
	if id, err := relay.DecodeIntID(in.Recipient, typeUser); err == nil {
		ti.RecipientReference, ti.RecipientUserID = "", id
	}
	op, err := r.Account.Transfer(ctx, v.UserID, ti)
	if errors.Is(err, account.ErrNotFound) {
		return &graph.GgoOperationPayload{UserErrors: []graph.UserError{{Field: []string{"input", "recipient"}, Message: "no account with this reference", Code: CodeNotFound}}}, nil
	}
	return operationPayload(op, err)
}

func (r *mutationResolver) retireGgos(ctx context.Context, in graph.RetireGgosInput) (*graph.GgoOperationPayload, error) {
	v, err := viewer(ctx)
	if err != nil {
		return nil, err
	}
	ri := account.RetireInput{GSRN: in.Gsrn, MaxAmount: in.Amount, Filter: account.Filter{Technologies: in.Technology}, IdempotencyKey: deref(in.IdempotencyKey)}
	if in.Begin.Gte == nil || in.Begin.Lt == nil {
		return operationPayload(models.GgoOperation{}, &account.InputError{Field: "input.begin", Message: "needs both gte and lt"})
	}
	ri.From, ri.Until = in.Begin.Gte.UTC(), in.Begin.Lt.UTC()
	op, err := r.Account.Retire(ctx, v.UserID, ri)
	return operationPayload(op, err)
}

func (r *mutationResolver) composeGgo(ctx context.Context, in graph.ComposeGgoInput) (*graph.GgoOperationPayload, error) {
	v, err := viewer(ctx)
	if err != nil {
		return nil, err
	}
	id, err := relay.DecodeIntID(in.Ggo, typeGgo)
	if err != nil {
		return operationPayload(models.GgoOperation{}, &account.InputError{Field: "input.ggo", Message: "is not a GGO id"})
	}
	ci := account.ComposeInput{GgoID: id, IdempotencyKey: deref(in.IdempotencyKey)}
	for _, t := range in.Transfers {
		ci.Transfers = append(ci.Transfers, account.ComposeTransfer{RecipientReference: t.Recipient, Amount: t.Amount, Reference: deref(t.Reference)})
	}
	for _, rt := range in.Retires {
		ci.Retires = append(ci.Retires, account.ComposeRetire{GSRN: rt.Gsrn, Amount: rt.Amount})
	}
	op, err := r.Account.Compose(ctx, v.UserID, ci)
	return operationPayload(op, err)
}
