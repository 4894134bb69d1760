package eloverblik

import (
	"fmt"
	"time"
)

func (p *Parser) problem(e *ReadingError) error {
	p.stats.Problems++
	if p.sink.Problem == nil {
		return nil
	}
	if err := p.sink.Problem(e); err != nil {
		return fmt.Errorf("handle problem: %w", err)
	}
	return nil
}

// periodProblem reports kind once per point of the period, so that every
// reading that is dropped is accounted for.
func (p *Parser) periodProblem(gsrn string, pd *period, kind ProblemKind, detail string) error {
	if len(pd.pts) == 0 {
		return p.problem(&ReadingError{Kind: kind, GSRN: gsrn, Period: pd.index, Detail: detail})
	}
	for _, pt := range pd.pts {
		if err := p.problem(&ReadingError{Kind: kind, GSRN: gsrn, Period: pd.index, Position: pt.pos, Detail: detail}); err != nil {
			return err
		}
	}
	return nil
}

// maxPeriodSteps bounds the positions of a period whose end is unknown (a
// year of quarter hours); it sizes the duplicate check.
const maxPeriodSteps = 366 * 24 * 4

func (p *Parser) emit(ts *tsState, pd *period) error {
	if ts.gsrn == "" {
		return p.periodProblem("", pd, ProblemMissingGSRN, "TimeSeries has no mRID")
	}
	var scale int
	var ok bool
	if ts.unitLen >= 0 {
		scale, ok = unitScale(ts.unit[:ts.unitLen])
	}
	if !ok {
		u := ts.unitRaw
		if u == "" && ts.unitLen > 0 {
			u = string(ts.unit[:ts.unitLen])
		}
		return p.periodProblem(ts.gsrn, pd, ProblemUnknownUnit, fmt.Sprintf("unit %q", u))
	}
	if pd.startState != 1 {
		return p.periodProblem(ts.gsrn, pd, ProblemBadInterval, "timeInterval.start missing or not RFC 3339")
	}
	var step time.Duration
	switch pd.resolution {
	case "PT1H":
		step = time.Hour
	case "PT15M":
		step = 15 * time.Minute
		if !pd.start.Equal(pd.start.Truncate(time.Hour)) {
			return p.periodProblem(ts.gsrn, pd, ProblemBadInterval, "PT15M period does not start on a whole hour")
		}
	default:
		return p.periodProblem(ts.gsrn, pd, ProblemBadResolution, fmt.Sprintf("resolution %q", pd.resolution))
	}
	maxPos := int64(maxPeriodSteps)
	if pd.endOK {
		if !pd.end.After(pd.start) {
			return p.periodProblem(ts.gsrn, pd, ProblemBadInterval, "timeInterval.end not after start")
		}
		if n := int64(pd.end.Sub(pd.start) / step); n < maxPos {
			maxPos = n
		}
	}
	words := int(maxPos/64) + 1
	if cap(p.seen) < words {
		p.seen = make([]uint64, words)
	}
	p.seen = p.seen[:words]
	clear(p.seen)

	if step == time.Hour {
		return p.emitHourly(ts, pd, scale, maxPos)
	}
	return p.emitQuarters(ts, pd, scale, maxPos)
}

