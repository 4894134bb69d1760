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
