// Package statistics computes public, anonymous totals of the platform's energy data per
// technology and sector over time, for analysts: production and consumption (hourly
// measurements) and GGOs issued and retired.
//
// What is public is decided here, once:
//   - Only totals per (bucket, sector, technology, kind) are returned; never a user, a
//     metering point or a count of either.
//   - A total is published only when at least MinContributors distinct users contribute to
//     it; smaller groups are suppressed (counted, not shown), so no single user's data, nor
//     a pair's, can be read off a bucket.
//   - The range is widened to whole buckets (in the requested time zone), so two queries
//     with nearly the same range cannot be subtracted to isolate the hours between them.
//   - Filters (sector, technology, kind) only select whole groups, which are the same
//     groups whatever the filter, so they cannot be used for differencing either.
//
// Known limit: colluding users who are themselves contributors can subtract their own data
// from a bucket of exactly MinContributors users. A dominance rule or noise would address
// it; see docs/statistics.md.
package statistics

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"github.com/originhub/originhub/internal/input"
)

// MinContributors is the least number of distinct users behind a published total.
const MinContributors = 3

// maxGroups bounds one answer; ask for a coarser resolution or a shorter range instead.
const maxGroups = 100_000

// ErrInvalidInput is returned for a query that cannot be answered.
var ErrInvalidInput = input.ErrInvalid

// InputError names the refused field; its message is safe for clients.
type InputError = input.Error

// Kind is what a total measures.
type Kind string

// Kinds of totals.
const (
	Production  Kind = "PRODUCTION"  // measured production
	Consumption Kind = "CONSUMPTION" // measured consumption (no technology)
	Issued      Kind = "ISSUED"      // GGOs issued (committed)
	Retired     Kind = "RETIRED"     // GGOs retired to consumption (committed)
)

// Query selects totals.
type Query struct {
	From, To     time.Time
	Resolution   string // HOUR, DAY, MONTH or YEAR
	TimeZone     string // IANA zone buckets are cut in; default UTC
	Sectors      []string
	Technologies []string
	Kinds        []Kind // empty: all kinds
}

// Point is one published total.
type Point struct {
	Begin      time.Time
	Sector     string
	Technology string // empty for consumption
	Kind       Kind
	AmountWh   int64
}

// Result is the published totals and what was held back.
type Result struct {
	// From and To are the range widened to whole buckets.
	From, To time.Time
	Points   []Point
	// Suppressed counts the groups with fewer than MinContributors users.
	Suppressed int
}

// Service computes statistics.
type Service struct{ db *bun.DB }

// NewService returns a Service.
func NewService(db *bun.DB) *Service { return &Service{db: db} }

type group struct {
	Bucket       time.Time `bun:"bucket"`
	Sector       string    `bun:"sector"`
	Technology   string    `bun:"technology"`
	Kind         Kind      `bun:"kind"`
	AmountWh     int64     `bun:"amount_wh"`
	Contributors int       `bun:"contributors"`
}

