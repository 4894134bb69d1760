package eloverblik

import (
	"fmt"
)

// Memory bounds for hostile or broken documents. A Period is one Danish day
// (at most 25 × 4 quarter hours); a month-long period of quarter hours is
// still far below maxPointsPerPeriod.
const (
	maxPointsPerPeriod = maxPeriodSteps
	maxDeferredPeriods = 800
)

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
		if len(p.deferred) >= maxDeferredPeriods {
			return lx.syntax("more than %d periods before the TimeSeries unit and mRID", maxDeferredPeriods)
		}
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
	if len(pd.pts) >= maxPointsPerPeriod {
		return lx.syntax("period has more than %d points", maxPointsPerPeriod)
	}
	pd.pts = append(pd.pts, pt)
	return nil
}
