package account

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/originhub/originhub/internal/ledger/outbox"
	"github.com/originhub/originhub/models"
)

// ConsumeTrigger queues automatic consumption of a user's hours [from, until) (an asynq
// task in the app). key identifies the cause, so queueing it twice is harmless. It runs
// after the hook's transaction commits, never inside it.
type ConsumeTrigger func(ctx context.Context, userID int64, from, until time.Time, key string) error

// SetConsumeTrigger makes the hooks queue automatic consumption when GGOs become STORED for
// a user (issued or received) and when consumption hours are published.
func (s *Service) SetConsumeTrigger(t ConsumeTrigger) { s.consume = t }

// hourSpan is the hours one user's consumption is due for.
type hourSpan struct{ from, until time.Time }

func (h *hourSpan) add(t time.Time) {
	if h.from.IsZero() || t.Before(h.from) {
		h.from = t
	}
	if end := t.Add(time.Hour); end.After(h.until) {
		h.until = end
	}
}

// triggerConsumption queues consumption of spans after the transaction commits.
func (s *Service) triggerConsumption(ctx context.Context, key string, spans map[int64]*hourSpan) {
	if s.consume == nil || len(spans) == 0 {
		return
	}
	outbox.AfterCommit(ctx, func(ctx context.Context) {
		for user, sp := range spans {
			// The task would find nothing to do; queueing it costs more than asking.
			if ok, err := s.routes(ctx, s.db, user, sp.from, sp.until); err == nil && !ok {
				continue
			}
			if err := s.consume(ctx, user, sp.from, sp.until, key); err != nil {
				// The hours stay consumable on demand and by the next trigger.
				s.log.WarnContext(ctx, "automatic consumption not queued", "user_id", user, "err", err)
			}
		}
	})
}

// storedSpans groups STORED GGOs by owner.
func storedSpans(gs []models.Ggo, origins ...models.GgoOrigin) map[int64]*hourSpan {
	out := map[int64]*hourSpan{}
	for _, g := range gs {
		if g.State != models.GgoStored {
			continue
		}
		ok := len(origins) == 0
		for _, o := range origins {
			ok = ok || g.Origin == o
		}
		if !ok {
			continue
		}
		sp := out[g.UserID]
		if sp == nil {
			sp = &hourSpan{}
			out[g.UserID] = sp
		}
		sp.add(g.BeginAt)
	}
	return out
}

// consumptionSpans finds whose consumption a publication batch makes due: the owners of
// published consumption points that receive retires, and the senders of ACCEPTED
// limit-to-consumption agreements to them.
func consumptionSpans(ctx context.Context, tx bun.IDB, batchID string, into map[int64]*hourSpan) error {
	var rows []struct {
		UserID int64     `bun:"user_id"`
		From   time.Time `bun:"from_at"`
		Until  time.Time `bun:"until_at"`
	}
	err := tx.NewRaw(`
		SELECT x.user_id, min(p.begin_at) AS from_at, max(p.begin_at) + interval '1 hour' AS until_at
		FROM measurement_publications p
		JOIN metering_points mp ON mp.id = p.metering_point_id AND mp.type = 'CONSUMPTION' AND mp.retiring_priority IS NOT NULL
		CROSS JOIN LATERAL (
			SELECT mp.user_id
			UNION
			SELECT ag.from_user_id FROM agreements ag
			WHERE ag.to_user_id = mp.user_id AND ag.state = 'ACCEPTED' AND ag.limit_to_consumption) x(user_id)
		WHERE p.batch_id = ?
		GROUP BY x.user_id`, batchID).Scan(ctx, &rows)
	if err != nil {
		return fmt.Errorf("consumption due after %s: %w", batchID, err)
	}
	for _, r := range rows {
		sp := into[r.UserID]
		if sp == nil {
			sp = &hourSpan{}
			into[r.UserID] = sp
		}
		sp.add(r.From.UTC())
		sp.add(r.Until.UTC().Add(-time.Hour))
	}
	return nil
}
