package sim

import (
	"io"
	"strconv"
	"time"
)

// WriteTimeSeries writes a complete GetTimeSeries response body (the exact
// shape of §4.4 of the DataHub spec) for the given GSRNs and the hours in
// [from, to), streaming: memory stays constant whatever the window. Periods
// are cut at Danish midnights, positions are 1-based, quantities are kWh
// with three decimals. A GSRN the simulator did not make gets an entry with
// success=false, as ElOverblik answers for a point without access. The
// benchmark uses this to produce millions of readings.
func (s *Simulator) WriteTimeSeries(w io.Writer, gsrns []string, from, to time.Time) error {
	return s.writeTimeSeries(w, gsrns, from, to, func(string) bool { return true })
}

// writeTimeSeries is WriteTimeSeries where allowed decides which GSRNs the
// caller has access to.
func (s *Simulator) writeTimeSeries(w io.Writer, gsrns []string, from, to time.Time, allowed func(string) bool) error {
	tw := tsWriter{w: w, buf: make([]byte, 0, 64<<10)}
	from = from.UTC().Truncate(time.Hour)
	to = to.UTC().Truncate(time.Hour)
	tw.str(`{"result":[`)
	for i, gsrn := range gsrns {
		if i > 0 {
			tw.str(",")
		}
		if _, ok := ProfileOf(gsrn); !ok || !allowed(gsrn) {
			tw.str(`{"MyEnergyData_MarketDocument":null,"success":false,"errorCode":"` + ErrorCodeNoAccess +
				`","errorText":"` + ErrorTextNoAccess + `","id":`)
			tw.quote(gsrn)
			tw.str(`,"stackTrace":null}`)
			continue
		}
		if err := s.writeEntry(&tw, gsrn, from, to); err != nil {
			return err
		}
	}
	tw.str("]}")
	return tw.flush()
}

// Simulator-chosen error for a GSRN without access (not verified against the
// real API, whose codes for this case are undocumented here).
const (
	ErrorCodeNoAccess = "20013"
	ErrorTextNoAccess = "MeteringPointNotAuthorized"
)

func (s *Simulator) writeEntry(tw *tsWriter, gsrn string, from, to time.Time) error {
	p, _ := ProfileOf(gsrn)
	g := mix(s.seed, fnv1a(gsrn))
	estFrom := s.estimatesFrom()
	tw.str(`{"MyEnergyData_MarketDocument":{"mRID":"`)
	tw.buf = strconv.AppendUint(tw.buf, mix(g, uint64(from.Unix()), uint64(to.Unix())), 16)
	tw.str(`","createdDateTime":"`)
	tw.time(s.now().Truncate(time.Second))
	tw.str(`","sender_MarketParticipant.name":"","sender_MarketParticipant.mRID":{"codingScheme":null,"name":null},"period.timeInterval":{"start":"`)
	tw.time(from)
	tw.str(`","end":"`)
	tw.time(to)
	tw.str(`"},"TimeSeries":[{"mRID":"` + gsrn + `","businessType":"`)
	if p.Production() {
		tw.str("A01")
	} else {
		tw.str("A04")
	}
	tw.str(`","curveType":"A01","measurement_Unit.name":"KWH","MarketEvaluationPoint":{"mRID":{"codingScheme":"A10","name":"` + gsrn + `"}},"Period":[`)
	first := true
	for start := from; start.Before(to); {
		local := start.In(s.loc)
		end := time.Date(local.Year(), local.Month(), local.Day()+1, 0, 0, 0, 0, s.loc).UTC()
		if end.After(to) {
			end = to
		}
		if !first {
			tw.str(",")
		}
		first = false
		tw.str(`{"resolution":"PT1H","timeInterval":{"start":"`)
		tw.time(start)
		tw.str(`","end":"`)
		tw.time(end)
		tw.str(`"},"Point":[`)
		pos := 1
		for t := start.Unix(); t < end.Unix(); t += 3600 {
			if pos > 1 {
				tw.str(",")
			}
			tw.str(`{"position":"`)
			tw.buf = strconv.AppendInt(tw.buf, int64(pos), 10)
			tw.str(`","out_Quantity.quantity":"`)
			wh, q := s.reading(p, g, t, estFrom)
			tw.kwh(wh)
			tw.str(`","out_Quantity.quality":"`)
			tw.str(q)
			tw.str(`"}`)
			pos++
			if len(tw.buf) > 60<<10 {
				if err := tw.flush(); err != nil {
					return err
				}
			}
		}
		tw.str("]}")
		start = end
	}
	tw.str(`]}]},"success":true,"errorCode":"10000","errorText":"NoError","id":"` + gsrn + `","stackTrace":null}`)
	return tw.err
}

// tsWriter appends JSON to a buffer and flushes it in large writes.
type tsWriter struct {
	w   io.Writer
	buf []byte
	err error
}

func (t *tsWriter) str(s string) { t.buf = append(t.buf, s...) }

func (t *tsWriter) quote(s string) { t.buf = strconv.AppendQuote(t.buf, s) }

func (t *tsWriter) time(v time.Time) { t.buf = v.UTC().AppendFormat(t.buf, "2006-01-02T15:04:05Z") }

// kwh formats Wh as kWh with three decimals, in integers.
func (t *tsWriter) kwh(wh int64) {
	t.buf = strconv.AppendInt(t.buf, wh/1000, 10)
	frac := wh % 1000
	t.buf = append(t.buf, '.', byte('0'+frac/100), byte('0'+frac/10%10), byte('0'+frac%10))
}

func (t *tsWriter) flush() error {
	if t.err != nil {
		return t.err
	}
	if len(t.buf) > 0 {
		_, t.err = t.w.Write(t.buf)
		t.buf = t.buf[:0]
	}
	return t.err
}
