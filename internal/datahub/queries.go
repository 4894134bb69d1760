package datahub

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/originhub/originhub/internal/db"
	"github.com/originhub/originhub/internal/relay"
	"github.com/originhub/originhub/models"
)

// MeteringPointFilter narrows a user's metering points; empty fields match everything.
type MeteringPointFilter struct {
	Type       models.MeteringPointType
	Sector     models.Sector
	GSRNs      []string
	Technology string // label, e.g. Wind
}

func (f MeteringPointFilter) apply(q *bun.SelectQuery) *bun.SelectQuery {
	if f.Type != "" {
		q = q.Where("mp.type = ?", f.Type)
	}
	if f.Sector != "" {
		q = q.Where("mp.sector = ?", f.Sector)
	}
	if len(f.GSRNs) > 0 {
		q = q.Where("mp.gsrn IN (?)", bun.In(f.GSRNs))
	}
	if f.Technology != "" {
		q = q.Where("EXISTS (SELECT 1 FROM technologies t WHERE t.technology_code = mp.technology_code AND t.fuel_code = mp.fuel_code AND t.label = ?)", f.Technology)
	}
	return q
}

var meteringPointOrder = relay.Order{Columns: []string{"mp.gsrn"}}

// MeteringPoints returns one page of the user's metering points, by GSRN.
func (s *Service) MeteringPoints(ctx context.Context, userID int64, f MeteringPointFilter, args relay.Args) (*relay.Connection[models.MeteringPoint], error) {
	q := s.db.NewSelect().Model((*models.MeteringPoint)(nil)).Where("mp.user_id = ?", userID).Apply(f.apply)
	return relay.Paginate(ctx, q, args, meteringPointOrder, func(m *models.MeteringPoint) []any { return []any{m.GSRN} })
}

// MeteringPointsByIDs returns the user's metering points among ids, keyed by id.
func (s *Service) MeteringPointsByIDs(ctx context.Context, userID int64, ids []int64) (map[int64]models.MeteringPoint, error) {
	var rows []models.MeteringPoint
	if err := s.db.NewSelect().Model(&rows).Where("mp.user_id = ? AND mp.id IN (?)", userID, bun.In(ids)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("load metering points: %w", err)
	}
	return db.Keyed(rows, func(m *models.MeteringPoint) int64 { return m.ID }), nil
}

// MeteringPointByGSRN returns the user's metering point with gsrn; ErrNotFound otherwise
// (including when it is someone else's).
func (s *Service) MeteringPointByGSRN(ctx context.Context, userID int64, gsrn string) (models.MeteringPoint, error) {
	var mp models.MeteringPoint
	err := s.db.NewSelect().Model(&mp).Where("mp.user_id = ? AND mp.gsrn = ?", userID, gsrn).Scan(ctx)
	if isNoRows(err) {
		return mp, ErrNotFound
	}
	if err != nil {
		return mp, fmt.Errorf("load metering point: %w", err)
	}
	return mp, nil
}

// MeasurementFilter narrows measurements of the user's metering points.
type MeasurementFilter struct {
	MeteringPointIDs []int64
	Points           MeteringPointFilter
	From, Until      *time.Time // begin in [From, Until)
}

func (f MeasurementFilter) apply(userID int64) func(q *bun.SelectQuery) *bun.SelectQuery {
	return func(q *bun.SelectQuery) *bun.SelectQuery {
		// Only the caller's points; the join also feeds the point filters.
		q = q.Join("JOIN metering_points AS mp ON mp.id = m.metering_point_id").Where("mp.user_id = ?", userID)
		q = f.Points.apply(q)
		if len(f.MeteringPointIDs) > 0 {
			q = q.Where("m.metering_point_id IN (?)", bun.In(f.MeteringPointIDs))
		}
		if f.From != nil {
			q = q.Where("m.begin_at >= ?", *f.From)
		}
		if f.Until != nil {
			q = q.Where("m.begin_at < ?", *f.Until)
		}
		return q
	}
}

// The primary key (metering_point_id, begin_at) serves this order.
var measurementOrder = relay.Order{Columns: []string{"m.metering_point_id", "m.begin_at"}}

