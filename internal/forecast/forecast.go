// Package forecast carries forecast series from one account to another: the recipient
// hears of each by webhook (FORECAST_RECEIVED) and on its subscription topic; only the
// sender and the recipient can read a forecast.
package forecast

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/originhub/originhub/internal/input"
	"github.com/originhub/originhub/models"
)

// Errors of the forecast service.
var (
	ErrNotFound     = errors.New("not found")
	ErrInvalidInput = input.ErrInvalid
)

// InputError says which input was wrong; it matches ErrInvalidInput.
type InputError = input.Error

// Emitter writes webhook deliveries in a transaction and queues them after commit
// (internal/webhook.Service).
type Emitter interface {
	Emit(ctx context.Context, tx bun.IDB, userID int64, event models.WebhookEvent, payload any) ([]int64, error)
	Enqueue(ctx context.Context, deliveryIDs []int64) error
}

// Publisher fans an event out to subscriptions (internal/pubsub.Bus).
type Publisher interface {
	Publish(ctx context.Context, topic string, payload []byte) error
}

// Topic is the subscription topic of the forecasts a user receives.
func Topic(userID int64) string { return "forecast:user:" + strconv.FormatInt(userID, 10) }

// Limits on a series.
const (
	MaxValues     = 100_000
	MaxValueWh    = int64(models.MaxWattHours)
	minResolution = time.Minute
)

// Service stores and lists forecasts.
type Service struct {
	db       *bun.DB
	webhooks Emitter   // nil: no webhooks
	bus      Publisher // nil: no subscription events
	log      *slog.Logger
}

// NewService returns a Service.
func NewService(db *bun.DB, webhooks Emitter, bus Publisher, log *slog.Logger) *Service {
	return &Service{db: db, webhooks: webhooks, bus: bus, log: log}
}

// SubmitInput is a forecast for another account, by its account reference.
type SubmitInput struct {
	RecipientReference string
	Reference          string
	Sector             models.Sector
	Begin              time.Time
	Resolution         time.Duration // whole seconds, at least a minute
	Values             []int64       // Wh, 0 ≤ v ≤ 2^53
}

