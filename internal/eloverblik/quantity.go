package eloverblik

import (
	"errors"
	"time"
)

// Unit scale factors: the number of decimal digits of a quantity in the
// given unit that make up whole Wh. The reference counted MWH as kWh (×1000);
// here MWH is ×10⁶.
const (
	scaleKWh = 3
	scaleMWh = 6
)

var (
	errQuantityEmpty    = errors.New("empty quantity")
	errQuantitySyntax   = errors.New("quantity is not a plain decimal")
	errQuantityNegative = errors.New("negative quantity")
	errQuantityRange    = errors.New("quantity out of range")
)

// unitScale maps measurement_Unit.name to the decimal scale that turns the
// quantity into Wh. ok is false for units this package does not know.
func unitScale(unit []byte) (scale int, ok bool) {
	switch string(unit) {
	case "KWH", "kWh", "KWh", "kwh":
		return scaleKWh, true
	case "MWH", "MWh", "mwh":
		return scaleMWh, true
	}
	return 0, false
}

// parseQuantity converts a decimal string such as "1.234" into an integer
// count of Wh, given scale, the number of fractional digits that are whole
// Wh (3 for kWh, 6 for MWh). It never goes through floating point.
//
// Digits beyond scale are truncated toward zero, as the reference does:
// truncation never reports energy that was not measured, which matters
// because every Wh of production may back a guarantee of origin, and
// ElOverblik sends kWh with three decimals, so nothing is lost in practice.
// Negative values, exponents, signs and any other syntax are rejected.
func parseQuantity(b []byte, scale int) (int64, error) {
	if len(b) == 0 {
		return 0, errQuantityEmpty
	}
	i := 0
	if b[0] == '-' {
		return 0, errQuantityNegative
	}
	var v int64
	digits := 0
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		d := int64(b[i] - '0')
		if v > (maxInt64-d)/10 {
			return 0, errQuantityRange
		}
		v = v*10 + d
		digits++
	}
	if digits == 0 {
		return 0, errQuantitySyntax
	}
	frac := 0
	if i < len(b) && b[i] == '.' {
		i++
		start := i
		for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
			if frac < scale {
				d := int64(b[i] - '0')
				if v > (maxInt64-d)/10 {
					return 0, errQuantityRange
				}
				v = v*10 + d
				frac++
			}
		}
		if i == start {
			return 0, errQuantitySyntax
		}
	}
	if i != len(b) {
		return 0, errQuantitySyntax
	}
	for ; frac < scale; frac++ {
		if v > maxInt64/10 {
			return 0, errQuantityRange
		}
		v *= 10
	}
	return v, nil
}

const maxInt64 = 1<<63 - 1

// parsePosition reads a 1-based point position (a JSON string or number of
// at most 7 digits; a year of quarter hours is 35,136).
func parsePosition(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 7 {
		return 0, false
	}
	var v int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	return v, v >= 1
}

// parseTime reads an RFC 3339 timestamp. The fast path handles the exact
// "2006-01-02T15:04:05Z" form that ElOverblik sends without allocating.
func parseTime(b []byte) (time.Time, bool) {
	if len(b) == 20 && b[4] == '-' && b[7] == '-' && b[10] == 'T' && b[13] == ':' && b[16] == ':' && b[19] == 'Z' {
		y, ok1 := digitsN(b[0:4])
		mo, ok2 := digitsN(b[5:7])
		d, ok3 := digitsN(b[8:10])
		h, ok4 := digitsN(b[11:13])
		mi, ok5 := digitsN(b[14:16])
		s, ok6 := digitsN(b[17:19])
		if ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h <= 23 && mi <= 59 && s <= 59 {
			t := time.Date(y, time.Month(mo), d, h, mi, s, 0, time.UTC)
			if t.Day() == d { // rejects 2019-02-30, which time.Date normalises
				return t, true
			}
			return time.Time{}, false
		}
	}
	t, err := time.Parse(time.RFC3339, string(b))
	if err != nil {
		return time.Time{}, false
	}
	return t.UTC(), true
}

func digitsN(b []byte) (int, bool) {
	v := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}

// Quality codes of out_Quantity.quality.
const (
	QualityAdjusted     = "A01"
	QualityNotAvailable = "A02"
	QualityEstimated    = "A03"
	QualityMeasured     = "A04"
	QualityIncomplete   = "A05"
)

// internQuality returns a constant string for the known quality codes, so a
// reading's Quality does not allocate.
func internQuality(b []byte) string {
	switch string(b) {
	case QualityMeasured:
		return QualityMeasured
	case QualityEstimated:
		return QualityEstimated
	case QualityAdjusted:
		return QualityAdjusted
	case QualityNotAvailable:
		return QualityNotAvailable
	case QualityIncomplete:
		return QualityIncomplete
	case "":
		return ""
	}
	return string(b)
}

// qualityRank orders quality codes from best (measured) to worst, for the
// quality of an hour summed from quarter hours: the hour is only as good as
// its worst quarter.
func qualityRank(q string) int {
	switch q {
	case QualityMeasured:
		return 0
	case QualityAdjusted:
		return 1
	case QualityEstimated:
		return 2
	case QualityIncomplete:
		return 3
	case QualityNotAvailable:
		return 4
	}
	return 5
}
