package resolvers

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"time"

	"github.com/originhub/originhub/graph"
	"github.com/originhub/originhub/internal/forecast"
	"github.com/originhub/originhub/internal/pubsub"
	"github.com/originhub/originhub/internal/relay"
	"github.com/originhub/originhub/internal/user"
	"github.com/originhub/originhub/models"
)

// typeForecast IDs are keyed by the public id, which the webhook and subscription events carry.
const typeForecast = "Forecast"

func forecastFilter(w *graph.ForecastFilter) forecast.Filter {
	if w == nil {
		return forecast.Filter{}
	}
	f := forecast.Filter{Reference: deref(w.Reference), Direction: w.Direction}
	if w.Begin != nil {
		f.BeginFrom, f.BeginUntil = w.Begin.Gte, w.Begin.Lt
	}
	return f
}

func (r *mutationResolver) sendForecast(ctx context.Context, in graph.SendForecastInput) (*graph.SendForecastPayload, error) {
	v, err := viewer(ctx)
	if err != nil {
		return nil, err
	}
	// A count of seconds beyond a Duration's range is beyond the domain's range too:
	// saturate instead of letting the multiplication wrap into a valid-looking value.
	res := time.Duration(math.MaxInt64)
	if s := int64(in.ResolutionSeconds); s <= int64(math.MaxInt64/time.Second) {
		res = time.Duration(s) * time.Second
	}
	values := make([]int64, len(in.Values))
	for i, w := range in.Values {
		values[i] = int64(w)
	}
	f, err := r.ForecastService.Submit(ctx, v.UserID, forecast.SubmitInput{
		RecipientReference: in.Recipient, Reference: in.Reference, Sector: in.Sector, Begin: in.Begin, Resolution: res, Values: values,
	})
	out := &graph.SendForecastPayload{UserErrors: []graph.UserError{}}
	var ie *forecast.InputError
	switch {
	case errors.As(err, &ie):
		out.UserErrors = append(out.UserErrors, inputUserError(ie))
	case err != nil:
		return nil, err
	default:
		out.Forecast = &f
	}
	return out, nil
}

// forecastByID returns one of the viewer's forecasts by global ID.
func (r *queryResolver) forecastByID(ctx context.Context, id string) (*models.Forecast, error) {
	v, err := viewer(ctx)
	if err != nil {
		return nil, err
	}
	gid, err := relay.DecodeID(id)
	if err != nil || gid.Type != typeForecast {
		return nil, forecast.ErrNotFound // indistinguishable from others' forecasts
	}
	f, err := r.ForecastService.Get(ctx, v.UserID, gid.Key)
	if err != nil {
		return nil, err
	}
	return &f, nil
}

func (r *queryResolver) newestForecast(ctx context.Context, reference *string, at *time.Time) (*models.Forecast, error) {
	v, err := viewer(ctx)
	if err != nil {
		return nil, err
	}
	f, err := r.ForecastService.Newest(ctx, v.UserID, deref(reference), at)
	if errors.Is(err, forecast.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &f, nil
}

// subscribeForecasts streams the forecasts the viewer receives. Each event is reloaded
// scoped to the viewer, so a stray event on the topic delivers nothing.
func subscribeForecasts(ctx context.Context, bus *pubsub.Bus, forecasts *forecast.Service, v user.Viewer) (<-chan *models.Forecast, error) {
	events, err := bus.Subscribe(ctx, forecast.Topic(v.UserID))
	if err != nil {
		return nil, err
	}
	out := make(chan *models.Forecast)
	go func() {
		defer close(out)
		for raw := range events {
			var ev forecast.Event
			if json.Unmarshal(raw, &ev) != nil || ev.ID == "" {
				continue
			}
			f, err := forecasts.Get(ctx, v.UserID, ev.ID)
			if err != nil || f.RecipientUserID != v.UserID {
				continue // gone, not the viewer's, or one the viewer sent
			}
			select {
			case out <- &f:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}
