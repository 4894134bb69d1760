package models

import (
	"time"

	"github.com/uptrace/bun"
)

// MeteringPointType tells production from consumption.
type MeteringPointType string

// Metering point types (DataHub E18 and E17).
const (
	MeteringPointProduction  MeteringPointType = "PRODUCTION"
	MeteringPointConsumption MeteringPointType = "CONSUMPTION"
)

// Sector is a Danish price area.
type Sector string

// Sectors.
const (
	SectorDK1 Sector = "DK1"
	SectorDK2 Sector = "DK2"
)

// MeteringPoint is a DataHub metering point owned by a user.
type MeteringPoint struct {
	bun.BaseModel `bun:"table:metering_points,alias:mp"`

	ID               int64             `bun:"id,pk,autoincrement"`
	UserID           int64             `bun:"user_id,notnull"`
	GSRN             string            `bun:"gsrn,notnull"`
	Type             MeteringPointType `bun:"type,notnull"`
	Sector           Sector            `bun:"sector,notnull"`
	TechnologyCode   *string           `bun:"technology_code"`
	FuelCode         *string           `bun:"fuel_code"`
	StreetCode       string            `bun:"street_code,notnull"`
	StreetName       string            `bun:"street_name,notnull"`
	BuildingNumber   string            `bun:"building_number,notnull"`
	CityName         string            `bun:"city_name,notnull"`
	Postcode         string            `bun:"postcode,notnull"`
	MunicipalityCode string            `bun:"municipality_code,notnull"`
	KeyIndex         *int              `bun:"key_index"`
	ImportedUntil    *time.Time        `bun:"imported_until"`
	LastImportError  *string           `bun:"last_import_error"`
	CreatedAt        time.Time         `bun:"created_at,notnull,default:current_timestamp"`
	UpdatedAt        time.Time         `bun:"updated_at,notnull,default:current_timestamp"`
}

// IsNode marks MeteringPoint as a Node.
func (MeteringPoint) IsNode() {}

// Measurement is one hourly reading of a metering point.
type Measurement struct {
	bun.BaseModel `bun:"table:measurements,alias:m"`

	MeteringPointID int64      `bun:"metering_point_id,pk"`
	BeginAt         time.Time  `bun:"begin_at,pk"`
	AmountWh        WattHours  `bun:"amount_wh,notnull"`
	Quality         string     `bun:"quality,notnull"`
	ImportedAt      time.Time  `bun:"imported_at,notnull"`
	RevisedAt       *time.Time `bun:"revised_at"`
}

// End is the end of the reading's hour.
func (m Measurement) End() time.Time { return m.BeginAt.Add(time.Hour) }

// ImportJobState is where an import job is.
type ImportJobState string

// Import job states.
const (
	ImportQueued    ImportJobState = "QUEUED"
	ImportRunning   ImportJobState = "RUNNING"
	ImportSucceeded ImportJobState = "SUCCEEDED"
	ImportFailed    ImportJobState = "FAILED"
)

// ImportJobKind is what an import job imports.
type ImportJobKind string

// Import job kinds.
const (
	ImportMeteringPoints ImportJobKind = "METERING_POINTS"
	ImportMeasurements   ImportJobKind = "MEASUREMENTS"
)

// ImportJob is one run of an import task, visible to its user.
type ImportJob struct {
	bun.BaseModel `bun:"table:import_jobs,alias:ij"`

	ID              int64          `bun:"id,pk,autoincrement"`
	UserID          int64          `bun:"user_id,notnull"`
	Kind            ImportJobKind  `bun:"kind,notnull"`
	MeteringPointID *int64         `bun:"metering_point_id"`
	State           ImportJobState `bun:"state,notnull"`
	WindowFrom      *time.Time     `bun:"window_from"`
	WindowTo        *time.Time     `bun:"window_to"`
	RowsRead        int64          `bun:"rows_read,notnull"`
	RowsWritten     int64          `bun:"rows_written,notnull"`
	Attempts        int            `bun:"attempts,notnull"`
	LastError       *string        `bun:"last_error"`
	CreatedAt       time.Time      `bun:"created_at,notnull,default:current_timestamp"`
	StartedAt       *time.Time     `bun:"started_at"`
	FinishedAt      *time.Time     `bun:"finished_at"`
	UpdatedAt       time.Time      `bun:"updated_at,notnull,default:current_timestamp"`
}

// IsNode marks ImportJob as a Node.
func (ImportJob) IsNode() {}

// ElOverblikLinkState is where a user's ElOverblik consent is.
type ElOverblikLinkState string

// Link states.
const (
	LinkPending ElOverblikLinkState = "PENDING"
	LinkGranted ElOverblikLinkState = "GRANTED"
	LinkDenied  ElOverblikLinkState = "DENIED"
)

// ElOverblikLink is a user's consent for OriginHub to read their DataHub data.
type ElOverblikLink struct {
	bun.BaseModel `bun:"table:eloverblik_links,alias:el"`

	UserID      int64               `bun:"user_id,pk"`
	CustomerKey string              `bun:"customer_key,notnull"`
	State       ElOverblikLinkState `bun:"state,notnull"`
	Nonce       *string             `bun:"nonce"`
	AccessFrom  *time.Time          `bun:"access_from"`
	AccessTo    *time.Time          `bun:"access_to"`
	RequestedAt time.Time           `bun:"requested_at,notnull,default:current_timestamp"`
	GrantedAt   *time.Time          `bun:"granted_at"`
	UpdatedAt   time.Time           `bun:"updated_at,notnull,default:current_timestamp"`
}

// MeasurementRevision records DataHub changing an imported reading.
type MeasurementRevision struct {
	bun.BaseModel `bun:"table:measurement_revisions,alias:mr"`

	ID              int64     `bun:"id,pk,autoincrement"`
	MeteringPointID int64     `bun:"metering_point_id,notnull"`
	BeginAt         time.Time `bun:"begin_at,notnull"`
	OldAmountWh     WattHours `bun:"old_amount_wh,notnull"`
	NewAmountWh     WattHours `bun:"new_amount_wh,notnull"`
	RevisedAt       time.Time `bun:"revised_at,notnull"`
}
