package resolvers

import (
	"context"

	"github.com/originhub/originhub/graph"
	"github.com/originhub/originhub/internal/account"
	"github.com/originhub/originhub/models"
)

func (r *queryResolver) consumptionLog(ctx context.Context, begin graph.TimeRange) ([]graph.ConsumptionLogEntry, error) {
	v, err := viewer(ctx)
	if err != nil {
		return nil, err
	}
	if begin.Gte == nil || begin.Lt == nil {
		return nil, &account.InputError{Field: "begin", Message: "needs gte and lt"}
	}
	es, err := r.Account.ConsumptionLog(ctx, v.UserID, *begin.Gte, *begin.Lt)
	if err != nil {
		return nil, err
	}
	out := make([]graph.ConsumptionLogEntry, len(es))
	for i, e := range es {
		out[i] = graph.ConsumptionLogEntry{Hour: e.BeginAt, Rule: e.Rule, Amount: e.AmountWh,
			Gsrn: e.GSRN, AgreementID: e.AgreementPublicID, OperationState: e.OperationState}
	}
	return out, nil
}

func (r *mutationResolver) consumeGgos(ctx context.Context, input graph.ConsumeGgosInput) (*graph.ConsumeGgosPayload, error) {
	v, err := viewer(ctx)
	if err != nil {
		return nil, err
	}
	out := &graph.ConsumeGgosPayload{Operations: []models.GgoOperation{}, UserErrors: []graph.UserError{}}
	if input.Begin.Gte == nil || input.Begin.Lt == nil {
		out.UserErrors = append(out.UserErrors, graph.UserError{Field: []string{"input", "begin"}, Message: "needs gte and lt", Code: CodeBadUserInput})
		return out, nil
	}
	ops, err := r.Account.ConsumePeriod(ctx, v.UserID, *input.Begin.Gte, *input.Begin.Lt)
	out.Operations = append(out.Operations, ops...)
	if err != nil {
		p, perr := operationPayload(models.GgoOperation{}, err)
		if perr != nil {
			return nil, perr
		}
		out.UserErrors = append(out.UserErrors, p.UserErrors...)
	}
	return out, nil
}
