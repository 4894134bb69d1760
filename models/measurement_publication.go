package models

import (
	"time"

	"github.com/uptrace/bun"
)

// MeasurementLedgerState is the ledger side of one published measurement: where it is on
// the ledger and the batch that carries it (a row of measurement_publications).
type MeasurementLedgerState struct {
	bun.BaseModel `bun:"table:measurement_publications,alias:mpub"`

	MeteringPointID int64     `bun:"metering_point_id,pk"`
	BeginAt         time.Time `bun:"begin_at,pk"`
	// Address is the hour's MEASUREMENT address on the ledger.
	Address   string    `bun:"address,notnull"`
	BatchID   string    `bun:"batch_id,notnull"`
	AmountWh  WattHours `bun:"amount_wh,notnull"`
	CreatedAt time.Time `bun:"created_at,notnull,default:current_timestamp"`
	// Status is the carrying batch's status (joined, not stored).
	Status LedgerBatchStatus `bun:"status,scanonly"`
}
