package account

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/originhub/originhub/internal/db"
	"github.com/originhub/originhub/internal/relay"
	"github.com/originhub/originhub/models"
)

// Filter narrows a user's GGOs; empty fields match everything.
type Filter struct {
	States       []models.GgoState
	Origins      []models.GgoOrigin
	From, Until  *time.Time // begin in [From, Until)
	Sectors      []models.Sector
	Technologies []string // labels
	FuelCodes    []string
	GSRNs        []string // issuing production points
}

// Validate checks the filter's ranges.
func (f Filter) Validate() error {
	if f.From != nil && f.Until != nil && !f.From.Before(*f.Until) {
		return &InputError{Field: "where.begin", Message: "gte must be before lt"}
	}
	return nil
}

func (f Filter) apply(q *bun.SelectQuery) *bun.SelectQuery {
	if len(f.States) > 0 {
		q = q.Where("g.state IN (?)", bun.In(f.States))
	}
	if len(f.Origins) > 0 {
		q = q.Where("g.origin IN (?)", bun.In(f.Origins))
	}
	if f.From != nil {
		q = q.Where("g.begin_at >= ?", *f.From)
	}
	if f.Until != nil {
		q = q.Where("g.begin_at < ?", *f.Until)
	}
	if len(f.Sectors) > 0 {
		q = q.Where("g.sector IN (?)", bun.In(f.Sectors))
	}
	if len(f.Technologies) > 0 {
		q = q.Where("EXISTS (SELECT 1 FROM technologies t WHERE t.technology_code = g.technology_code AND t.fuel_code = g.fuel_code AND t.label IN (?))", bun.In(f.Technologies))
	}
	if len(f.FuelCodes) > 0 {
		q = q.Where("g.fuel_code IN (?)", bun.In(f.FuelCodes))
	}
	if len(f.GSRNs) > 0 {
		q = q.Where("g.metering_point_id IN (SELECT id FROM metering_points WHERE gsrn IN (?))", bun.In(f.GSRNs))
	}
	return q
}

// Order of GGO lists: by hour, then id. Served by ggos_user_id_state_begin_at_idx when a
// state is given.
var ggoOrder = relay.Order{Columns: []string{"g.begin_at", "g.id"}}

// List returns one page of the user's GGOs. Parts in flight (PENDING) are listed with their
// state, so a client sees what is on its way.
func (s *Service) List(ctx context.Context, userID int64, f Filter, args relay.Args) (*relay.Connection[models.Ggo], error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	q := s.db.NewSelect().Model((*models.Ggo)(nil)).Where("g.user_id = ?", userID).Apply(f.apply)
	return relay.Paginate(ctx, q, args, ggoOrder, func(g *models.Ggo) []any { return []any{g.BeginAt, g.ID} })
}

// ByIDs returns the user's GGOs among ids, keyed by id.
func (s *Service) ByIDs(ctx context.Context, userID int64, ids []int64) (map[int64]models.Ggo, error) {
	var rows []models.Ggo
	if err := s.db.NewSelect().Model(&rows).Where("g.user_id = ? AND g.id IN (?)", userID, bun.In(ids)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("load ggos: %w", err)
	}
	return db.Keyed(rows, func(g *models.Ggo) int64 { return g.ID }), nil
}

// Available sums the user's STORED, unexpired GGOs matching f.
func (s *Service) Available(ctx context.Context, userID int64, f Filter) (models.WattHours, error) {
	f.States = []models.GgoState{models.GgoStored}
	var sum int64
	err := s.db.NewSelect().Model((*models.Ggo)(nil)).ColumnExpr("coalesce(sum(g.amount_wh), 0)::bigint").
		Where("g.user_id = ?", userID).Where("g.expires_at > ?", s.clock()).Apply(f.apply).Scan(ctx, &sum)
	if err != nil {
		return 0, fmt.Errorf("sum available ggos: %w", err)
	}
	return models.WattHours(sum), nil
}

// Resolution is a summary's bucket size.
type Resolution string

// Resolutions.
const (
	Hour  Resolution = "HOUR"
	Day   Resolution = "DAY"
	Month Resolution = "MONTH"
	Year  Resolution = "YEAR"
)

var units = map[Resolution]string{Hour: "hour", Day: "day", Month: "month", Year: "year"}

// GroupBy splits a summary.
type GroupBy string

// Groupings.
const (
	GroupByTechnology GroupBy = "TECHNOLOGY"
	GroupBySector     GroupBy = "SECTOR"
	GroupByState      GroupBy = "STATE"
	GroupByOrigin     GroupBy = "ORIGIN"
)

var groupColumns = map[GroupBy]struct{ expr, alias string }{
	GroupByTechnology: {"coalesce(t.label, 'Unknown')", "technology"},
	GroupBySector:     {"g.sector", "sector"},
	GroupByState:      {"g.state", "state"},
	GroupByOrigin:     {"g.origin", "origin"},
}