// Measurements returns one page of measurements of the user's metering points, by
// metering point then hour.
func (s *Service) Measurements(ctx context.Context, userID int64, f MeasurementFilter, args relay.Args) (*relay.Connection[models.Measurement], error) {
	if err := f.validate(); err != nil {
		return nil, err
	}
	q := s.db.NewSelect().Model((*models.Measurement)(nil)).Apply(f.apply(userID))
	return relay.Paginate(ctx, q, args, measurementOrder, func(m *models.Measurement) []any {
		return []any{m.MeteringPointID, m.BeginAt}
	})
}

func (f MeasurementFilter) validate() error {
	if f.From != nil && f.Until != nil && !f.From.Before(*f.Until) {
		return &InputError{Field: "where.begin", Message: "gte must be before lt"}
	}
	return nil
}

// Resolution is a series' bucket size.
type Resolution string

// Resolutions.
const (
	Hour  Resolution = "HOUR"
	Day   Resolution = "DAY"
	Month Resolution = "MONTH"
	Year  Resolution = "YEAR"
)

func (r Resolution) unit() (string, bool) {
	switch r {
	case Hour:
		return "hour", true
	case Day:
		return "day", true
	case Month:
		return "month", true
	case Year:
		return "year", true
	}
	return "", false
}

// GroupBy splits a series.
type GroupBy string

// Groupings.
const (
	GroupByMeteringPoint GroupBy = "METERING_POINT"
	GroupByType          GroupBy = "TYPE"
	GroupBySector        GroupBy = "SECTOR"
	GroupByTechnology    GroupBy = "TECHNOLOGY"
)

// SeriesRow is one bucket of one group.
type SeriesRow struct {
	GSRN       string           `bun:"gsrn"`
	Type       string           `bun:"type"`
	Sector     string           `bun:"sector"`
	Technology string           `bun:"technology"`
	Begin      time.Time        `bun:"bucket"`
	AmountWh   models.WattHours `bun:"amount_wh"`
	Readings   int              `bun:"readings"`
}

// maxSeriesRows bounds one series answer; ask for a coarser resolution or a shorter span.
const maxSeriesRows = 100_000

// Series sums the user's measurements in SQL by bucket (in timeZone, e.g. Europe/Copenhagen
// for Danish days) and by the requested groups, ordered by group then bucket.
// Errors: ErrInvalidInput for a bad resolution, time zone or range, or a result over
// maxSeriesRows.
func (s *Service) Series(ctx context.Context, userID int64, f MeasurementFilter, res Resolution, groupBy []GroupBy, timeZone string) ([]SeriesRow, error) {
	unit, ok := res.unit()
	if !ok {
		return nil, &InputError{Field: "resolution", Message: "unknown resolution"}
	}
	if err := f.validate(); err != nil {
		return nil, err
	}
	if timeZone == "" {
		timeZone = "UTC"
	}
	if _, err := time.LoadLocation(timeZone); err != nil {
		return nil, &InputError{Field: "timeZone", Message: "unknown time zone " + timeZone}
	}
	cols := map[GroupBy]string{
		GroupByMeteringPoint: "mp.gsrn",
		GroupByType:          "mp.type",
		GroupBySector:        "mp.sector",
		GroupByTechnology:    "coalesce(t.label, '')",
	}
	alias := map[GroupBy]string{GroupByMeteringPoint: "gsrn", GroupByType: "type", GroupBySector: "sector", GroupByTechnology: "technology"}
	q := s.db.NewSelect().Model((*models.Measurement)(nil)).Apply(f.apply(userID)).
		ColumnExpr("date_trunc(?, m.begin_at, ?) AS bucket", unit, timeZone).
		ColumnExpr("sum(m.amount_wh)::bigint AS amount_wh").
		ColumnExpr("count(*)::int AS readings")
	seen := map[GroupBy]bool{}
	var groupCols []string
	for _, g := range groupBy {
		col, ok := cols[g]
		if !ok {
			return nil, &InputError{Field: "groupBy", Message: "unknown grouping " + string(g)}
		}
		if seen[g] {
			continue
		}
		seen[g] = true
		if g == GroupByTechnology {
			q = q.Join("LEFT JOIN technologies AS t ON t.technology_code = mp.technology_code AND t.fuel_code = mp.fuel_code")
		}
		q = q.ColumnExpr(col + " AS " + alias[g])
		groupCols = append(groupCols, col)
	}
	for _, c := range groupCols {
		q = q.GroupExpr(c).OrderExpr(c)
	}
	q = q.GroupExpr("bucket").OrderExpr("bucket").Limit(maxSeriesRows + 1)
	var rows []SeriesRow
	if err := q.Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("measurement series: %w", err)
	}
	if len(rows) > maxSeriesRows {
		return nil, &InputError{Field: "resolution", Message: fmt.Sprintf("more than %d buckets: use a coarser resolution or a shorter range", maxSeriesRows)}
	}
	return rows, nil
}

