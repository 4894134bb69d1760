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

// Query narrows a user's forecasts (sent or received); empty fields match all.
type Query struct {
	PublicID  string
	Reference string
	At        *time.Time // begin ≤ At ≤ end
	Offset    int
	Limit     int // 1..100, default 50
}

// List returns the user's forecasts matching q, newest first, with the total.
// Errors: *InputError (bad limit or offset).
func (s *Service) List(ctx context.Context, user int64, q Query) ([]models.Forecast, int, error) {
	if q.Limit == 0 {
		q.Limit = 50
	}
	if q.Limit < 1 || q.Limit > 100 || q.Offset < 0 {
		return nil, 0, &InputError{Field: "limit", Message: "limit is 1 to 100, offset at least 0"}
	}
	var out []models.Forecast
	sq := s.db.NewSelect().Model(&out).Where("(fc.sender_user_id = ? OR fc.recipient_user_id = ?)", user, user)
	if q.PublicID != "" {
		sq = sq.Where("fc.public_id::text = ?", q.PublicID)
	}
	if q.Reference != "" {
		sq = sq.Where("fc.reference = ?", q.Reference)
	}
	if q.At != nil {
		sq = sq.Where("fc.begin_at <= ? AND fc.end_at >= ?", q.At.UTC(), q.At.UTC())
	}
	n, err := sq.OrderExpr("fc.created_at DESC, fc.id DESC").Offset(int64(q.Offset)).Limit(int64(q.Limit)).ScanAndCount(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("list forecasts: %w", err)
	}
	return out, int(n), nil
}

// Newest returns the user's newest forecast matching q.
// Errors: ErrNotFound.
func (s *Service) Newest(ctx context.Context, user int64, q Query) (models.Forecast, error) {
	q.Offset, q.Limit = 0, 1
	fs, _, err := s.List(ctx, user, q)
	if err != nil {
		return models.Forecast{}, err
	}
	if len(fs) == 0 {
		return models.Forecast{}, ErrNotFound
	}
	return fs[0], nil
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
