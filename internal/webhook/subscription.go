package webhook

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/originhub/originhub/internal/relay"
	"github.com/originhub/originhub/models"
)

// SubscribeInput is a new subscription. Secret is optional; without it deliveries are
// signed with the platform's WEBHOOK_SECRET.
type SubscribeInput struct {
	Event  Event
	URL    string
	Secret string
}

func (in SubscribeInput) validate() error {
	if !in.Event.Valid() {
		return &InputError{Field: "event", Message: "is not a known event"}
	}
	if in.Secret != "" {
		if n := utf8.RuneCountInString(in.Secret); n < MinSecretLength || len(in.Secret) > MaxSecretLength {
			return &InputError{Field: "secret", Message: fmt.Sprintf("must be %d to %d bytes long", MinSecretLength, MaxSecretLength)}
		}
	}
	return nil
}

// Subscribe registers url for event for the user. Errors: *InputError (ErrInvalidInput)
// for a bad event, URL or secret, or a URL aimed at a non-public address when those are not
// allowed; *ConflictError (ErrConflict) when the user already has this event and URL.
func (s *Service) Subscribe(ctx context.Context, userID int64, in SubscribeInput) (models.WebhookSubscription, error) {
	if err := in.validate(); err != nil {
		return models.WebhookSubscription{}, err
	}
	u, err := parseURL(in.URL)
	if err != nil {
		return models.WebhookSubscription{}, err
	}
	if err := s.checkTarget(ctx, u); err != nil {
		return models.WebhookSubscription{}, err
	}
	sub := models.WebhookSubscription{UserID: userID, Event: in.Event, URL: u.String(), CreatedAt: s.clock()}
	if in.Secret != "" {
		sealed, err := s.seal.seal(in.Secret, userID)
		if err != nil {
			return models.WebhookSubscription{}, err
		}
		sub.SecretSealed = sealed
	}
	// DO NOTHING instead of catching 23505: a duplicate is an expected answer, not an error.
	res, err := s.db.NewInsert().Model(&sub).
		On("CONFLICT ON CONSTRAINT webhook_subscriptions_user_id_event_url_key DO NOTHING").
		Returning("id").Exec(ctx)
	if err != nil {
		return models.WebhookSubscription{}, fmt.Errorf("insert webhook subscription: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return models.WebhookSubscription{}, &ConflictError{Field: "url", Message: "you already subscribed this URL to this event"}
	}
	return sub, nil
}

// Unsubscribe deletes the user's subscription id; its pending deliveries end as FAILED and
// the log of past ones stays. Errors: ErrNotFound when it is not the user's.
func (s *Service) Unsubscribe(ctx context.Context, userID, id int64) error {
	return s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var sub models.WebhookSubscription
		err := tx.NewSelect().Model(&sub).Where("ws.id = ? AND ws.user_id = ?", id, userID).For("UPDATE").Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("lock webhook subscription %d: %w", id, err)
		}
		now := s.clock()
		if _, err := tx.NewUpdate().Model((*models.WebhookDelivery)(nil)).
			Set("state = ?, last_error = ?, finished_at = ?, next_attempt_at = NULL, updated_at = ?", models.WebhookDeliveryFailed, "subscription deleted", now, now).
			Where("subscription_id = ? AND state = ?", id, models.WebhookDeliveryPending).
			Exec(ctx); err != nil {
			return fmt.Errorf("end deliveries of subscription %d: %w", id, err)
		}
		if _, err := tx.NewDelete().Model((*models.WebhookSubscription)(nil)).Where("id = ?", id).Exec(ctx); err != nil {
			return fmt.Errorf("delete webhook subscription %d: %w", id, err)
		}
		return nil
	})
}

// Subscriptions returns one page of the user's subscriptions, oldest first.
func (s *Service) Subscriptions(ctx context.Context, userID int64, args relay.Args) (*relay.Connection[models.WebhookSubscription], error) {
	q := s.db.NewSelect().Model((*models.WebhookSubscription)(nil)).Where("ws.user_id = ?", userID)
	return relay.Paginate(ctx, q, args, relay.Order{Columns: []string{"ws.id"}}, func(w *models.WebhookSubscription) []any {
		return []any{w.ID}
	})
}