// SummaryRow is one bucket of one group.
type SummaryRow struct {
	Begin      time.Time        `bun:"bucket"`
	AmountWh   models.WattHours `bun:"amount_wh"`
	Count      int              `bun:"n"`
	Technology string           `bun:"technology"`
	Sector     string           `bun:"sector"`
	State      string           `bun:"state"`
	Origin     string           `bun:"origin"`
}

// maxSummaryRows bounds one answer.
const maxSummaryRows = 100_000

// Summary sums the user's GGOs in SQL per bucket (cut in timeZone) and group, from the
// rollups (see summarySource), which always equal a plain sum over ggos. With
// fillGaps, every bucket of [where.begin.gte, where.begin.lt) appears for every group, with 0
// where there is nothing — it needs both range ends.
// Errors: ErrInvalidInput for bad arguments or more than maxSummaryRows rows.
func (s *Service) Summary(ctx context.Context, userID int64, f Filter, res Resolution, groupBy []GroupBy, timeZone string, fillGaps bool) ([]SummaryRow, error) {
	unit, ok := units[res]
	if !ok {
		return nil, &InputError{Field: "resolution", Message: "unknown resolution"}
	}
	if err := f.Validate(); err != nil {
		return nil, err
	}
	if timeZone == "" {
		timeZone = "UTC"
	}
	if _, err := time.LoadLocation(timeZone); err != nil {
		return nil, &InputError{Field: "timeZone", Message: "unknown time zone " + timeZone}
	}
	if fillGaps && (f.From == nil || f.Until == nil) {
		return nil, &InputError{Field: "fillGaps", Message: "needs where.begin with both gte and lt"}
	}
	var groups []string
	seen := map[GroupBy]bool{}
	q, count := s.summarySource(userID, f, res, timeZone)
	q = q.Where("g.user_id = ?", userID).Apply(f.apply)
	for _, g := range groupBy {
		col, ok := groupColumns[g]
		if !ok {
			return nil, &InputError{Field: "groupBy", Message: "unknown grouping " + string(g)}
		}
		if seen[g] {
			continue
		}
		seen[g] = true
		if g == GroupByTechnology {
			q = q.Join("LEFT JOIN technologies AS t ON t.technology_code = g.technology_code AND t.fuel_code = g.fuel_code")
		}
		q = q.ColumnExpr(col.expr + " AS " + col.alias)
		groups = append(groups, col.alias)
	}
	q = q.ColumnExpr("date_trunc(?, g.begin_at, ?) AS bucket", unit, timeZone).
		ColumnExpr("sum(g.amount_wh)::bigint AS amount_wh").ColumnExpr(count + "::int AS n").
		GroupExpr("bucket")
	for _, a := range groups {
		q = q.GroupExpr(a)
	}
	if count != "count(*)" {
		// Base and deltas of GGOs that all moved on cancel out; like a sum over ggos, the
		// answer has no row for them.
		q = q.Having(count + " <> 0")
	}
	var rows []SummaryRow
	var err error
	if fillGaps {
		rows, err = s.filled(ctx, q, groups, unit, timeZone, *f.From, *f.Until)
	} else {
		for _, a := range groups {
			q = q.OrderExpr(a)
		}
		err = q.OrderExpr("bucket").Limit(maxSummaryRows+1).Scan(ctx, &rows)
	}
	if err != nil {
		return nil, fmt.Errorf("ggo summary: %w", err)
	}
	if len(rows) > maxSummaryRows {
		return nil, &InputError{Field: "resolution", Message: fmt.Sprintf("more than %d rows: use a coarser resolution or a shorter range", maxSummaryRows)}
	}
	return rows, nil
}

// filled joins the sums onto every bucket of the range for every group that has data (or
// the single empty group), in SQL.
func (s *Service) filled(ctx context.Context, sums *bun.SelectQuery, groups []string, unit, tz string, from, until time.Time) ([]SummaryRow, error) {
	groupList := "NULL::text AS none"
	joinOn := "TRUE"
	selectGroups := ""
	order := ""
	if len(groups) > 0 {
		groupList = ""
		for i, a := range groups {
			if i > 0 {
				groupList += ", "
				joinOn += " AND "
			} else {
				joinOn = ""
			}
			groupList += a
			joinOn += "s." + a + " IS NOT DISTINCT FROM k." + a
			selectGroups += ", k." + a
			order += "k." + a + ", "
		}
	}
	var rows []SummaryRow
	err := s.db.NewRaw(`
		WITH sums AS (?),
		keys AS (SELECT DISTINCT `+groupList+` FROM sums UNION ALL SELECT `+nullKeys(groups)+` WHERE NOT EXISTS (SELECT 1 FROM sums)),
		buckets AS (
			-- Stepped in local time, so days and months follow the zone's calendar across DST.
			SELECT gs AT TIME ZONE ? AS b
			FROM generate_series(date_trunc(?, ?::timestamptz AT TIME ZONE ?),
			                     (?::timestamptz AT TIME ZONE ?) - interval '1 microsecond',
			                     ('1 ' || ?)::interval) AS gs)
		SELECT buckets.b AS bucket, coalesce(s.amount_wh, 0)::bigint AS amount_wh, coalesce(s.n, 0)::int AS n`+selectGroups+`
		FROM buckets CROSS JOIN keys k
		LEFT JOIN sums s ON s.bucket = buckets.b AND `+joinOn+`
		ORDER BY `+order+`bucket
		LIMIT ?`, sums, tz, unit, from, tz, until, tz, unit, maxSummaryRows+1).Scan(ctx, &rows)
	return rows, err
}

