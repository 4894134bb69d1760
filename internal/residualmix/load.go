package residualmix

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/originhub/originhub/internal/declaration"
)

// Table loads the mixes of kind for sectors: every hourly mix in [from, to) (no row limit:
// a year of two sectors is some 200,000 rows) and each sector's default. Hours without
// hourly data are simply absent from Hourly; declaration.Calculate reports them.
func (s *Store) Table(ctx context.Context, kind Kind, sectors []string, from, to time.Time) (declaration.MixTable, error) {
	t := declaration.MixTable{Hourly: map[declaration.Key]declaration.Mix{}, Defaults: map[string]declaration.Mix{}}
	var hourly []struct {
		Sector     string    `bun:"sector"`
		BeginAt    time.Time `bun:"begin_at"`
		Technology string    `bun:"technology"`
		SharePPM   int64     `bun:"share_ppm"`
		CO2        int64     `bun:"co2eq_mg_per_kwh"`
		Source     string    `bun:"source"`
	}
	if err := s.db.NewRaw(`SELECT sector, begin_at, technology, share_ppm, co2eq_mg_per_kwh, source
		FROM energy_mix WHERE kind = ? AND sector IN (?) AND begin_at >= ? AND begin_at < ?
		ORDER BY sector, begin_at, technology`, string(kind), bun.In(sectors), from.UTC(), to.UTC()).Scan(ctx, &hourly); err != nil {
		return t, fmt.Errorf("load %s mix: %w", kind, err)
	}
	for _, r := range hourly {
		k := declaration.Key{Sector: r.Sector, Hour: r.BeginAt.UTC()}
		m := t.Hourly[k]
		m.Source = r.Source
		m.Parts = append(m.Parts, declaration.MixPart{Technology: r.Technology, SharePPM: r.SharePPM, CO2eqMgPerKWh: r.CO2})
		t.Hourly[k] = m
	}
	var defaults []struct {
		Sector     string `bun:"sector"`
		Technology string `bun:"technology"`
		SharePPM   int64  `bun:"share_ppm"`
		CO2        int64  `bun:"co2eq_mg_per_kwh"`
		Source     string `bun:"source"`
	}
	if err := s.db.NewRaw(`SELECT sector, technology, share_ppm, co2eq_mg_per_kwh, source
		FROM energy_mix_defaults WHERE kind = ? AND sector IN (?) ORDER BY sector, technology`,
		string(kind), bun.In(sectors)).Scan(ctx, &defaults); err != nil {
		return t, fmt.Errorf("load %s mix defaults: %w", kind, err)
	}
	for _, r := range defaults {
		m := t.Defaults[r.Sector]
		m.Source = r.Source
		m.Parts = append(m.Parts, declaration.MixPart{Technology: r.Technology, SharePPM: r.SharePPM, CO2eqMgPerKWh: r.CO2})
		t.Defaults[r.Sector] = m
	}
	return t, nil
}

// DefaultFactors returns an emission factor (mg CO2-eq per kWh) per technology label from
// the default mixes, for retired GGOs that carry no emission data of their own. A label
// with different factors in different default rows gets the residual DK1 one first.
func (s *Store) DefaultFactors(ctx context.Context) (map[string]int64, error) {
	var rows []struct {
		Technology string `bun:"technology"`
		CO2        int64  `bun:"co2eq_mg_per_kwh"`
	}
	if err := s.db.NewRaw(`SELECT DISTINCT ON (technology) technology, co2eq_mg_per_kwh
		FROM energy_mix_defaults ORDER BY technology, kind DESC, sector`).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("load default emission factors: %w", err)
	}
	out := make(map[string]int64, len(rows))
	for _, r := range rows {
		out[r.Technology] = r.CO2
	}
	return out, nil
}