// Submit stores the forecast and announces it to the recipient (webhook in the same
// transaction, subscription event after commit).
// Errors: *InputError (bad sector, resolution, values, reference or recipient).
func (s *Service) Submit(ctx context.Context, sender int64, in SubmitInput) (models.Forecast, error) {
	f := models.Forecast{SenderUserID: sender, Reference: strings.TrimSpace(in.Reference), Sector: in.Sector, BeginAt: in.Begin.UTC()}
	switch {
	case in.Sector != models.SectorDK1 && in.Sector != models.SectorDK2:
		return f, &InputError{Field: "input.sector", Message: "must be DK1 or DK2"}
	case f.Reference == "" || len(f.Reference) > 200:
		return f, &InputError{Field: "input.reference", Message: "must be 1 to 200 characters"}
	case in.Resolution < minResolution || in.Resolution%time.Second != 0 || in.Resolution > 366*24*time.Hour:
		return f, &InputError{Field: "input.resolutionSeconds", Message: "must be whole seconds from a minute to a year"}
	case len(in.Values) == 0 || len(in.Values) > MaxValues:
		return f, &InputError{Field: "input.values", Message: fmt.Sprintf("must have 1 to %d values", MaxValues)}
	case in.Begin.IsZero():
		return f, &InputError{Field: "input.begin", Message: "is required"}
	}
	for i, v := range in.Values {
		if v < 0 || v > MaxValueWh {
			return f, &InputError{Field: "input.values." + strconv.Itoa(i), Message: "must be 0 to 2^53 Wh"}
		}
	}
	f.ResolutionSeconds = int(in.Resolution / time.Second)
	f.ValuesWh = in.Values
	f.EndAt = f.BeginAt.Add(in.Resolution * time.Duration(len(in.Values)))
	var deliveries []int64
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		err := tx.NewSelect().Model((*models.User)(nil)).Column("id").
			Where("account_reference = ?", strings.ToUpper(strings.TrimSpace(in.RecipientReference))).Scan(ctx, &f.RecipientUserID)
		if errors.Is(err, sql.ErrNoRows) {
			return &InputError{Field: "input.recipient", Message: "no such account"}
		}
		if err != nil {
			return fmt.Errorf("find recipient: %w", err)
		}
		if f.RecipientUserID == sender {
			return &InputError{Field: "input.recipient", Message: "is your own account"}
		}
		if _, err := tx.NewInsert().Model(&f).Returning("*").Exec(ctx); err != nil {
			return fmt.Errorf("record forecast: %w", err)
		}
		if s.webhooks != nil {
			if deliveries, err = s.webhooks.Emit(ctx, tx, f.RecipientUserID, models.WebhookForecastReceived, event(f)); err != nil {
				return fmt.Errorf("emit forecast webhook: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return models.Forecast{}, err
	}
	if s.webhooks != nil && len(deliveries) > 0 {
		if err := s.webhooks.Enqueue(ctx, deliveries); err != nil {
			s.log.WarnContext(ctx, "forecast webhook not queued (the sweeper will)", "err", err)
		}
	}
	if s.bus != nil {
		b, _ := json.Marshal(event(f))
		if err := s.bus.Publish(ctx, Topic(f.RecipientUserID), b); err != nil {
			s.log.WarnContext(ctx, "forecast event not published", "err", err)
		}
	}
	return f, nil
}

// Event is the webhook and subscription payload of a received forecast.
type Event struct {
	ID         string    `json:"id"`
	Reference  string    `json:"reference"`
	Sector     string    `json:"sector"`
	Begin      time.Time `json:"begin"`
	End        time.Time `json:"end"`
	Resolution string    `json:"resolution"` // ISO 8601, e.g. PT1H
}

func event(f models.Forecast) Event {
	return Event{ID: f.PublicID, Reference: f.Reference, Sector: string(f.Sector), Begin: f.BeginAt, End: f.EndAt,
		Resolution: "PT" + strconv.Itoa(f.ResolutionSeconds) + "S"}
}

// Get returns the forecast with publicID if the user sent or received it.
// Errors: ErrNotFound (also for an id that is not a UUID).
func (s *Service) Get(ctx context.Context, user int64, publicID string) (models.Forecast, error) {
	id, err := uuid.Parse(publicID)
	if err != nil {
		return models.Forecast{}, ErrNotFound
	}
	var f models.Forecast
	// Compared as a uuid, not as text, so that the unique index finds it.
	err = parties(s.db.NewSelect().Model(&f), user).Where("fc.public_id = ?", id.String()).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return models.Forecast{}, ErrNotFound
	}
	if err != nil {
		return models.Forecast{}, fmt.Errorf("load forecast: %w", err)
	}
	return f, nil
}

// Newest returns the user's newest forecast, of the series reference unless it is empty
// and covering at (begin ≤ at ≤ end) unless it is nil.
// Errors: ErrNotFound.
func (s *Service) Newest(ctx context.Context, user int64, reference string, at *time.Time) (models.Forecast, error) {
	var f models.Forecast
	q := parties(s.db.NewSelect().Model(&f), user)
	if reference != "" {
		q = q.Where("fc.reference = ?", reference)
	}
	if at != nil {
		q = q.Where("fc.begin_at <= ? AND fc.end_at >= ?", at.UTC(), at.UTC())
	}
	err := q.OrderExpr("fc.created_at DESC, fc.id DESC").Limit(1).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return models.Forecast{}, ErrNotFound
	}
	if err != nil {
		return models.Forecast{}, fmt.Errorf("newest forecast: %w", err)
	}
	return f, nil
}

// parties limits q to the forecasts the user sent or received: nobody else may read them.
func parties(q *bun.SelectQuery, user int64) *bun.SelectQuery {
	return q.Where("(fc.sender_user_id = ? OR fc.recipient_user_id = ?)", user, user)
}

// Series returns the distinct references the user sent and received.
func (s *Service) Series(ctx context.Context, user int64) (sent, received []string, err error) {
	if err := s.db.NewSelect().Model((*models.Forecast)(nil)).ColumnExpr("DISTINCT fc.reference").
		Where("fc.sender_user_id = ?", user).OrderExpr("fc.reference").Scan(ctx, &sent); err != nil {
		return nil, nil, fmt.Errorf("sent series: %w", err)
	}
	if err := s.db.NewSelect().Model((*models.Forecast)(nil)).ColumnExpr("DISTINCT fc.reference").
		Where("fc.recipient_user_id = ?", user).OrderExpr("fc.reference").Scan(ctx, &received); err != nil {
		return nil, nil, fmt.Errorf("received series: %w", err)
	}
	return sent, received, nil
}
