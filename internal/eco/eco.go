// Package eco computes a user's eco declaration from the database: it loads the hourly
// consumption of the user's consumption metering points, the GGOs retired to them (per hour
// and technology), and the residual and grid mixes, and runs declaration.Calculate.
//
// Every load is a SQL aggregate over the whole requested range: nothing is paged or
// truncated (the reference fetched at most 99,999 measurements and silently dropped the
// rest). A range is bounded only by MaxSpan, and a longer one is refused, never cut.
package eco

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/originhub/originhub/internal/datahub"
	"github.com/originhub/originhub/internal/declaration"
	"github.com/originhub/originhub/internal/residualmix"
	"github.com/originhub/originhub/models"
)

// MaxSpan is the longest range one declaration covers (about five years of hours).
const MaxSpan = 5 * 366 * 24 * time.Hour

// Service computes declarations.
type Service struct {
	db    *bun.DB
	mixes *residualmix.Store
}

// NewService returns a Service reading from db.
func NewService(db *bun.DB) *Service {
	return &Service{db: db, mixes: residualmix.NewStore(db)}
}

// Query is what to declare.
type Query struct {
	// GSRNs are the consumption metering points; empty means all of the user's.
	GSRNs []string
	// From and To are the range [From, To), whole UTC hours.
	From, To time.Time
	// TimeZone is an IANA zone (default UTC) that periods are cut in.
	TimeZone string
	// Resolution is the period length of Result.Periods.
	Resolution declaration.Resolution
}

// Result is a computed declaration with its periods.
type Result struct {
	Query
	Location    *time.Location
	Points      []models.MeteringPoint // sorted by GSRN
	Declaration declaration.Declaration
	Periods     []declaration.Period
}

// Normalize checks q and fills its defaults; the returned location is q.TimeZone's.
//
// Errors: ErrInvalidInput (an *InputError).
func (q *Query) Normalize() (*time.Location, error) {
	if q.TimeZone == "" {
		q.TimeZone = "UTC"
	}
	loc, err := time.LoadLocation(q.TimeZone)
	if err != nil || strings.EqualFold(q.TimeZone, "local") {
		return nil, &InputError{Field: "timeZone", Message: "unknown time zone " + q.TimeZone}
	}
	q.From, q.To = q.From.UTC(), q.To.UTC()
	switch {
	case q.From.IsZero() || q.To.IsZero():
		return nil, &InputError{Field: "where.begin", Message: "gte and lt are both required"}
	case !q.From.Truncate(time.Hour).Equal(q.From) || !q.To.Truncate(time.Hour).Equal(q.To):
		return nil, &InputError{Field: "where.begin", Message: "gte and lt must be whole hours"}
	case !q.From.Before(q.To):
		return nil, &InputError{Field: "where.begin", Message: "gte must be before lt"}
	case q.To.Sub(q.From) > MaxSpan:
		return nil, &InputError{Field: "where.begin", Message: "the range is longer than five years: ask for several declarations"}
	case q.Resolution < declaration.Hour || q.Resolution > declaration.All:
		return nil, &InputError{Field: "resolution", Message: "unknown resolution"}
	}
	seen := map[string]bool{}
	gsrns := q.GSRNs[:0:0]
	for _, g := range q.GSRNs {
		if !seen[g] {
			seen[g] = true
			gsrns = append(gsrns, g)
		}
	}
	sort.Strings(gsrns)
	q.GSRNs = gsrns
	return loc, nil
}

// Declare computes the declaration of the user's consumption points in q.
//
// Errors: ErrInvalidInput (an *InputError: bad query, or GSRNs that are not the user's
// consumption points, named in the message; someone else's point is reported the same way
// as a missing one), declaration errors wrapped, database errors wrapped.
func (s *Service) Declare(ctx context.Context, userID int64, q Query) (Result, error) {
	loc, err := q.Normalize()
	if err != nil {
		return Result{}, err
	}
	points, err := s.points(ctx, userID, q.GSRNs)
	if err != nil {
		return Result{}, err
	}
	ids := make([]int64, len(points))
	for i, p := range points {
		ids[i] = p.ID
	}
	in, err := s.Input(ctx, ids, q.From, q.To)
	if err != nil {
		return Result{}, err
	}
	d, err := declaration.Calculate(in)
	if err != nil {
		return Result{}, fmt.Errorf("calculate declaration: %w", err)
	}
	periods, err := d.Periods(q.Resolution, loc)
	if err != nil {
		return Result{}, fmt.Errorf("declaration periods: %w", err)
	}
	return Result{Query: q, Location: loc, Points: points, Declaration: d, Periods: periods}, nil
}

