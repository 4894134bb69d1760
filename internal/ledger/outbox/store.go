// Package outbox keeps the ledger outbox: batches written in the same transaction as the
// change they carry, posted and followed until the ledger commits or refuses them.
package outbox

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/uptrace/bun"

	"github.com/originhub/originhub/internal/db"
	"github.com/originhub/originhub/internal/relay"
	"github.com/originhub/originhub/models"
)

// Store reads and writes ledger batches.
type Store struct{ db *bun.DB }

// NewStore returns a Store on db.
func NewStore(db *bun.DB) *Store { return &Store{db: db} }

// Filter narrows a user's batch list.
type Filter struct {
	Statuses     []models.LedgerBatchStatus
	CreatedFrom  *time.Time // inclusive
	CreatedUntil *time.Time // exclusive
}

func (f Filter) apply(q *bun.SelectQuery) *bun.SelectQuery {
	if len(f.Statuses) > 0 {
		q = q.Where("lb.status IN (?)", bun.In(f.Statuses))
	}
	if f.CreatedFrom != nil {
		q = q.Where("lb.created_at >= ?", *f.CreatedFrom)
	}
	if f.CreatedUntil != nil {
		q = q.Where("lb.created_at < ?", *f.CreatedUntil)
	}
	return q
}

// Newest first; the id breaks ties. Served by ledger_batches_user_id_created_at_idx.
var listOrder = relay.Order{Columns: []string{"lb.created_at", "lb.id"}, Desc: true}

// List returns one page of userID's batches, newest first.
// Errors: relay.ErrInvalidArgs for bad pagination arguments.
func (s *Store) List(ctx context.Context, userID int64, f Filter, args relay.Args) (*relay.Connection[models.LedgerBatch], error) {
	q := s.db.NewSelect().Model((*models.LedgerBatch)(nil)).
		ExcludeColumn("body").
		Where("lb.user_id = ?", userID).
		Apply(f.apply)
	return relay.Paginate(ctx, q, args, listOrder, func(b *models.LedgerBatch) []any {
		return []any{b.CreatedAt, b.ID}
	})
}

// ByIDs returns userID's batches among ids, keyed by id; others' batches are left out.
func (s *Store) ByIDs(ctx context.Context, userID int64, ids []string) (map[string]models.LedgerBatch, error) {
	var rows []models.LedgerBatch
	err := s.db.NewSelect().Model(&rows).ExcludeColumn("body").
		Where("lb.user_id = ?", userID).Where("lb.id IN (?)", bun.In(ids)).
		Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("load ledger batches: %w", err)
	}
	return db.Keyed(rows, func(b *models.LedgerBatch) string { return b.ID }), nil
}

// Event tells subscribers that a batch changed; they reload it.
type Event struct {
	BatchID string                   `json:"batchId"`
	Status  models.LedgerBatchStatus `json:"status"`
}

// UserTopic is the pub/sub topic of one user's batch events.
func UserTopic(userID int64) string { return "ledger-batch:user:" + strconv.FormatInt(userID, 10) }

// Publisher sends events to subscribers (internal/pubsub.Bus).
type Publisher interface {
	Publish(ctx context.Context, topic string, payload []byte) error
}

// Notify tells userID's subscribers, on every API replica, that a batch changed. Call it
// after the change committed.
func Notify(ctx context.Context, p Publisher, userID int64, ev Event) error {
	b, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("encode batch event: %w", err)
	}
	return p.Publish(ctx, UserTopic(userID), b)
}