// checkPoint validates a point's position and quantity, reporting a problem
// when it is unusable. ok is false when the point must be dropped.
func (p *Parser) checkPoint(ts *tsState, pd *period, pt *rawPoint, scale int, maxPos int64, step time.Duration) (wh int64, ok bool, err error) {
	if pt.posState != 1 || pt.pos > maxPos {
		return 0, false, p.problem(&ReadingError{Kind: ProblemBadPosition, GSRN: ts.gsrn, Period: pd.index, Position: pt.pos,
			Detail: fmt.Sprintf("position missing or outside 1..%d", maxPos)})
	}
	begin := pd.start.Add(time.Duration(pt.pos-1) * step)
	w, bit := pt.pos/64, uint64(1)<<(pt.pos%64)
	if p.seen[w]&bit != 0 {
		return 0, false, p.problem(&ReadingError{Kind: ProblemDuplicatePosition, GSRN: ts.gsrn, Period: pd.index, Position: pt.pos, Begin: begin,
			Detail: "position repeated"})
	}
	p.seen[w] |= bit
	switch pt.qState {
	case 0:
		return 0, false, p.problem(&ReadingError{Kind: ProblemMissingQuantity, GSRN: ts.gsrn, Period: pd.index, Position: pt.pos, Begin: begin,
			Detail: "out_Quantity.quantity missing or null"})
	case 2:
		return 0, false, p.problem(&ReadingError{Kind: ProblemBadQuantity, GSRN: ts.gsrn, Period: pd.index, Position: pt.pos, Begin: begin,
			Detail: "out_Quantity.quantity is not a string or number"})
	}
	q := pd.arena[pt.qOff : pt.qOff+pt.qLen]
	wh, qerr := parseQuantity(q, scale)
	if qerr != nil {
		kind := ProblemBadQuantity
		if qerr == errQuantityEmpty {
			kind = ProblemMissingQuantity
		}
		return 0, false, p.problem(&ReadingError{Kind: kind, GSRN: ts.gsrn, Period: pd.index, Position: pt.pos, Begin: begin,
			Detail: fmt.Sprintf("quantity %q: %v", q, qerr)})
	}
	return wh, true, nil
}

func (p *Parser) emitHourly(ts *tsState, pd *period, scale int, maxPos int64) error {
	for i := range pd.pts {
		pt := &pd.pts[i]
		wh, ok, err := p.checkPoint(ts, pd, pt, scale, maxPos, time.Hour)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		begin := pd.start.Add(time.Duration(pt.pos-1) * time.Hour)
		p.stats.Readings++
		if err := p.sink.Reading(Reading{GSRN: ts.gsrn, Begin: begin, End: begin.Add(time.Hour), Wh: wh, Quality: pt.quality}); err != nil {
			return fmt.Errorf("handle reading: %w", err)
		}
	}
	return nil
}

// emitQuarters sums PT15M points into hours. An hour is delivered only when
// all four quarters are present and valid; its quality is the worst of the
// four. An hour with one to three valid quarters is reported as
// ProblemIncompleteHour (quarters that were invalid are reported on their own).
func (p *Parser) emitQuarters(ts *tsState, pd *period, scale int, maxPos int64) error {
	nHours := int((maxPos + 3) / 4)
	if cap(p.hours) < nHours {
		p.hours = make([]hourAcc, nHours)
	}
	p.hours = p.hours[:nHours]
	clear(p.hours)
	for i := range pd.pts {
		pt := &pd.pts[i]
		wh, ok, err := p.checkPoint(ts, pd, pt, scale, maxPos, 15*time.Minute)
		if err != nil {
			return err
		}
		if pt.posState != 1 || pt.pos > maxPos {
			continue
		}
		h := &p.hours[(pt.pos-1)/4]
		if !ok {
			h.bad = true
			continue
		}
		if h.wh > maxInt64-wh {
			h.bad = true
			continue
		}
		h.wh += wh
		h.n++
		if h.n == 1 || qualityRank(pt.quality) > qualityRank(h.quality) {
			h.quality = pt.quality
		}
	}
	for i := range p.hours {
		h := &p.hours[i]
		if h.n == 0 && !h.bad {
			continue
		}
		begin := pd.start.Add(time.Duration(i) * time.Hour)
		if h.n != 4 || h.bad {
			if err := p.problem(&ReadingError{Kind: ProblemIncompleteHour, GSRN: ts.gsrn, Period: pd.index, Position: int64(i*4 + 1), Begin: begin,
				Detail: fmt.Sprintf("%d of 4 valid quarter hours", h.n)}); err != nil {
				return err
			}
			continue
		}
		p.stats.Readings++
		if err := p.sink.Reading(Reading{GSRN: ts.gsrn, Begin: begin, End: begin.Add(time.Hour), Wh: h.wh, Quality: h.quality}); err != nil {
			return fmt.Errorf("handle reading: %w", err)
		}
	}
	return nil
}