// points returns the user's consumption points among gsrns (all of them when gsrns is
// empty), sorted by GSRN.
func (s *Service) points(ctx context.Context, userID int64, gsrns []string) ([]models.MeteringPoint, error) {
	rows, err := datahub.ConsumptionPoints(ctx, s.db, userID, gsrns, "where.gsrn")
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, &InputError{Field: "where.gsrn", Message: "you have no consumption metering points"}
	}
	return rows, nil
}

// Input loads the declaration input of the consumption points ids in [from, to): the
// consumption per sector and hour, the GGOs retired to them per sector, hour and technology
// (committed retirements only, state RETIRED), and both mix tables of their sectors.
// Retired GGOs carry the default emission factor of their technology label (GGOs hold no
// emission data of their own); a label without one, such as Unknown, counts 0.
//
// Errors: database errors wrapped.
func (s *Service) Input(ctx context.Context, ids []int64, from, to time.Time) (declaration.Input, error) {
	var in declaration.Input
	if len(ids) == 0 {
		return in, nil
	}
	var consumed []struct {
		Sector   string    `bun:"sector"`
		BeginAt  time.Time `bun:"begin_at"`
		AmountWh int64     `bun:"amount_wh"`
	}
	if err := s.db.NewRaw(`SELECT mp.sector, m.begin_at, sum(m.amount_wh)::bigint AS amount_wh
		FROM measurements m JOIN metering_points mp ON mp.id = m.metering_point_id
		WHERE m.metering_point_id IN (?) AND m.begin_at >= ? AND m.begin_at < ?
		GROUP BY mp.sector, m.begin_at`, bun.In(ids), from, to).Scan(ctx, &consumed); err != nil {
		return in, fmt.Errorf("load consumption: %w", err)
	}
	retired, err := RetiredByHour(ctx, s.db, ids, from, to)
	if err != nil {
		return in, err
	}
	factors, err := s.mixes.DefaultFactors(ctx)
	if err != nil {
		return in, err
	}
	hours := map[declaration.Key]*declaration.HourInput{}
	hour := func(sector string, at time.Time) *declaration.HourInput {
		k := declaration.Key{Sector: sector, Hour: at.UTC()}
		h := hours[k]
		if h == nil {
			h = &declaration.HourInput{Sector: sector, Hour: k.Hour}
			hours[k] = h
		}
		return h
	}
	sectors := map[string]bool{}
	for _, c := range consumed {
		hour(c.Sector, c.BeginAt).ConsumedWh = c.AmountWh
		sectors[c.Sector] = true
	}
	for _, r := range retired {
		h := hour(r.Sector, r.BeginAt)
		h.Retired = append(h.Retired, declaration.Retired{Technology: r.Technology, Wh: r.AmountWh, CO2eqMgPerKWh: factors[r.Technology]})
		sectors[r.Sector] = true
	}
	in.Hours = make([]declaration.HourInput, 0, len(hours))
	for _, h := range hours {
		in.Hours = append(in.Hours, *h)
	}
	sectorList := make([]string, 0, len(sectors))
	for sct := range sectors {
		sectorList = append(sectorList, sct)
	}
	sort.Strings(sectorList)
	if len(sectorList) == 0 {
		return in, nil
	}
	if in.Residual, err = s.mixes.Table(ctx, residualmix.Residual, sectorList, from, to); err != nil {
		return in, err
	}
	if in.Grid, err = s.mixes.Table(ctx, residualmix.Grid, sectorList, from, to); err != nil {
		return in, err
	}
	return in, nil
}

// RetiredRow is the amount of GGOs of one technology retired in one hour to consumption
// points of one sector.
type RetiredRow struct {
	Sector     string    `bun:"sector"`
	BeginAt    time.Time `bun:"begin_at"`
	Technology string    `bun:"technology"`
	AmountWh   int64     `bun:"amount_wh"`
}

// RetiredByHour sums the GGOs retired (state RETIRED) to the consumption points ids with
// begin in [from, to), per sector of the consumption point, hour and technology label
// ("Unknown" for codes without a label). The ggos_retire_idx index serves it.
//
// Errors: database errors wrapped.
func RetiredByHour(ctx context.Context, db bun.IDB, ids []int64, from, to time.Time) ([]RetiredRow, error) {
	var rows []RetiredRow
	if err := db.NewRaw(`SELECT mp.sector, g.begin_at, coalesce(t.label, ?) AS technology, sum(g.amount_wh)::bigint AS amount_wh
		FROM ggos g
		JOIN metering_points mp ON mp.id = g.retire_metering_point_id
		LEFT JOIN technologies t ON t.technology_code = g.technology_code AND t.fuel_code = g.fuel_code
		WHERE g.retire_metering_point_id IN (?) AND g.state = 'RETIRED' AND g.begin_at >= ? AND g.begin_at < ?
		GROUP BY mp.sector, g.begin_at, 3`, declaration.Unknown, bun.In(ids), from, to).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("load retired ggos: %w", err)
	}
	return rows, nil
}
