package eloverblik

import (
	"fmt"
	"io"
	"time"
)

// Reading is one hour of energy of one metering point, as delivered by
// ParseTimeSeries. Begin and End are UTC and End = Begin + 1h.
type Reading struct {
	GSRN    string
	Begin   time.Time
	End     time.Time
	Wh      int64
	Quality string // out_Quantity.quality, e.g. QualityMeasured; "" when absent
}

// ProblemKind classifies a ReadingError.
type ProblemKind string

// The problems the time-series parser reports instead of failing the whole
// response.
const (
	ProblemMissingQuantity   ProblemKind = "missing_quantity"   // quantity absent, null or ""
	ProblemBadQuantity       ProblemKind = "bad_quantity"       // not a non-negative plain decimal, or out of range
	ProblemUnknownUnit       ProblemKind = "unknown_unit"       // measurement_Unit.name is not KWH or MWH
	ProblemBadResolution     ProblemKind = "bad_resolution"     // resolution other than PT1H or PT15M
	ProblemBadInterval       ProblemKind = "bad_interval"       // Period.timeInterval.start missing or unparsable
	ProblemBadPosition       ProblemKind = "bad_position"       // position missing, not ≥ 1, or past the period's end
	ProblemDuplicatePosition ProblemKind = "duplicate_position" // the same position twice in one period
	ProblemIncompleteHour    ProblemKind = "incomplete_hour"    // PT15M hour with fewer than four valid quarters
	ProblemMissingGSRN       ProblemKind = "missing_gsrn"       // TimeSeries without mRID
	ProblemEntryFailed       ProblemKind = "entry_failed"       // result entry with success=false or errorCode≠10000
)

// ReadingError reports one reading (or one whole period or result entry) that
// could not be turned into a Reading. The rest of the response is still
// delivered.
type ReadingError struct {
	Kind     ProblemKind
	GSRN     string    // "" when unknown
	Period   int       // 0-based index of the Period within its TimeSeries; -1 for entry problems
	Position int64     // 1-based Point position; 0 when not about one point
	Begin    time.Time // start of the reading when known
	Detail   string
}

// Error implements error.
func (e *ReadingError) Error() string {
	return fmt.Sprintf("eloverblik reading %s: gsrn %q period %d position %d: %s", e.Kind, e.GSRN, e.Period, e.Position, e.Detail)
}

// Sink receives what ParseTimeSeries finds. An error returned by either
// function stops the parse and is returned (wrapped) by ParseTimeSeries.
type Sink struct {
	// Reading receives each reading, in document order. Required.
	Reading func(Reading) error
	// Problem receives each ReadingError. When nil, problems are only counted.
	Problem func(*ReadingError) error
}

// Stats counts what a parse delivered.
type Stats struct {
	Readings int64
	Problems int64
}

// ParseTimeSeries streams the body of a GetTimeSeries response (§4.4 of the
// DataHub spec) into sink. It keeps at most one Period in memory (plus any
// Periods that precede their TimeSeries' unit or mRID, which ElOverblik never
// sends). Unknown fields are skipped everywhere. It returns an error only
// when the document is not well-formed JSON of the expected shape, when the
// body cannot be read, or when sink returns one; everything else is a
// ReadingError.
func ParseTimeSeries(r io.Reader, sink Sink) (Stats, error) {
	var p Parser
	return p.Parse(r, sink)
}

// Parser parses time-series documents and keeps its buffers between calls,
// so a loop over many responses allocates almost nothing. The zero value is
// ready to use. A Parser must not be used by two goroutines at once.
type Parser struct {
	lx       *lexer
	sink     Sink
	stats    Stats
	cur      period
	deferred []period
	seen     []uint64
	hours    []hourAcc
}

// rawPoint is one Point as read, before the unit and resolution are applied.
type rawPoint struct {
	pos      int64
	posState byte // 0 missing, 1 ok, 2 bad
	qState   byte // 0 missing/null, 1 value, 2 not a string or number
	qOff     int32
	qLen     int32
	quality  string
}

// period is one Period as read.
type period struct {
	index      int
	resolution string
	start, end time.Time
	startState byte // 0 missing, 1 ok, 2 bad
	endOK      bool
	pts        []rawPoint
	arena      []byte // quantity bytes of pts
}

func (pd *period) reset(index int) {
	pd.index = index
	pd.resolution = ""
	pd.start, pd.end = time.Time{}, time.Time{}
	pd.startState, pd.endOK = 0, false
	pd.pts = pd.pts[:0]
	pd.arena = pd.arena[:0]
}

type hourAcc struct {
	wh      int64
	n       int8
	bad     bool
	quality string
}

// Parse is ParseTimeSeries with reusable buffers.
func (p *Parser) Parse(r io.Reader, sink Sink) (Stats, error) {
	if p.lx == nil {
		p.lx = newLexer(r)
	} else {
		p.lx.reset(r)
	}
	p.sink = sink
	p.stats = Stats{}
	p.deferred = p.deferred[:0]
	err := p.document()
	p.sink = Sink{}
	p.lx.r = nil
	return p.stats, err
}

