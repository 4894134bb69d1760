package account

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/originhub/originhub/internal/ledger/outbox"
	"github.com/originhub/originhub/models"
)

// Emitter writes webhook deliveries in the caller's transaction and queues them after it
// commits (internal/webhook.Service).
type Emitter interface {
	Emit(ctx context.Context, tx bun.IDB, userID int64, event models.WebhookEvent, payload any) ([]int64, error)
	Enqueue(ctx context.Context, deliveryIDs []int64) error
	Subscribed(ctx context.Context, tx bun.IDB, event models.WebhookEvent, users []int64) (map[int64]bool, error)
}

// SetWebhooks makes the service announce issued and received GGOs, published measurements
// and finished operations to users' webhook subscriptions.
func (s *Service) SetWebhooks(e Emitter) { s.webhooks = e }

// GgoEvent is the webhook payload of a GGO.
type GgoEvent struct {
	Address    string           `json:"address"`
	Begin      time.Time        `json:"begin"`
	End        time.Time        `json:"end"`
	Amount     models.WattHours `json:"amount"`
	Sector     models.Sector    `json:"sector"`
	Technology string           `json:"technologyCode"`
	Fuel       string           `json:"fuelCode"`
	ExpiresAt  time.Time        `json:"expiresAt"`
	From       string           `json:"from,omitempty"` // sender's account reference
}

// emit writes an event in tx and queues its deliveries once the hook's transaction commits.
func (s *Service) emit(ctx context.Context, tx bun.IDB, userID int64, event models.WebhookEvent, payload any) error {
	if s.webhooks == nil {
		return nil
	}
	ids, err := s.webhooks.Emit(ctx, tx, userID, event, payload)
	if err != nil {
		return fmt.Errorf("emit %s: %w", event, err)
	}
	if len(ids) > 0 {
		outbox.AfterCommit(ctx, func(ctx context.Context) {
			if err := s.webhooks.Enqueue(ctx, ids); err != nil {
				s.log.WarnContext(ctx, "webhook deliveries not queued (the sweeper will)", "err", err)
			}
		})
	}
	return nil
}

// ggoEvents groups GGOs by owner as webhook payloads.
func ggoEvents(gs []models.Ggo, refs map[int64]string) map[int64][]GgoEvent {
	out := map[int64][]GgoEvent{}
	for _, g := range gs {
		e := GgoEvent{Address: g.Address, Begin: g.BeginAt, End: g.EndAt, Amount: g.AmountWh, Sector: g.Sector,
			Technology: g.TechnologyCode, Fuel: g.FuelCode, ExpiresAt: g.ExpiresAt}
		if g.ReceivedFromUserID != nil {
			e.From = refs[*g.ReceivedFromUserID]
		}
		out[g.UserID] = append(out[g.UserID], e)
	}
	return out
}
