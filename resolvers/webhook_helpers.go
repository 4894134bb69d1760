package resolvers

import (
	"context"
	"errors"

	"github.com/99designs/gqlgen/graphql"

	"github.com/originhub/originhub/graph"
	"github.com/originhub/originhub/internal/relay"
	"github.com/originhub/originhub/internal/webhook"
	"github.com/originhub/originhub/models"
)

const (
	typeWebhookSubscription = "WebhookSubscription"
	typeWebhookDelivery     = "WebhookDelivery"
)

// webhookUserError maps an expected webhook failure to a userError; ok is false for
// anything else, which the caller returns as an error.
func webhookUserError(err error, idField string) (graph.UserError, bool) {
	var ie *webhook.InputError
	var ce *webhook.ConflictError
	switch {
	case errors.As(err, &ie):
		return graph.UserError{Field: []string{"input", ie.Field}, Message: ie.Message, Code: CodeBadUserInput}, true
	case errors.As(err, &ce):
		return graph.UserError{Field: []string{"input", ce.Field}, Message: ce.Message, Code: CodeConflict}, true
	case errors.Is(err, webhook.ErrNotFound), errors.Is(err, relay.ErrInvalidID):
		return graph.UserError{Field: []string{"input", idField}, Message: "no such " + idField + " of yours", Code: CodeNotFound}, true
	}
	return graph.UserError{}, false
}

func (r *mutationResolver) createWebhookSubscription(ctx context.Context, input graph.CreateWebhookSubscriptionInput) (*graph.CreateWebhookSubscriptionPayload, error) {
	v, err := viewer(ctx)
	if err != nil {
		return nil, err
	}
	out := &graph.CreateWebhookSubscriptionPayload{UserErrors: []graph.UserError{}}
	sub, err := r.Webhooks.Subscribe(ctx, v.UserID, webhook.SubscribeInput{Event: input.Event, URL: input.URL, Secret: deref(input.Secret)})
	if ue, ok := webhookUserError(err, "url"); ok {
		out.UserErrors = append(out.UserErrors, ue)
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	out.Subscription = &sub
	return out, nil
}

func (r *mutationResolver) deleteWebhookSubscription(ctx context.Context, input graph.DeleteWebhookSubscriptionInput) (*graph.DeleteWebhookSubscriptionPayload, error) {
	v, err := viewer(ctx)
	if err != nil {
		return nil, err
	}
	out := &graph.DeleteWebhookSubscriptionPayload{UserErrors: []graph.UserError{}}
	id, err := relay.DecodeIntID(input.ID, typeWebhookSubscription)
	if err == nil {
		err = r.Webhooks.Unsubscribe(ctx, v.UserID, id)
	}
	if ue, ok := webhookUserError(err, "id"); ok {
		out.UserErrors = append(out.UserErrors, ue)
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	out.DeletedID = &input.ID
	return out, nil
}

func (r *mutationResolver) redeliverWebhook(ctx context.Context, input graph.RedeliverWebhookInput) (*graph.RedeliverWebhookPayload, error) {
	v, err := viewer(ctx)
	if err != nil {
		return nil, err
	}
	out := &graph.RedeliverWebhookPayload{UserErrors: []graph.UserError{}}
	var d models.WebhookDelivery
	id, err := relay.DecodeIntID(input.DeliveryID, typeWebhookDelivery)
	if err == nil {
		d, err = r.Webhooks.Redeliver(ctx, v.UserID, id)
	}
	if ue, ok := webhookUserError(err, "deliveryId"); ok {
		out.UserErrors = append(out.UserErrors, ue)
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	out.Delivery = &d
	return out, nil
}

func (r *queryResolver) webhookDeliveries(ctx context.Context, where *graph.WebhookDeliveryFilter, args relay.Args) (*relay.Connection[models.WebhookDelivery], error) {
	v, err := viewer(ctx)
	if err != nil {
		return nil, err
	}
	var f webhook.DeliveryFilter
	if where != nil {
		f.Event, f.State = deref(where.Event), deref(where.State)
		if where.SubscriptionID != nil {
			if f.SubscriptionID, err = relay.DecodeIntID(*where.SubscriptionID, typeWebhookSubscription); err != nil {
				return nil, err
			}
		}
	}
	withLog := graphql.AnyFieldRequested(ctx, "edges.node.attemptLog", "nodes.attemptLog")
	return r.Webhooks.Deliveries(ctx, v.UserID, f, args, withLog)
}

func optionalID(typ string, id *int64) *string {
	if id == nil {
		return nil
	}
	s := relay.EncodeIntID(typ, *id)
	return &s
}
