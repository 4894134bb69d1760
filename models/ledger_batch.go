package models

import (
	"time"

	"github.com/uptrace/bun"
)

// LedgerBatchStatus is where a batch is on its way to the ledger.
type LedgerBatchStatus string

// Ledger batch statuses. PENDING: written to the outbox; SUBMITTED: accepted by the ledger's
// REST API; COMMITTED and INVALID are final; UNKNOWN: the ledger does not know the batch
// (yet), which is retried.
const (
	LedgerBatchPending   LedgerBatchStatus = "PENDING"
	LedgerBatchSubmitted LedgerBatchStatus = "SUBMITTED"
	LedgerBatchCommitted LedgerBatchStatus = "COMMITTED"
	LedgerBatchInvalid   LedgerBatchStatus = "INVALID"
	LedgerBatchUnknown   LedgerBatchStatus = "UNKNOWN"
)

// Final reports whether the status can no longer change.
func (s LedgerBatchStatus) Final() bool {
	return s == LedgerBatchCommitted || s == LedgerBatchInvalid
}

// LedgerBatch is one row of the ledger outbox.
type LedgerBatch struct {
	bun.BaseModel `bun:"table:ledger_batches,alias:lb"`

	ID          string            `bun:"id,pk"`
	UserID      *int64            `bun:"user_id"`
	Kind        string            `bun:"kind,notnull"`
	Body        []byte            `bun:"body,notnull"`
	Status      LedgerBatchStatus `bun:"status,notnull"`
	Error       *string           `bun:"error"`
	Attempts    int               `bun:"attempts,notnull"`
	CreatedAt   time.Time         `bun:"created_at,notnull,default:current_timestamp"`
	SubmittedAt *time.Time        `bun:"submitted_at"`
	CommittedAt *time.Time        `bun:"committed_at"`
	UpdatedAt   time.Time         `bun:"updated_at,notnull,default:current_timestamp"`
	NextPollAt  *time.Time        `bun:"next_poll_at"`
}