func (p *Parser) document() error {
	lx := p.lx
	ok, err := lx.beginComposite('{')
	if err != nil {
		return err
	}
	if !ok {
		return lx.syntax("document is null")
	}
	first := true
	for {
		more, err := lx.more(&first, '}')
		if err != nil || !more {
			if err != nil {
				return err
			}
			break
		}
		k, err := lx.key()
		if err != nil {
			return err
		}
		if string(k) == "result" {
			err = p.results()
		} else {
			err = lx.skip()
		}
		if err != nil {
			return err
		}
	}
	eof, err := lx.atEOF()
	if err != nil {
		return err
	}
	if !eof {
		return lx.syntax("data after document")
	}
	return nil
}

func (p *Parser) results() error {
	lx := p.lx
	ok, err := lx.beginComposite('[')
	if err != nil || !ok {
		return err
	}
	first := true
	for {
		more, err := lx.more(&first, ']')
		if err != nil {
			return err
		}
		if !more {
			return nil
		}
		if err := p.entry(); err != nil {
			return err
		}
	}
}

// entry reads one result entry: the market document and the per-entry
// success flag and error code, which the reference never checked.
func (p *Parser) entry() error {
	lx := p.lx
	ok, err := lx.beginComposite('{')
	if err != nil || !ok {
		return err
	}
	var (
		success   = true
		code      string
		text      string
		id        string
		sawFields bool
	)
	first := true
	for {
		more, err := lx.more(&first, '}')
		if err != nil {
			return err
		}
		if !more {
			break
		}
		k, err := lx.key()
		if err != nil {
			return err
		}
		switch string(k) {
		case "MyEnergyData_MarketDocument":
			err = p.marketDocument()
		case "success":
			var kind byte
			kind, _, err = lx.scalar()
			if err == nil {
				sawFields = true
				success = kind == 't'
			}
		case "errorCode":
			var v []byte
			var kind byte
			kind, v, err = lx.scalar()
			if err == nil && (kind == '"' || kind == '0') {
				code = string(v)
			}
		case "errorText":
			var v []byte
			var kind byte
			kind, v, err = lx.scalar()
			if err == nil && kind == '"' {
				text = string(v)
			}
		case "id":
			var v []byte
			var kind byte
			kind, v, err = lx.scalar()
			if err == nil && kind == '"' {
				id = string(v)
			}
		default:
			err = lx.skip()
		}
		if err != nil {
			return err
		}
	}
	if (sawFields && !success) || (code != "" && code != "10000") {
		return p.problem(&ReadingError{Kind: ProblemEntryFailed, GSRN: id, Period: -1,
			Detail: fmt.Sprintf("success=%t errorCode=%q errorText=%q", success, code, text)})
	}
	return nil
}

func (p *Parser) marketDocument() error {
	lx := p.lx
	ok, err := lx.beginComposite('{')
	if err != nil || !ok {
		return err
	}
	first := true
	for {
		more, err := lx.more(&first, '}')
		if err != nil {
			return err
		}
		if !more {
			return nil
		}
		k, err := lx.key()
		if err != nil {
			return err
		}
		if string(k) == "TimeSeries" {
			err = p.timeSeriesList()
		} else {
			err = lx.skip()
		}
		if err != nil {
			return err
		}
	}
}

func (p *Parser) timeSeriesList() error {
	lx := p.lx
	ok, err := lx.beginComposite('[')
	if err != nil || !ok {
		return err
	}
	first := true
	for {
		more, err := lx.more(&first, ']')
		if err != nil {
			return err
		}
		if !more {
			return nil
		}
		if err := p.timeSeries(); err != nil {
			return err
		}
	}
}

// tsState is what is known about the TimeSeries being read.
type tsState struct {
	gsrn    string
	unit    [8]byte
	unitLen int // -1 while the unit has not been read
	unitRaw string
}

func (p *Parser) timeSeries() error {
	lx := p.lx
	ok, err := lx.beginComposite('{')
	if err != nil || !ok {
		return err
	}
	ts := tsState{unitLen: -1}
	p.deferred = p.deferred[:0]
	nPeriods := 0
	first := true
	for {
		more, err := lx.more(&first, '}')
		if err != nil {
			return err
		}
		if !more {
			break
		}
		k, err := lx.key()
		if err != nil {
			return err
		}
		switch string(k) {
		case "mRID":
			var kind byte
			var v []byte
			kind, v, err = lx.scalar()
			if err == nil && kind == '"' && len(v) > 0 {
				if string(v) != ts.gsrn {
					ts.gsrn = string(v)
				}
			}
		case "measurement_Unit.name":
			var kind byte
			var v []byte
			kind, v, err = lx.scalar()
			if err == nil {
				ts.unitRaw = ""
				ts.unitLen = 0
				if kind == '"' && len(v) <= len(ts.unit) {
					ts.unitLen = copy(ts.unit[:], v)
				} else if kind == '"' {
					ts.unitRaw = string(v)
				}
			}
		case "Period":
			err = p.periods(&ts, &nPeriods)
		default:
			err = lx.skip()
		}
		if err != nil {
			return err
		}
	}
	for i := range p.deferred {
		if err := p.emit(&ts, &p.deferred[i]); err != nil {
			return err
		}
	}
	p.deferred = p.deferred[:0]
	return nil
}

