package declaration

import (
	"fmt"
	"math/bits"
	"sort"
	"time"
)

// Calculate computes the declaration of in. Every input hour appears in the result; hours
// without hourly mix data use the sector's default and are listed in MissingResidual or
// MissingGrid, and hours with no data at all declare their energy as Unknown.
//
// Errors: ErrInvalidInput (wrapped, naming the hour) and ErrOverflow.
func Calculate(in Input) (Declaration, error) {
	hours := make([]HourInput, len(in.Hours))
	copy(hours, in.Hours)
	seen := make(map[Key]bool, len(hours))
	for i, h := range hours {
		if err := validHour(h); err != nil {
			return Declaration{}, err
		}
		hours[i].Hour = h.Hour.UTC()
		k := Key{Sector: h.Sector, Hour: hours[i].Hour}
		if seen[k] {
			return Declaration{}, fmt.Errorf("%w: %s %s given twice", ErrInvalidInput, k.Sector, k.Hour.Format(time.RFC3339))
		}
		seen[k] = true
	}
	sort.Slice(hours, func(a, b int) bool { return keyLess(hours[a].Sector, hours[a].Hour, hours[b].Sector, hours[b].Hour) })

	var d Declaration
	d.Hours = make([]HourResult, 0, len(hours))
	var ind, gen tally
	for _, h := range hours {
		k := Key{Sector: h.Sector, Hour: h.Hour}
		r := HourResult{Key: k}
		var hi, hg tally
		var rmix, gmix Mix
		rmix, r.Residual = in.Residual.lookup(k)
		gmix, r.Grid = in.Grid.lookup(k)
		if err := hi.individual(h, rmix, r.Residual); err != nil {
			return Declaration{}, fmt.Errorf("%s %s: %w", k.Sector, k.Hour.Format(time.RFC3339), err)
		}
		if err := hg.general(h.ConsumedWh, gmix, r.Grid); err != nil {
			return Declaration{}, fmt.Errorf("%s %s: %w", k.Sector, k.Hour.Format(time.RFC3339), err)
		}
		if err := ind.merge(&hi); err != nil {
			return Declaration{}, err
		}
		if err := gen.merge(&hg); err != nil {
			return Declaration{}, err
		}
		r.Individual, r.General = hi.summary(), hg.summary()
		if r.Residual != MixHourly {
			d.MissingResidual = append(d.MissingResidual, Missing{Key: k, Use: r.Residual})
		}
		if r.Grid != MixHourly {
			d.MissingGrid = append(d.MissingGrid, Missing{Key: k, Use: r.Grid})
		}
		d.Hours = append(d.Hours, r)
	}
	d.Individual, d.General = ind.summary(), gen.summary()
	return d, nil
}

func keyLess(sa string, ha time.Time, sb string, hb time.Time) bool {
	if !ha.Equal(hb) {
		return ha.Before(hb)
	}
	return sa < sb
}

func validHour(h HourInput) error {
	at := h.Hour.UTC()
	switch {
	case h.Sector == "":
		return fmt.Errorf("%w: hour %s has no sector", ErrInvalidInput, at.Format(time.RFC3339))
	case h.Hour.IsZero() || !at.Truncate(time.Hour).Equal(at):
		return fmt.Errorf("%w: %s %s is not a whole hour", ErrInvalidInput, h.Sector, at.Format(time.RFC3339Nano))
	case h.ConsumedWh < 0:
		return fmt.Errorf("%w: %s %s consumption %d Wh is negative", ErrInvalidInput, h.Sector, at.Format(time.RFC3339), h.ConsumedWh)
	}
	for _, r := range h.Retired {
		if r.Wh < 0 || r.CO2eqMgPerKWh < 0 || r.Technology == "" {
			return fmt.Errorf("%w: %s %s retired %q %d Wh at %d mg/kWh: amounts and factors must be non-negative and the technology named",
				ErrInvalidInput, h.Sector, at.Format(time.RFC3339), r.Technology, r.Wh, r.CO2eqMgPerKWh)
		}
	}
	return nil
}

// lookup returns the mix of k: hourly data, else the sector's default, else none.
func (t MixTable) lookup(k Key) (Mix, MixUse) {
	if m, ok := t.Hourly[k]; ok && m.total() > 0 {
		return m, MixHourly
	}
	if m, ok := t.Defaults[k.Sector]; ok && m.total() > 0 {
		return m, MixDefault
	}
	return Mix{}, MixMissing
}

