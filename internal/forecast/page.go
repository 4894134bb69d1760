package forecast

import (
	"context"
	"time"

	"github.com/originhub/originhub/internal/relay"
	"github.com/originhub/originhub/models"
)

// Direction is a forecast's side relative to the user.
type Direction string

// Directions.
const (
	Sent     Direction = "SENT"
	Received Direction = "RECEIVED"
)

// Filter narrows a user's forecasts in Page; zero fields match all.
type Filter struct {
	Reference string
	Direction *Direction
	// BeginFrom and BeginUntil bound the series' begin: [from, until).
	BeginFrom, BeginUntil *time.Time
}

// newestFirst is the order of forecast lists; the per-party (created_at, id) indexes serve it.
var newestFirst = relay.Order{Columns: []string{"fc.created_at", "fc.id"}, Desc: true}

// Page returns one page of the user's forecasts (sent and received) matching f, newest first.
// Errors: *InputError (bad direction or range), relay.ErrInvalidArgs.
func (s *Service) Page(ctx context.Context, user int64, f Filter, args relay.Args) (*relay.Connection[models.Forecast], error) {
	if f.BeginFrom != nil && f.BeginUntil != nil && !f.BeginFrom.Before(*f.BeginUntil) {
		return nil, &InputError{Field: "where.begin", Message: "gte must be before lt"}
	}
	q := s.db.NewSelect().Model((*models.Forecast)(nil))
	switch {
	case f.Direction == nil:
		q = parties(q, user)
	case *f.Direction == Sent:
		q = q.Where("fc.sender_user_id = ?", user)
	case *f.Direction == Received:
		q = q.Where("fc.recipient_user_id = ?", user)
	default:
		return nil, &InputError{Field: "where.direction", Message: "must be SENT or RECEIVED"}
	}
	if f.Reference != "" {
		q = q.Where("fc.reference = ?", f.Reference)
	}
	if f.BeginFrom != nil {
		q = q.Where("fc.begin_at >= ?", f.BeginFrom.UTC())
	}
	if f.BeginUntil != nil {
		q = q.Where("fc.begin_at < ?", f.BeginUntil.UTC())
	}
	return relay.Paginate(ctx, q, args, newestFirst, func(fc *models.Forecast) []any { return []any{fc.CreatedAt, fc.ID} })
}
