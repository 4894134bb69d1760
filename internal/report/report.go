// Package report renders a computed declaration (declaration.Declaration) as a CSV file and
// as a PDF report. Every number is formatted from integers (Wh, µg) with integer arithmetic,
// so a report shows exactly what the calculator computed; the PDF's layout coordinates are
// the only floats.
package report

import (
	"time"

	"github.com/originhub/originhub/internal/declaration"
)

// Meta describes what a report covers.
type Meta struct {
	// Title heads the PDF, e.g. "Environmental declaration".
	Title string
	// Holder and Lines are printed under the title (who the declaration is for, which
	// metering points); optional.
	Holder string
	Lines  []string
	// From and To are the declared period [From, To).
	From, To time.Time
	// Location is the IANA zone periods are shown and cut in; UTC when nil.
	Location *time.Location
	// Generated is when the report was made (from the caller's clock), printed and
	// stored as the PDF's creation date.
	Generated time.Time
}

func (m Meta) loc() *time.Location {
	if m.Location == nil {
		return time.UTC
	}
	return m.Location
}

// kWh formats Wh as kWh with 3 decimals, exactly.
func kWh(wh int64) string { return declaration.FormatScaled(wh, 3) }

// scaled formats v/unit with places decimals, rounded half up.
func scaled(v, unit int64, places int) string {
	return declaration.Ratio{Num: v, Den: unit}.Decimal(places)
}

// grams formats µg as g with 3 decimals, rounded half up.
func grams(ug int64) string { return scaled(ug, 1_000_000, 3) }

// kilograms formats µg as kg with 3 decimals, rounded half up.
func kilograms(ug int64) string { return scaled(ug, 1_000_000_000, 3) }

// bigEnergy is the total from which the PDF shows MWh instead of kWh.
const bigEnergy = 10_000_000 // 10 MWh

// energy formats Wh in the unit that suits total: MWh with 3 decimals from 10 MWh up, kWh
// with 3 decimals below.
func energy(wh, total int64) string {
	if total >= bigEnergy {
		return scaled(wh, 1_000_000, 3)
	}
	return kWh(wh)
}

// energyUnit is the unit energy uses for total.
func energyUnit(total int64) string {
	if total >= bigEnergy {
		return "MWh"
	}
	return "kWh"
}