// Totals returns the public totals of q, sorted by bucket, kind, sector and technology.
//
// Errors: ErrInvalidInput (an *InputError), database errors wrapped.
func (s *Service) Totals(ctx context.Context, q Query) (Result, error) {
	unit, loc, err := q.normalize()
	if err != nil {
		return Result{}, err
	}
	from, to := bucketStart(q.From, unit, loc), bucketStart(q.To.Add(-time.Nanosecond), unit, loc)
	to = next(to, unit, loc)
	res := Result{From: from.UTC(), To: to.UTC()}
	want := map[Kind]bool{}
	for _, k := range q.Kinds {
		want[k] = true
	}
	all := len(want) == 0
	var groups []group
	// Measurements: production per technology, consumption without one.
	if all || want[Production] || want[Consumption] {
		var rows []group
		qs := s.db.NewRaw(`SELECT date_trunc(?, m.begin_at, ?) AS bucket, mp.sector,
				CASE WHEN mp.type = 'PRODUCTION' THEN coalesce(t.label, 'Unknown') ELSE '' END AS technology,
				mp.type AS kind, sum(m.amount_wh)::bigint AS amount_wh, count(DISTINCT mp.user_id)::int AS contributors
			FROM measurements m
			JOIN metering_points mp ON mp.id = m.metering_point_id
			LEFT JOIN technologies t ON t.technology_code = mp.technology_code AND t.fuel_code = mp.fuel_code
			WHERE m.begin_at >= ? AND m.begin_at < ? AND (coalesce(cardinality(?::text[]), 0) = 0 OR mp.sector = ANY(?::text[]))
			GROUP BY 1, 2, 3, 4 LIMIT ?`, unit, q.TimeZone, res.From, res.To, pgdialect.Array(q.Sectors), pgdialect.Array(q.Sectors), maxGroups+1)
		if err := qs.Scan(ctx, &rows); err != nil {
			return Result{}, fmt.Errorf("measurement totals: %w", err)
		}
		groups = append(groups, rows...)
	}
	if all || want[Issued] || want[Retired] {
		var rows []group
		// An issued GGO counts as ISSUED whatever became of it (split, transferred, retired);
		// retired parts count as RETIRED. The two are separate groups.
		if err := s.db.NewRaw(`SELECT date_trunc(?0, g.begin_at, ?1) AS bucket, g.sector, coalesce(t.label, 'Unknown') AS technology,
				k.kind, sum(g.amount_wh)::bigint AS amount_wh, count(DISTINCT g.user_id)::int AS contributors
			FROM ggos g
			CROSS JOIN (VALUES ('ISSUED'), ('RETIRED')) AS k (kind)
			LEFT JOIN technologies t ON t.technology_code = g.technology_code AND t.fuel_code = g.fuel_code
			WHERE g.begin_at >= ?2 AND g.begin_at < ?3 AND (coalesce(cardinality(?5::text[]), 0) = 0 OR g.sector = ANY(?5::text[]))
			  AND ((k.kind = 'ISSUED' AND g.origin = 'ISSUED' AND g.state NOT IN ('PENDING', 'INVALID'))
			    OR (k.kind = 'RETIRED' AND g.state = 'RETIRED'))
			GROUP BY 1, 2, 3, 4 LIMIT ?4`, unit, q.TimeZone, res.From, res.To, maxGroups+1, pgdialect.Array(q.Sectors)).Scan(ctx, &rows); err != nil {
			return Result{}, fmt.Errorf("ggo totals: %w", err)
		}
		groups = append(groups, rows...)
	}
	if len(groups) > maxGroups {
		return Result{}, &InputError{Field: "resolution", Message: fmt.Sprintf("more than %d totals: use a coarser resolution or a shorter range", maxGroups)}
	}
	sectors, techs := set(q.Sectors), set(q.Technologies)
	for _, g := range groups {
		// Filters select whole groups, never parts of one (sectors are also narrowed in SQL).
		if !all && !want[g.Kind] || len(sectors) > 0 && !sectors[g.Sector] || len(techs) > 0 && !techs[g.Technology] {
			continue
		}
		if g.Contributors < MinContributors {
			res.Suppressed++
			continue
		}
		res.Points = append(res.Points, Point{Begin: g.Bucket.UTC(), Sector: g.Sector, Technology: g.Technology, Kind: g.Kind, AmountWh: g.AmountWh})
	}
	sort.Slice(res.Points, func(i, j int) bool {
		a, b := res.Points[i], res.Points[j]
		switch {
		case !a.Begin.Equal(b.Begin):
			return a.Begin.Before(b.Begin)
		case a.Kind != b.Kind:
			return a.Kind < b.Kind
		case a.Sector != b.Sector:
			return a.Sector < b.Sector
		}
		return a.Technology < b.Technology
	})
	return res, nil
}

func set(xs []string) map[string]bool {
	m := make(map[string]bool, len(xs))
	for _, x := range xs {
		m[x] = true
	}
	return m
}

func (q *Query) normalize() (string, *time.Location, error) {
	if q.TimeZone == "" {
		q.TimeZone = "UTC"
	}
	loc, err := time.LoadLocation(q.TimeZone)
	if err != nil || strings.EqualFold(q.TimeZone, "local") {
		return "", nil, &InputError{Field: "timeZone", Message: "unknown time zone " + q.TimeZone}
	}
	unit := strings.ToLower(q.Resolution)
	switch unit {
	case "hour", "day", "month", "year":
	default:
		return "", nil, &InputError{Field: "resolution", Message: "one of HOUR, DAY, MONTH, YEAR"}
	}
	if q.From.IsZero() || q.To.IsZero() || !q.From.Before(q.To) {
		return "", nil, &InputError{Field: "where.begin", Message: "gte and lt are required, gte before lt"}
	}
	if q.To.Sub(q.From) > 20*366*24*time.Hour {
		return "", nil, &InputError{Field: "where.begin", Message: "at most twenty years"}
	}
	for _, k := range q.Kinds {
		switch k {
		case Production, Consumption, Issued, Retired:
		default:
			return "", nil, &InputError{Field: "where.kind", Message: "unknown kind " + string(k)}
		}
	}
	return unit, loc, nil
}

// bucketStart is the start of t's bucket of unit in loc.
func bucketStart(t time.Time, unit string, loc *time.Location) time.Time {
	t = t.In(loc)
	switch unit {
	case "hour":
		return t.Truncate(time.Hour)
	case "day":
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
	case "month":
		return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, loc)
	}
	return time.Date(t.Year(), 1, 1, 0, 0, 0, 0, loc)
}

// next is the start of the bucket after the one starting at start.
func next(start time.Time, unit string, loc *time.Location) time.Time {
	switch unit {
	case "hour":
		return start.Add(time.Hour)
	case "day":
		return time.Date(start.Year(), start.Month(), start.Day()+1, 0, 0, 0, 0, loc)
	case "month":
		return time.Date(start.Year(), start.Month()+1, 1, 0, 0, 0, 0, loc)
	}
	return time.Date(start.Year()+1, 1, 1, 0, 0, 0, 0, loc)
}
