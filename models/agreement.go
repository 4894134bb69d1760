package models

import (
	"time"

	"github.com/uptrace/bun"
)

// AgreementState is where an agreement is in its life.
type AgreementState string

// Agreement states: PENDING until the counterpart responds (ACCEPTED or DECLINED) or the
// proposer withdraws it (WITHDRAWN); an ACCEPTED agreement ends CANCELLED.
const (
	AgreementPending   AgreementState = "PENDING"
	AgreementAccepted  AgreementState = "ACCEPTED"
	AgreementDeclined  AgreementState = "DECLINED"
	AgreementCancelled AgreementState = "CANCELLED"
	AgreementWithdrawn AgreementState = "WITHDRAWN"
)

// AmountUnit is the unit of an agreement's fixed amount.
type AmountUnit string

// Units and their size in Wh (Multiplier).
const (
	UnitWh  AmountUnit = "Wh"
	UnitKWh AmountUnit = "kWh"
	UnitMWh AmountUnit = "MWh"
	UnitGWh AmountUnit = "GWh"
)

// Multiplier is the unit's size in Wh; 0 for an unknown unit.
func (u AmountUnit) Multiplier() int64 {
	switch u {
	case UnitWh:
		return 1
	case UnitKWh:
		return 1_000
	case UnitMWh:
		return 1_000_000
	case UnitGWh:
		return 1_000_000_000
	}
	return 0
}

// Agreement is a trade agreement: From transfers GGOs to To, hour by hour, within caps.
type Agreement struct {
	bun.BaseModel `bun:"table:agreements,alias:ag"`

	ID                 int64          `bun:"id,pk,autoincrement"`
	PublicID           string         `bun:"public_id,nullzero,notnull,default:gen_random_uuid()"`
	ProposedByUserID   int64          `bun:"proposed_by_user_id,notnull"`
	FromUserID         int64          `bun:"from_user_id,notnull"`
	ToUserID           int64          `bun:"to_user_id,notnull"`
	State              AgreementState `bun:"state,notnull"`
	DateFrom           time.Time      `bun:"date_from,type:date,notnull"` // inclusive, Europe/Copenhagen
	DateTo             time.Time      `bun:"date_to,type:date,notnull"`   // inclusive, Europe/Copenhagen
	Amount             *int64         `bun:"amount"`
	Unit               *AmountUnit    `bun:"unit"`
	AmountPercent      *int           `bun:"amount_percent"`
	Technologies       []string       `bun:"technologies,array"`
	FacilityGSRNs      []string       `bun:"facility_gsrns,array"`
	LimitToConsumption bool           `bun:"limit_to_consumption,notnull"`
	Reference          string         `bun:"reference,notnull"`
	ProposalNote       string         `bun:"proposal_note,notnull"`
	TransferPriority   *int           `bun:"transfer_priority"`
	CreatedAt          time.Time      `bun:"created_at,notnull,default:current_timestamp"`
	UpdatedAt          time.Time      `bun:"updated_at,notnull,default:current_timestamp"`
	AcceptedAt         *time.Time     `bun:"accepted_at"`
	DeclinedAt         *time.Time     `bun:"declined_at"`
	WithdrawnAt        *time.Time     `bun:"withdrawn_at"`
	CancelledAt        *time.Time     `bun:"cancelled_at"`
}

// IsNode marks Agreement as a Node.
func (Agreement) IsNode() {}

// CapWh is the fixed amount per hour in Wh, or nil when there is none.
func (a Agreement) CapWh() *WattHours {
	if a.Amount == nil || a.Unit == nil {
		return nil
	}
	v := WattHours(*a.Amount * a.Unit.Multiplier())
	return &v
}

// ConsumptionRule says why automatic consumption moved an amount.
type ConsumptionRule string

// Rules: retired to one of the owner's consumption points, or transferred under an agreement.
const (
	RuleRetire    ConsumptionRule = "RETIRE"
	RuleAgreement ConsumptionRule = "AGREEMENT"
)

// ConsumptionEntry records one amount automatic consumption retired or transferred, from
// which GGO, for which hour and by which rule.
type ConsumptionEntry struct {
	bun.BaseModel `bun:"table:consumption_entries,alias:ce"`

	ID              int64           `bun:"id,pk,autoincrement"`
	UserID          int64           `bun:"user_id,notnull"`
	BeginAt         time.Time       `bun:"begin_at,notnull"`
	OperationID     int64           `bun:"operation_id,notnull"`
	GgoID           int64           `bun:"ggo_id,notnull"`
	Rule            ConsumptionRule `bun:"rule,notnull"`
	MeteringPointID *int64          `bun:"metering_point_id"`
	AgreementID     *int64          `bun:"agreement_id"`
	AmountWh        WattHours       `bun:"amount_wh,notnull"`
	CreatedAt       time.Time       `bun:"created_at,notnull,default:current_timestamp"`
	// OperationState is the state of the operation's ledger batch (scan only).
	OperationState GgoOperationState `bun:"operation_state,scanonly"`
	// GSRN is the retire facility's, AgreementPublicID the agreement's (scan only).
	GSRN              *string `bun:"gsrn,scanonly"`
	AgreementPublicID *string `bun:"agreement_public_id,scanonly"`
}

// Forecast is a series of expected amounts one account sends another.
type Forecast struct {
	bun.BaseModel `bun:"table:forecasts,alias:fc"`

	ID                int64     `bun:"id,pk,autoincrement"`
	PublicID          string    `bun:"public_id,nullzero,notnull,default:gen_random_uuid()"`
	SenderUserID      int64     `bun:"sender_user_id,notnull"`
	RecipientUserID   int64     `bun:"recipient_user_id,notnull"`
	Reference         string    `bun:"reference,notnull"`
	Sector            Sector    `bun:"sector,notnull"`
	BeginAt           time.Time `bun:"begin_at,notnull"`
	EndAt             time.Time `bun:"end_at,notnull"`
	ResolutionSeconds int       `bun:"resolution_seconds,notnull"`
	ValuesWh          []int64   `bun:"values_wh,array,notnull"`
	CreatedAt         time.Time `bun:"created_at,notnull,default:current_timestamp"`
}

// IsNode marks Forecast as a Node.
func (Forecast) IsNode() {}

// Values are the forecast's amounts, one per resolution step from BeginAt.
func (f Forecast) Values() []WattHours {
	out := make([]WattHours, len(f.ValuesWh))
	for i, v := range f.ValuesWh {
		out[i] = WattHours(v)
	}
	return out
}
