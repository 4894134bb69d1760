package resolvers

import (
	"context"
	"encoding/json"

	"github.com/originhub/originhub/internal/ledger/outbox"
	"github.com/originhub/originhub/internal/loaders"
	"github.com/originhub/originhub/internal/pubsub"
	"github.com/originhub/originhub/internal/user"
	"github.com/originhub/originhub/models"
)

// subscribeLedgerBatches streams the viewer's batch changes. Events carry ids only; each is
// resolved with loaders built for that event, so the subscriber sees current rows scoped to
// itself.
func subscribeLedgerBatches(ctx context.Context, bus *pubsub.Bus, src loaders.Sources, v user.Viewer) (<-chan *models.LedgerBatch, error) {
	events, err := bus.Subscribe(ctx, outbox.UserTopic(v.UserID))
	if err != nil {
		return nil, err
	}
	out := make(chan *models.LedgerBatch)
	go func() {
		defer close(out)
		for raw := range events {
			var ev outbox.Event
			if err := json.Unmarshal(raw, &ev); err != nil {
				continue // not ours to fail the subscription over
			}
			l := loaders.New(src, v)
			b, err := l.LedgerBatch(ctx, ev.BatchID)
			if err != nil {
				continue // gone or not the viewer's
			}
			select {
			case out <- &b:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}