func (p *Parser) periods(ts *tsState, n *int) error {
	lx := p.lx
	ok, err := lx.beginComposite('[')
	if err != nil || !ok {
		return err
	}
	first := true
	for {
		more, err := lx.more(&first, ']')
		if err != nil {
			return err
		}
		if !more {
			return nil
		}
		p.cur.reset(*n)
		*n++
		if err := p.period(&p.cur); err != nil {
			return err
		}
		if ts.gsrn != "" && ts.unitLen >= 0 {
			if err := p.emit(ts, &p.cur); err != nil {
				return err
			}
			continue
		}
		// The unit or mRID comes after this Period: keep it until the end of
		// the TimeSeries. The real API never does this, so it costs nothing
		// there.
		p.deferred = append(p.deferred, p.cur)
		p.cur = period{}
	}
}

func (p *Parser) period(pd *period) error {
	lx := p.lx
	ok, err := lx.beginComposite('{')
	if err != nil || !ok {
		return err
	}
	first := true
	for {
		more, err := lx.more(&first, '}')
		if err != nil {
			return err
		}
		if !more {
			return nil
		}
		k, err := lx.key()
		if err != nil {
			return err
		}
		switch string(k) {
		case "resolution":
			var kind byte
			var v []byte
			kind, v, err = lx.scalar()
			if err == nil && kind == '"' {
				switch string(v) {
				case "PT1H":
					pd.resolution = "PT1H"
				case "PT15M":
					pd.resolution = "PT15M"
				default:
					pd.resolution = string(v)
				}
			}
		case "timeInterval":
			err = p.interval(pd)
		case "Point":
			err = p.points(pd)
		default:
			err = lx.skip()
		}
		if err != nil {
			return err
		}
	}
}

func (p *Parser) interval(pd *period) error {
	lx := p.lx
	ok, err := lx.beginComposite('{')
	if err != nil || !ok {
		return err
	}
	first := true
	for {
		more, err := lx.more(&first, '}')
		if err != nil {
			return err
		}
		if !more {
			return nil
		}
		k, err := lx.key()
		if err != nil {
			return err
		}
		switch string(k) {
		case "start":
			kind, v, err := lx.scalar()
			if err != nil {
				return err
			}
			pd.startState = 2
			if kind == '"' {
				if t, ok := parseTime(v); ok {
					pd.start, pd.startState = t, 1
				}
			}
		case "end":
			kind, v, err := lx.scalar()
			if err != nil {
				return err
			}
			if kind == '"' {
				pd.end, pd.endOK = parseTime(v)
			}
		default:
			if err := lx.skip(); err != nil {
				return err
			}
		}
	}
}

func (p *Parser) points(pd *period) error {
	lx := p.lx
	ok, err := lx.beginComposite('[')
	if err != nil || !ok {
		return err
	}
	first := true
	for {
		more, err := lx.more(&first, ']')
		if err != nil {
			return err
		}
		if !more {
			return nil
		}
		if err := p.point(pd); err != nil {
			return err
		}
	}
}

func (p *Parser) point(pd *period) error {
	lx := p.lx
	ok, err := lx.beginComposite('{')
	if err != nil {
		return err
	}
	pt := rawPoint{}
	if ok {
		first := true
		for {
			more, err := lx.more(&first, '}')
			if err != nil {
				return err
			}
			if !more {
				break
			}
			k, err := lx.key()
			if err != nil {
				return err
			}
			switch string(k) {
			case "position":
				kind, v, err := lx.scalar()
				if err != nil {
					return err
				}
				pt.posState = 2
				if kind == '"' || kind == '0' {
					if n, ok := parsePosition(v); ok {
						pt.pos, pt.posState = n, 1
					}
				}
			case "out_Quantity.quantity":
				kind, v, err := lx.scalar()
				if err != nil {
					return err
				}
				switch kind {
				case '"', '0':
					if len(v) > 64 {
						v = v[:64] // long enough to be rejected by parseQuantity, short enough to keep
					}
					pt.qState = 1
					pt.qOff = int32(len(pd.arena))
					pt.qLen = int32(len(v))
					pd.arena = append(pd.arena, v...)
				case 'n':
					pt.qState = 0
				default:
					pt.qState = 2
				}
			case "out_Quantity.quality":
				kind, v, err := lx.scalar()
				if err != nil {
					return err
				}
				if kind == '"' {
					pt.quality = internQuality(v)
				}
			default:
				if err := lx.skip(); err != nil {
					return err
				}
			}
		}
	}
	pd.pts = append(pd.pts, pt)
	return nil
}

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