// ImportJobs returns one page of the user's import jobs, newest first.
func (s *Service) ImportJobs(ctx context.Context, userID int64, args relay.Args) (*relay.Connection[models.ImportJob], error) {
	q := s.db.NewSelect().Model((*models.ImportJob)(nil)).Where("ij.user_id = ?", userID)
	return relay.Paginate(ctx, q, args, relay.Order{Columns: []string{"ij.created_at", "ij.id"}, Desc: true}, func(j *models.ImportJob) []any {
		return []any{j.CreatedAt, j.ID}
	})
}

// ImportJobsByIDs returns the user's jobs among ids, keyed by id.
func (s *Service) ImportJobsByIDs(ctx context.Context, userID int64, ids []int64) (map[int64]models.ImportJob, error) {
	var rows []models.ImportJob
	if err := s.db.NewSelect().Model(&rows).Where("ij.user_id = ? AND ij.id IN (?)", userID, bun.In(ids)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("load import jobs: %w", err)
	}
	return db.Keyed(rows, func(j *models.ImportJob) int64 { return j.ID }), nil
}

// MeteringPointIDs lists the ids of the user's metering points.
func (s *Service) MeteringPointIDs(ctx context.Context, userID int64) ([]int64, error) {
	var ids []int64
	if err := s.db.NewSelect().Model((*models.MeteringPoint)(nil)).Column("id").Where("user_id = ?", userID).Order("id").Scan(ctx, &ids); err != nil {
		return nil, fmt.Errorf("list metering points: %w", err)
	}
	return ids, nil
}

// ConsumptionPoints returns the user's consumption points among gsrns (all of them when
// gsrns is empty), by GSRN. Errors: *InputError on field naming every GSRN that is not one
// of the user's consumption points (theirs or not, so GSRNs of others cannot be probed).
func ConsumptionPoints(ctx context.Context, db bun.IDB, userID int64, gsrns []string, field string) ([]models.MeteringPoint, error) {
	var rows []models.MeteringPoint
	q := db.NewSelect().Model(&rows).Where("mp.user_id = ? AND mp.type = ?", userID, models.MeteringPointConsumption).Order("mp.gsrn")
	if len(gsrns) > 0 {
		q = q.Where("mp.gsrn IN (?)", bun.In(gsrns))
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("load consumption points: %w", err)
	}
	if len(gsrns) > 0 && len(rows) != len(gsrns) {
		found := make(map[string]bool, len(rows))
		for _, r := range rows {
			found[r.GSRN] = true
		}
		var missing []string
		for _, g := range gsrns {
			if !found[g] {
				missing = append(missing, g)
			}
		}
		return nil, &InputError{Field: field, Message: "not consumption metering points of yours: " + strings.Join(missing, ", ")}
	}
	return rows, nil
}

// The nullable views of a series row's groups, bound to GraphQL as plain methods: a series
// can have thousands of rows, and field resolvers would cost a goroutine each.

// GSRNGroup is the row's GSRN, nil when not grouped by metering point.
func (r SeriesRow) GSRNGroup() *string { return models.NonEmpty[string](r.GSRN) }

// TypeGroup is the row's metering point type, nil when not grouped by it.
func (r SeriesRow) TypeGroup() *models.MeteringPointType {
	return models.NonEmpty[models.MeteringPointType](r.Type)
}

// SectorGroup is the row's sector, nil when not grouped by it.
func (r SeriesRow) SectorGroup() *models.Sector { return models.NonEmpty[models.Sector](r.Sector) }

// TechnologyGroup is the row's technology label, nil when not grouped by it.
func (r SeriesRow) TechnologyGroup() *string { return models.NonEmpty[string](r.Technology) }
