package webhook

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/originhub/originhub/internal/relay"
	"github.com/originhub/originhub/models"
)

// DeliveryFilter narrows the delivery log; zero fields match everything.
type DeliveryFilter struct {
	Event          Event
	State          models.WebhookDeliveryState
	SubscriptionID int64
}

func (f DeliveryFilter) apply(q *bun.SelectQuery) *bun.SelectQuery {
	if f.Event != "" {
		q = q.Where("wd.event = ?", f.Event)
	}
	if f.State != "" {
		q = q.Where("wd.state = ?", f.State)
	}
	if f.SubscriptionID != 0 {
		q = q.Where("wd.subscription_id = ?", f.SubscriptionID)
	}
	return q
}

// Deliveries returns one page of the user's delivery log, newest first. With withAttempts
// each delivery's AttemptLog is loaded too, in one query for the page.
func (s *Service) Deliveries(ctx context.Context, userID int64, f DeliveryFilter, args relay.Args, withAttempts bool) (*relay.Connection[models.WebhookDelivery], error) {
	q := s.db.NewSelect().Model((*models.WebhookDelivery)(nil)).Where("wd.user_id = ?", userID).Apply(f.apply)
	conn, err := relay.Paginate(ctx, q, args, relay.Order{Columns: []string{"wd.id"}, Desc: true}, func(d *models.WebhookDelivery) []any {
		return []any{d.ID}
	})
	if err != nil || !withAttempts || len(conn.Edges) == 0 {
		return conn, err
	}
	ids := make([]int64, len(conn.Edges))
	for i, e := range conn.Edges {
		ids[i] = e.Node.ID
	}
	log, err := s.Attempts(ctx, userID, ids)
	if err != nil {
		return nil, err
	}
	for i := range conn.Edges {
		conn.Edges[i].Node.AttemptLog = log[conn.Edges[i].Node.ID]
	}
	return conn, nil
}

// Attempts returns the attempt log of the user's deliveries among ids, oldest first per
// delivery; ids that are not the user's are left out.
func (s *Service) Attempts(ctx context.Context, userID int64, ids []int64) (map[int64][]models.WebhookDeliveryAttempt, error) {
	var rows []models.WebhookDeliveryAttempt
	err := s.db.NewSelect().Model(&rows).
		Join("JOIN webhook_deliveries AS wd ON wd.id = wda.delivery_id").
		Where("wd.user_id = ? AND wda.delivery_id IN (?)", userID, bun.In(ids)).
		OrderExpr("wda.delivery_id, wda.attempt").
		Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("load webhook attempts: %w", err)
	}
	out := make(map[int64][]models.WebhookDeliveryAttempt, len(ids))
	for _, id := range ids {
		out[id] = []models.WebhookDeliveryAttempt{}
	}
	for _, r := range rows {
		out[r.DeliveryID] = append(out[r.DeliveryID], r)
	}
	return out, nil
}

// Delivery returns one of the user's deliveries. Errors: ErrNotFound.
func (s *Service) Delivery(ctx context.Context, userID, id int64) (models.WebhookDelivery, error) {
	var d models.WebhookDelivery
	err := s.db.NewSelect().Model(&d).Where("wd.id = ? AND wd.user_id = ?", id, userID).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return d, ErrNotFound
	}
	if err != nil {
		return d, fmt.Errorf("load webhook delivery %d: %w", id, err)
	}
	return d, nil
}

// Redeliver sends a finished delivery again as a new delivery with the same event id and
// body (receivers that processed it already can drop it), to the subscription's current
// URL, and queues it. Errors: ErrNotFound when the delivery is not the user's;
// *ConflictError while the delivery is still pending; *InputError when its subscription
// was deleted.
func (s *Service) Redeliver(ctx context.Context, userID, deliveryID int64) (models.WebhookDelivery, error) {
	var out models.WebhookDelivery
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var d models.WebhookDelivery
		err := tx.NewSelect().Model(&d).Where("wd.id = ? AND wd.user_id = ?", deliveryID, userID).Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("load webhook delivery %d: %w", deliveryID, err)
		}
		if d.State == models.WebhookDeliveryPending {
			return &ConflictError{Field: "deliveryId", Message: "the delivery is still being attempted"}
		}
		var sub models.WebhookSubscription
		err = tx.NewSelect().Model(&sub).Where("ws.id = ? AND ws.user_id = ?", d.SubscriptionID, userID).Scan(ctx)
		if d.SubscriptionID == nil || errors.Is(err, sql.ErrNoRows) {
			return &InputError{Field: "deliveryId", Message: "its subscription was deleted"}
		}
		if err != nil {
			return fmt.Errorf("load webhook subscription: %w", err)
		}
		now := s.clock()
		origin := d.ID
		out = models.WebhookDelivery{
			UserID: userID, SubscriptionID: &sub.ID, Event: d.Event, EventID: d.EventID, URL: sub.URL, Body: d.Body,
			State: models.WebhookDeliveryPending, MaxAttempts: s.cfg.MaxAttempts, NextAttemptAt: &now,
			RedeliveryOf: &origin, CreatedAt: now, UpdatedAt: now, AttemptLog: []models.WebhookDeliveryAttempt{},
		}
		if _, err := tx.NewInsert().Model(&out).Returning("id").Exec(ctx); err != nil {
			return fmt.Errorf("insert redelivery of %d: %w", deliveryID, err)
		}
		return nil
	})
	if err != nil {
		return models.WebhookDelivery{}, err
	}
	return out, s.Enqueue(ctx, []int64{out.ID})
}
