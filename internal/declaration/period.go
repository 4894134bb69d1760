package declaration

import (
	"fmt"
	"strings"
	"time"
)

// Resolution is the length of the periods a declaration is totalled over.
type Resolution int

// The resolutions, finest first.
const (
	Hour Resolution = iota
	Day
	Month
	Year
	All
)

// ParseResolution reads "hour", "day", "month", "year" or "all" (any case).
func ParseResolution(s string) (Resolution, error) {
	for r := Hour; r <= All; r++ {
		if strings.EqualFold(s, r.String()) {
			return r, nil
		}
	}
	return 0, fmt.Errorf("%w: resolution %q is not one of hour, day, month, year, all", ErrInvalidInput, s)
}

// String names the resolution.
func (r Resolution) String() string {
	switch r {
	case Hour:
		return "hour"
	case Day:
		return "day"
	case Month:
		return "month"
	case Year:
		return "year"
	case All:
		return "all"
	}
	return "invalid"
}

// start returns the start of the period holding t, in loc.
func (r Resolution) start(t time.Time, loc *time.Location) time.Time {
	t = t.In(loc)
	switch r {
	case Hour:
		return t.Truncate(time.Hour) // whole UTC hours are whole local hours in every zone we serve
	case Day:
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
	case Month:
		return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, loc)
	case Year:
		return time.Date(t.Year(), 1, 1, 0, 0, 0, 0, loc)
	}
	return time.Time{}
}

// Period is a declaration totalled over one period.
type Period struct {
	// Start is the period's first instant in the requested zone; zero for All.
	Start time.Time
	// Hours counts the sector-hours in the period.
	Hours      int
	Individual Summary
	General    Summary
}

// Periods totals the declaration's hours per period of res, cut in loc (an IANA zone such
// as Europe/Copenhagen, so a DST day has 23 or 25 hours), in time order. Periods without
// hours are left out.
//
// Errors: ErrOverflow.
func (d Declaration) Periods(res Resolution, loc *time.Location) ([]Period, error) {
	if loc == nil {
		loc = time.UTC
	}
	var out []Period
	var ind, gen tally
	var cur time.Time
	n := 0
	flush := func() error {
		if n == 0 {
			return nil
		}
		if ind.err != nil || gen.err != nil {
			return ErrOverflow
		}
		out = append(out, Period{Start: cur, Hours: n, Individual: ind.summary(), General: gen.summary()})
		ind, gen, n = tally{}, tally{}, 0
		return nil
	}
	for _, h := range d.Hours { // sorted by hour, so each period's hours are contiguous
		s := res.start(h.Hour, loc)
		if n > 0 && !s.Equal(cur) {
			if err := flush(); err != nil {
				return nil, err
			}
		}
		cur = s
		hi, hg := fromSummary(h.Individual), fromSummary(h.General)
		if err := ind.merge(&hi); err != nil {
			return nil, err
		}
		if err := gen.merge(&hg); err != nil {
			return nil, err
		}
		n++
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return out, nil
}

func fromSummary(s Summary) tally {
	t := tally{consumed: s.ConsumedWh, retired: s.RetiredWh, matched: s.MatchedWh, excess: s.ExcessWh,
		undeclared: s.UndeclaredWh, emissions: s.EmissionsUG, techs: make(map[string]*TechAmount, len(s.Technologies))}
	for _, a := range s.Technologies {
		t.techs[a.Technology] = &a
	}
	return t
}
