package models

import (
	"time"

	"github.com/uptrace/bun"
)

// DisclosureState is where a disclosure's compilation is.
type DisclosureState string

// Disclosure states: PENDING (waiting for its compile task), PROCESSING (being compiled),
// AVAILABLE (compiled), FAILED (the last compilation failed; Error says why, and the
// worker retries). The public data stays readable in every state.
const (
	DisclosurePending    DisclosureState = "PENDING"
	DisclosureProcessing DisclosureState = "PROCESSING"
	DisclosureAvailable  DisclosureState = "AVAILABLE"
	DisclosureFailed     DisclosureState = "FAILED"
)

// DisclosureResolution is the bucket size of disclosed series.
type DisclosureResolution string

// Disclosure resolutions, finest first.
const (
	DisclosureHour  DisclosureResolution = "HOUR"
	DisclosureDay   DisclosureResolution = "DAY"
	DisclosureMonth DisclosureResolution = "MONTH"
	DisclosureYear  DisclosureResolution = "YEAR"
)

// Disclosure is a user's public disclosure of consumption points over a period. Only its
// owner sees this struct; anonymous readers get what internal/disclosure.Public allows.
type Disclosure struct {
	bun.BaseModel `bun:"table:disclosures,alias:d"`

	ID               int64                `bun:"id,pk,autoincrement"`
	PublicID         string               `bun:"public_id,notnull,default:gen_random_uuid()"`
	UserID           int64                `bun:"user_id,notnull"`
	Name             string               `bun:"name,notnull"`
	Description      string               `bun:"description,notnull"`
	Begin            time.Time            `bun:"begin_at,notnull"`
	End              time.Time            `bun:"end_at,notnull"`
	MaxResolution    DisclosureResolution `bun:"max_resolution,notnull"`
	PerMeteringPoint bool                 `bun:"per_metering_point,notnull"`
	ShowGsrn         bool                 `bun:"show_gsrn,notnull"`
	ShowAddress      bool                 `bun:"show_address,notnull"`
	ShareOnly        bool                 `bun:"share_only,notnull"`
	State            DisclosureState      `bun:"state,notnull,default:'PENDING'"`
	Error            *string              `bun:"error"`
	Version          int                  `bun:"version,notnull,default:1"`
	CompiledVersion  *int                 `bun:"compiled_version"`
	CompiledAt       *time.Time           `bun:"compiled_at"`
	CreatedAt        time.Time            `bun:"created_at,notnull,default:current_timestamp"`
	UpdatedAt        time.Time            `bun:"updated_at,notnull,default:current_timestamp"`

	// GSRNs are the disclosed points in series order, loaded by the service (not a column).
	GSRNs []string `bun:"-"`
}
