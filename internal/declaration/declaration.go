// Package declaration computes eco declarations: for a consumer's hourly consumption and the
// guarantees of origin (GGOs) retired to it, the technology mix (retired GGOs first, then the
// residual mix for the uncovered rest), the emissions, the share matched hour by hour (24/7
// matching), and the general (grid) declaration of the same consumption.
//
// It is pure Go over integer Wh: no I/O, no floats. Emission factors are integer mg CO2-eq
// per kWh, which is µg per Wh, so an amount in Wh times a factor is an exact number of
// micrograms (1 g/kWh = 1,000 µg/Wh).
//
// Compared with the reference's eco declaration (account spec 4.9) it fixes: hours without
// mix data are listed (the reference narrowed the range to the hours with data and returned
// empty declarations when there was none); retired amounts above consumption are capped and
// reported as excess instead of asserted; nothing is truncated at a row count; intensities
// and shares are exact ratios; periods are cut in an IANA time zone (DST-correct) instead of
// a whole-hour UTC offset.
package declaration

import (
	"time"
)

// PPM is one whole in parts per million: the unit of mix shares.
const PPM = 1_000_000

// Unknown is the technology label of energy that no mix declares (an hour with neither
// hourly nor default mix data).
const Unknown = "Unknown"

// Key identifies one hour of one sector (price area). Hour is UTC and hour-aligned.
type Key struct {
	Sector string
	Hour   time.Time
}

// MixPart is one technology's part of an hour's mix.
type MixPart struct {
	Technology    string
	SharePPM      int64 // fraction of the mix, in parts per million
	CO2eqMgPerKWh int64 // life-cycle emission factor, mg CO2-eq per kWh (= µg per Wh)
}

// Mix is the technology mix of one sector and hour (or a default that applies to any hour).
// The shares need not sum to exactly PPM: amounts are split in proportion to them, so that
// they always sum exactly to the amount split.
type Mix struct {
	Source string
	Parts  []MixPart
}

// MixTable holds the mixes of one kind (residual or grid): the hourly data and, per sector, a
// default used for hours without hourly data.
type MixTable struct {
	Hourly   map[Key]Mix
	Defaults map[string]Mix
}

// Retired is an amount of GGOs of one technology retired to an hour's consumption.
type Retired struct {
	Technology    string
	Wh            int64
	CO2eqMgPerKWh int64 // the GGO's own emission factor
}

// HourInput is the consumption of one sector in one hour and the GGOs retired to it. A
// caller with several metering points in one sector sums them: matching is per sector and
// hour.
type HourInput struct {
	Sector     string
	Hour       time.Time
	ConsumedWh int64
	Retired    []Retired
}

// Input is everything a declaration is computed from.
type Input struct {
	Hours    []HourInput
	Residual MixTable // declares the consumption not covered by retired GGOs
	Grid     MixTable // declares all consumption, for the general declaration
}

// MixUse says where an hour's mix came from.
type MixUse int

// The sources of an hour's mix.
const (
	MixHourly  MixUse = iota // hourly data for the sector and hour
	MixDefault               // no hourly data; the sector's default was used
	MixMissing               // no data at all; the energy is declared Unknown
)

// String names the source.
func (u MixUse) String() string {
	switch u {
	case MixHourly:
		return "hourly"
	case MixDefault:
		return "default"
	case MixMissing:
		return "missing"
	}
	return "invalid"
}

// TechAmount is the energy of one technology in a declaration and its emissions.
type TechAmount struct {
	Technology  string
	Wh          int64
	EmissionsUG int64 // µg CO2-eq
}

// Share is the technology's fraction of total as an exact ratio.
func (t TechAmount) Share(totalWh int64) Ratio { return Ratio{Num: t.Wh, Den: totalWh} }

// Summary totals a declaration (individual or general) over some hours.
type Summary struct {
	ConsumedWh int64
	// RetiredWh is what was retired to the consumption, excess included.
	RetiredWh int64
	// MatchedWh is Σ min(retired, consumed) per sector and hour.
	MatchedWh int64
	// ExcessWh is retired energy above the hour's consumption: not declared.
	ExcessWh int64
	// UndeclaredWh is energy in hours without any mix data, declared as Unknown and
	// without emissions.
	UndeclaredWh int64
	// Technologies are sorted by label; their Wh sum to ConsumedWh.
	Technologies []TechAmount
	// EmissionsUG is the total in µg CO2-eq (undeclared energy counts nothing).
	EmissionsUG int64
}

// Matched is the 24/7 matched share: MatchedWh / ConsumedWh.
func (s Summary) Matched() Ratio { return Ratio{Num: s.MatchedWh, Den: s.ConsumedWh} }

// Intensity is the emissions per declared energy in g CO2-eq per kWh (µg / (1000 × Wh));
// energy without mix data is left out of the denominator.
func (s Summary) Intensity() Ratio {
	return Ratio{Num: s.EmissionsUG, Den: 1000 * (s.ConsumedWh - s.UndeclaredWh)}
}

// HourResult is one sector-hour of a declaration.
type HourResult struct {
	Key
	Residual   MixUse
	Grid       MixUse
	Individual Summary
	General    Summary
}

// Declaration is a computed eco declaration.
type Declaration struct {
	// Hours are sorted by hour, then sector.
	Hours []HourResult
	// Individual declares the consumption with its retired GGOs and the residual mix.
	Individual Summary
	// General declares the same consumption with the grid mix.
	General Summary
	// MissingResidual and MissingGrid list the sector-hours without hourly mix data,
	// with whether a default filled them in; sorted like Hours.
	MissingResidual []Missing
	MissingGrid     []Missing
}

// Missing is a sector-hour without hourly mix data.
type Missing struct {
	Key
	Use MixUse // MixDefault or MixMissing
}