func (m Mix) total() int64 {
	var s int64
	for _, p := range m.Parts {
		if p.SharePPM > 0 {
			s += p.SharePPM
		}
	}
	return s
}

// tally accumulates a summary with overflow checks.
type tally struct {
	consumed, retired, matched, excess, undeclared, emissions int64
	techs                                                     map[string]*TechAmount
	err                                                       error
}

func (t *tally) add(dst *int64, v int64) {
	s, carry := bits.Add64(uint64(*dst), uint64(v), 0)
	if carry != 0 || int64(s) < 0 {
		t.err = ErrOverflow
		return
	}
	*dst = int64(s)
}

// tech adds wh of technology at factor (µg per Wh) to the technology mix and emissions.
func (t *tally) tech(technology string, wh, factor int64) {
	if wh == 0 {
		return
	}
	if t.techs == nil {
		t.techs = map[string]*TechAmount{}
	}
	a := t.techs[technology]
	if a == nil {
		a = &TechAmount{Technology: technology}
		t.techs[technology] = a
	}
	hi, em := bits.Mul64(uint64(wh), uint64(factor))
	if hi != 0 || int64(em) < 0 {
		t.err = ErrOverflow
		return
	}
	t.add(&a.Wh, wh)
	t.add(&a.EmissionsUG, int64(em))
	t.add(&t.emissions, int64(em))
}

// individual declares one hour: retired GGOs first (scaled down to the consumption when
// more was retired), then the residual mix for the uncovered rest.
func (t *tally) individual(h HourInput, mix Mix, use MixUse) error {
	var retired int64
	weights := make([]int64, len(h.Retired))
	for i, r := range h.Retired {
		t.add(&retired, r.Wh)
		weights[i] = r.Wh
	}
	matched := min(retired, h.ConsumedWh)
	t.consumed, t.retired, t.matched, t.excess = h.ConsumedWh, retired, matched, retired-matched
	parts := weights
	if retired > matched {
		parts = split(matched, weights)
	}
	for i, r := range h.Retired {
		t.tech(r.Technology, parts[i], r.CO2eqMgPerKWh)
	}
	t.declare(h.ConsumedWh-matched, mix, use)
	return t.err
}

// general declares a whole hour's consumption with the grid mix.
func (t *tally) general(consumed int64, mix Mix, use MixUse) error {
	t.consumed = consumed
	t.declare(consumed, mix, use)
	return t.err
}

// declare splits wh by the mix's shares, or books it as Unknown when there is no mix.
func (t *tally) declare(wh int64, mix Mix, use MixUse) {
	if wh == 0 {
		return
	}
	if use == MixMissing {
		t.tech(Unknown, wh, 0)
		t.add(&t.undeclared, wh)
		return
	}
	weights := make([]int64, len(mix.Parts))
	for i, p := range mix.Parts {
		weights[i] = max(p.SharePPM, 0)
	}
	for i, part := range split(wh, weights) {
		t.tech(mix.Parts[i].Technology, part, mix.Parts[i].CO2eqMgPerKWh)
	}
}

// merge adds o into t.
func (t *tally) merge(o *tally) error {
	t.add(&t.consumed, o.consumed)
	t.add(&t.retired, o.retired)
	t.add(&t.matched, o.matched)
	t.add(&t.excess, o.excess)
	t.add(&t.undeclared, o.undeclared)
	t.add(&t.emissions, o.emissions)
	for _, a := range o.techs {
		if t.techs == nil {
			t.techs = map[string]*TechAmount{}
		}
		b := t.techs[a.Technology]
		if b == nil {
			b = &TechAmount{Technology: a.Technology}
			t.techs[a.Technology] = b
		}
		t.add(&b.Wh, a.Wh)
		t.add(&b.EmissionsUG, a.EmissionsUG)
	}
	return t.err
}

func (t *tally) summary() Summary {
	s := Summary{
		ConsumedWh: t.consumed, RetiredWh: t.retired, MatchedWh: t.matched, ExcessWh: t.excess,
		UndeclaredWh: t.undeclared, EmissionsUG: t.emissions,
	}
	s.Technologies = make([]TechAmount, 0, len(t.techs))
	for _, a := range t.techs {
		s.Technologies = append(s.Technologies, *a)
	}
	sort.Slice(s.Technologies, func(i, j int) bool { return s.Technologies[i].Technology < s.Technologies[j].Technology })
	return s
}
