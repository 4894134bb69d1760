// Package residualmix stores the hourly energy mixes (residual and grid) per price area and
// technology that eco declarations are computed from: it imports them from CSV files in one
// all-or-nothing transaction, and loads them (with the seeded defaults) as
// declaration.MixTable values.
package residualmix

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Kind is which mix a row belongs to.
type Kind string

// The kinds of mix.
const (
	Residual Kind = "residual" // declares consumption not covered by retired GGOs
	Grid     Kind = "grid"     // the area's general mix, for the general declaration
)

// ParseKind reads "residual" or "grid".
func ParseKind(s string) (Kind, error) {
	switch k := Kind(strings.ToLower(strings.TrimSpace(s))); k {
	case Residual, Grid:
		return k, nil
	}
	return "", fmt.Errorf("mix kind %q is not residual or grid", s)
}

// Sectors are the price areas a mix can be given for.
var Sectors = []string{"DK1", "DK2"}

// Columns are the CSV columns, in any order, with a header row:
//
//	hour_utc       start of the hour, RFC 3339 ("2026-01-01T00:00:00Z", an offset is converted
//	               to UTC) or without zone ("2026-01-01T00:00:00", "2026-01-01 00:00"), read
//	               as UTC as the column name says; it must be a whole hour
//	sector         DK1 or DK2
//	technology     a technology label as in the technologies table (Wind, Solar, Coal, ...)
//	share          the technology's fraction of the hour's mix, a decimal in [0, 1]; stored in
//	               parts per million (more decimals are rounded half up)
//	co2_g_per_kwh  life-cycle emission factor in g CO2-eq per kWh, a decimal ≥ 0; stored in
//	               mg per kWh (more than 3 decimals are rounded half up)
var Columns = []string{"hour_utc", "sector", "technology", "share", "co2_g_per_kwh"}

// Row is one validated CSV row.
type Row struct {
	Line          int
	Hour          time.Time
	Sector        string
	Technology    string
	SharePPM      int64
	CO2eqMgPerKWh int64
}

// maxCO2MgPerKWh bounds factors as the database does (10 kg/kWh: far above any fuel).
const maxCO2MgPerKWh = 10_000_000

// Reader reads and validates rows of a mix CSV.
type Reader struct {
	r    *csv.Reader
	cols [5]int
	line int
}

// NewReader reads the header of a mix CSV from r.
// Errors: a *ValidationError when a column is missing, unknown or repeated.
func NewReader(r io.Reader) (*Reader, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	cr.TrimLeadingSpace = true
	head, err := cr.Read()
	if err != nil {
		return nil, &ValidationError{Problems: []string{fmt.Sprintf("read header: %v", err)}, Count: 1}
	}
	rd := &Reader{r: cr, line: 1, cols: [5]int{-1, -1, -1, -1, -1}}
	for i, h := range head {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		found := false
		for j, c := range Columns {
			if h == c {
				if rd.cols[j] >= 0 {
					return nil, &ValidationError{Problems: []string{fmt.Sprintf("line 1: column %s given twice", c)}, Count: 1}
				}
				rd.cols[j], found = i, true
			}
		}
		if !found {
			return nil, &ValidationError{Problems: []string{fmt.Sprintf("line 1: unknown column %q (want %s)", h, strings.Join(Columns, ","))}, Count: 1}
		}
	}
	for j, c := range Columns {
		if rd.cols[j] < 0 {
			return nil, &ValidationError{Problems: []string{fmt.Sprintf("line 1: column %s missing (want %s)", c, strings.Join(Columns, ","))}, Count: 1}
		}
	}
	return rd, nil
}

// Next returns the next row. At the end it returns io.EOF. A row that does not validate
// returns a *RowError, and reading can go on with the next row; any other error ends the file.
func (rd *Reader) Next() (Row, error) {
	rec, err := rd.r.Read()
	rd.line++
	if err == io.EOF {
		return Row{}, io.EOF
	}
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) && pe.Err == csv.ErrFieldCount {
			return Row{}, &RowError{Line: pe.Line, Msg: "wrong number of fields"}
		}
		return Row{}, fmt.Errorf("read csv: %w", err)
	}
	field := func(j int) string { return strings.TrimSpace(rec[rd.cols[j]]) }
	row := Row{Line: rd.line, Sector: strings.ToUpper(field(1)), Technology: field(2)}
	bad := func(format string, args ...any) (Row, error) {
		return Row{}, &RowError{Line: rd.line, Msg: fmt.Sprintf(format, args...)}
	}
	if row.Hour, err = parseHour(field(0)); err != nil {
		return bad("hour_utc: %v", err)
	}
	if row.Sector != "DK1" && row.Sector != "DK2" {
		return bad("sector %q is not DK1 or DK2", field(1))
	}
	if row.Technology == "" || len(row.Technology) > 100 {
		return bad("technology %q must have 1 to 100 characters", row.Technology)
	}
	if row.SharePPM, err = parseDecimal(field(3), 6); err != nil {
		return bad("share: %v", err)
	}
	if row.SharePPM < 0 || row.SharePPM > 1_000_000 {
		return bad("share %s is outside [0, 1]", field(3))
	}
	if row.CO2eqMgPerKWh, err = parseDecimal(field(4), 3); err != nil {
		return bad("co2_g_per_kwh: %v", err)
	}
	if row.CO2eqMgPerKWh < 0 || row.CO2eqMgPerKWh > maxCO2MgPerKWh {
		return bad("co2_g_per_kwh %s is outside [0, 10000]", field(4))
	}
	return row, nil
}

var hourLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02 15:04:05", "2006-01-02 15:04"}

func parseHour(s string) (time.Time, error) {
	for i, layout := range hourLayouts {
		t, err := time.Parse(layout, s) // layouts without a zone parse as UTC
		if err != nil {
			continue
		}
		if i == 0 {
			t = t.UTC()
		}
		if !t.Truncate(time.Hour).Equal(t) {
			return time.Time{}, fmt.Errorf("%s is not a whole hour", s)
		}
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is not a date and time such as 2026-01-01T00:00:00Z", s)
}

// parseDecimal reads a non-negative decimal ("0.25", "820"; "1e-1" is refused) as an
// integer scaled by 10^places, rounding half up beyond places. Integer arithmetic only.
func parseDecimal(s string, places int) (int64, error) {
	if strings.HasPrefix(s, "-") {
		return 0, fmt.Errorf("%q is negative", s)
	}
	intPart, frac, _ := strings.Cut(s, ".")
	if intPart == "" && frac == "" {
		return 0, fmt.Errorf("%q is not a decimal number", s)
	}
	for _, part := range []string{intPart, frac} {
		for _, c := range part {
			if c < '0' || c > '9' {
				return 0, fmt.Errorf("%q is not a decimal number", s)
			}
		}
	}
	if intPart == "" {
		intPart = "0"
	}
	if len(intPart) > 12 {
		return 0, fmt.Errorf("%q is too large", s)
	}
	roundUp := len(frac) > places && frac[places] >= '5'
	if len(frac) > places {
		frac = frac[:places]
	}
	frac += strings.Repeat("0", places-len(frac))
	v, err := strconv.ParseInt(intPart+frac, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q: %w", s, err)
	}
	if roundUp {
		v++
	}
	return v, nil
}