func nullKeys(groups []string) string {
	if len(groups) == 0 {
		return "NULL::text"
	}
	out := ""
	for i := range groups {
		if i > 0 {
			out += ", "
		}
		out += "NULL::text"
	}
	return out
}

// Operations returns one page of the user's operations, newest first.
func (s *Service) Operations(ctx context.Context, userID int64, args relay.Args) (*relay.Connection[models.GgoOperation], error) {
	q := s.db.NewSelect().Model((*models.GgoOperation)(nil)).Where("op.user_id = ?", userID)
	return relay.Paginate(ctx, q, args, relay.Order{Columns: []string{"op.created_at", "op.id"}, Desc: true}, func(o *models.GgoOperation) []any {
		return []any{o.CreatedAt, o.ID}
	})
}

// OperationsByIDs returns the user's operations among ids, keyed by id.
func (s *Service) OperationsByIDs(ctx context.Context, userID int64, ids []int64) (map[int64]models.GgoOperation, error) {
	var rows []models.GgoOperation
	if err := s.db.NewSelect().Model(&rows).Where("op.user_id = ? AND op.id IN (?)", userID, bun.In(ids)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("load operations: %w", err)
	}
	return db.Keyed(rows, func(o *models.GgoOperation) int64 { return o.ID }), nil
}

// AccountReferences returns the account references of users, keyed by user id. References
// are what users share to receive GGOs, so showing a counterpart's is no leak.
func (s *Service) AccountReferences(ctx context.Context, ids []int64) (map[int64]string, error) {
	return accountReferences(ctx, s.db, ids)
}

func accountReferences(ctx context.Context, db bun.IDB, ids []int64) (map[int64]string, error) {
	var rows []models.User
	if err := db.NewSelect().Model(&rows).Column("id", "account_reference").Where("id IN (?)", bun.In(ids)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("load account references: %w", err)
	}
	out := make(map[int64]string, len(rows))
	for _, r := range rows {
		out[r.ID] = r.AccountReference
	}
	return out, nil
}

// HourKey names a metering point's hour.
type HourKey struct {
	MeteringPointID int64
	Begin           time.Time
}

// Revisions returns the latest DataHub revision of each production hour among keys. A GGO
// whose production was revised after it was issued is flagged with it: the ledger's
// measurement is immutable, so the GGO keeps its amount and its holder is told.
func (s *Service) Revisions(ctx context.Context, keys []HourKey) (map[HourKey]models.MeasurementRevision, error) {
	pairs := make([][]any, len(keys))
	for i, k := range keys {
		pairs[i] = []any{k.MeteringPointID, k.Begin.UTC()}
	}
	var rows []models.MeasurementRevision
	err := s.db.NewRaw(`SELECT DISTINCT ON (metering_point_id, begin_at) * FROM measurement_revisions
		WHERE (metering_point_id, begin_at) IN (?) ORDER BY metering_point_id, begin_at, revised_at DESC, id DESC`, bun.In(pairs)).Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("load revisions: %w", err)
	}
	return db.Keyed(rows, func(r *models.MeasurementRevision) HourKey { return HourKey{r.MeteringPointID, r.BeginAt.UTC()} }), nil
}

// The nullable views of a summary row's groups, bound to GraphQL as plain methods: a
// summary can have thousands of rows, and field resolvers would cost a goroutine each.

// TechnologyGroup is the row's technology label, nil when not grouped by it.
func (r SummaryRow) TechnologyGroup() *string { return models.NonEmpty[string](r.Technology) }

// SectorGroup is the row's sector, nil when not grouped by it.
func (r SummaryRow) SectorGroup() *models.Sector { return models.NonEmpty[models.Sector](r.Sector) }

// StateGroup is the row's state, nil when not grouped by it.
func (r SummaryRow) StateGroup() *models.GgoState { return models.NonEmpty[models.GgoState](r.State) }

// OriginGroup is the row's origin, nil when not grouped by it.
func (r SummaryRow) OriginGroup() *models.GgoOrigin {
	return models.NonEmpty[models.GgoOrigin](r.Origin)
}
