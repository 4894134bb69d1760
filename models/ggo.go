package models

import (
	"time"

	"github.com/uptrace/bun"
)

// GgoState is where a GGO is in its life.
type GgoState string

// GGO states. PENDING: issued or created by an operation whose ledger batch is not committed
// yet. STORED: in the owner's account, usable. LOCKED: consumed by an operation in flight.
// TRANSFERRED / SPLIT / RETIRED: spent (final). EXPIRED: its expiry passed while STORED.
const (
	GgoPending     GgoState = "PENDING"
	GgoStored      GgoState = "STORED"
	GgoLocked      GgoState = "LOCKED"
	GgoTransferred GgoState = "TRANSFERRED"
	GgoSplit       GgoState = "SPLIT"
	GgoRetired     GgoState = "RETIRED"
	GgoExpired     GgoState = "EXPIRED"
)

// GgoOrigin is how the owner came to hold a GGO.
type GgoOrigin string

// GGO origins.
const (
	GgoIssued   GgoOrigin = "ISSUED"   // issued for the owner's own production
	GgoReceived GgoOrigin = "RECEIVED" // transferred from another account
	GgoPart     GgoOrigin = "PART"     // a part the owner kept from a split
)

// Ggo is a guarantee of origin for one hour of production.
type Ggo struct {
	bun.BaseModel `bun:"table:ggos,alias:g"`

	ID                    int64      `bun:"id,pk,autoincrement"`
	UserID                int64      `bun:"user_id,notnull"`
	MeteringPointID       *int64     `bun:"metering_point_id"` // the issuing production point (provenance, copied to parts)
	ParentID              *int64     `bun:"parent_id"`
	RootID                *int64     `bun:"root_id"`
	BeginAt               time.Time  `bun:"begin_at,notnull"`
	EndAt                 time.Time  `bun:"end_at,notnull"`
	AmountWh              WattHours  `bun:"amount_wh,notnull"`
	Sector                Sector     `bun:"sector,notnull"`
	TechnologyCode        string     `bun:"technology_code,notnull"`
	FuelCode              string     `bun:"fuel_code,notnull"`
	State                 GgoState   `bun:"state,notnull"`
	Origin                GgoOrigin  `bun:"origin,notnull"`
	ReceivedFromUserID    *int64     `bun:"received_from_user_id"`
	Address               string     `bun:"address"`
	KeyPath               string     `bun:"key_path"` // BIP32 path in the owner's wallet
	BatchID               *string    `bun:"batch_id"`
	OperationID           *int64     `bun:"operation_id"`
	RetireMeteringPointID *int64     `bun:"retire_metering_point_id"`
	RetiredAt             *time.Time `bun:"retired_at"`
	NextState             *GgoState  `bun:"next_state"`   // what a LOCKED GGO becomes on commit
	AgreementID           *int64     `bun:"agreement_id"` // the agreement a received part was transferred under
	IssuedAt              time.Time  `bun:"issued_at,notnull"`
	ExpiresAt             time.Time  `bun:"expires_at,notnull"`
	CreatedAt             time.Time  `bun:"created_at,notnull,default:current_timestamp"`
	UpdatedAt             time.Time  `bun:"updated_at,notnull,default:current_timestamp"`
}

// IsNode marks Ggo as a Node.
func (Ggo) IsNode() {}

// GgoOperationKind is what an operation does.
type GgoOperationKind string

// Operation kinds.
const (
	OperationTransfer GgoOperationKind = "TRANSFER"
	OperationRetire   GgoOperationKind = "RETIRE"
	OperationCompose  GgoOperationKind = "COMPOSE"
	OperationConsume  GgoOperationKind = "CONSUME" // automatic consumption of one hour
)

// GgoOperationState follows the operation's ledger batch.
type GgoOperationState string

// Operation states.
const (
	OperationPending   GgoOperationState = "PENDING"
	OperationCommitted GgoOperationState = "COMMITTED"
	OperationFailed    GgoOperationState = "FAILED"
)

// GgoOperation is one transfer, retire or compose: one database transaction, one batch.
type GgoOperation struct {
	bun.BaseModel `bun:"table:ggo_operations,alias:op"`

	ID              int64             `bun:"id,pk,autoincrement"`
	UserID          int64             `bun:"user_id,notnull"`
	Kind            GgoOperationKind  `bun:"kind,notnull"`
	State           GgoOperationState `bun:"state,notnull"`
	BatchID         *string           `bun:"batch_id"`
	AmountWh        WattHours         `bun:"amount_wh,notnull"`
	RecipientUserID *int64            `bun:"recipient_user_id"`
	MeteringPointID *int64            `bun:"metering_point_id"`
	Reference       *string           `bun:"reference"`
	Error           *string           `bun:"error"`
	IdempotencyKey  *string           `bun:"idempotency_key"`
	CreatedAt       time.Time         `bun:"created_at,notnull,default:current_timestamp"`
	FinishedAt      *time.Time        `bun:"finished_at"`
}

// IsNode marks GgoOperation as a Node.
func (GgoOperation) IsNode() {}
