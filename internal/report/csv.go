package report

import (
	"encoding/csv"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/originhub/originhub/internal/declaration"
)

// CSV columns before the technology columns. Amounts are kWh with 3 decimals (exact from
// Wh), emissions g CO2-eq with 3 decimals, intensities g CO2-eq per kWh with 3 decimals,
// the matched share a fraction with 6 decimals; all rounded half up. Then one column
// "kwh:<technology>" per technology of the individual declaration and one
// "general_kwh:<technology>" per technology of the general one.
var csvColumns = []string{
	"hour_utc", "hour_local", "sector",
	"consumed_kwh", "retired_kwh", "matched_kwh", "excess_kwh", "matched_share",
	"co2_g", "co2_g_per_kwh", "residual_mix",
	"general_co2_g", "general_co2_g_per_kwh", "grid_mix",
}

// TotalLabel is the hour_utc of the totals row that ends the CSV.
const TotalLabel = "total"

// WriteCSV writes the declaration as CSV: a header, one row per sector-hour (in time order,
// with where its mixes came from: hourly, default or missing), and a totals row whose
// hour_utc is "total" and whose mix columns count the hours by source.
func WriteCSV(w io.Writer, m Meta, d declaration.Declaration) error {
	cw := csv.NewWriter(w)
	techs := techNames(d.Individual)
	gtechs := techNames(d.General)
	head := append([]string{}, csvColumns...)
	for _, t := range techs {
		head = append(head, "kwh:"+t)
	}
	for _, t := range gtechs {
		head = append(head, "general_kwh:"+t)
	}
	if err := cw.Write(head); err != nil {
		return fmt.Errorf("write csv header: %w", err)
	}
	row := func(utc, local, sector string, ind, gen declaration.Summary, res, grid string) error {
		rec := []string{
			utc, local, sector,
			kWh(ind.ConsumedWh), kWh(ind.RetiredWh), kWh(ind.MatchedWh), kWh(ind.ExcessWh), ind.Matched().Decimal(6),
			grams(ind.EmissionsUG), ind.Intensity().Decimal(3), res,
			grams(gen.EmissionsUG), gen.Intensity().Decimal(3), grid,
		}
		rec = append(rec, techColumns(ind, techs)...)
		rec = append(rec, techColumns(gen, gtechs)...)
		return cw.Write(rec)
	}
	loc := m.loc()
	for _, h := range d.Hours {
		if err := row(h.Hour.Format(time.RFC3339), h.Hour.In(loc).Format(time.RFC3339), h.Sector, h.Individual, h.General, h.Residual.String(), h.Grid.String()); err != nil {
			return fmt.Errorf("write csv row: %w", err)
		}
	}
	if err := row(TotalLabel, "", sectorList(d), d.Individual, d.General, useCounts(d, true), useCounts(d, false)); err != nil {
		return fmt.Errorf("write csv totals: %w", err)
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	return nil
}

func techNames(s declaration.Summary) []string {
	names := make([]string, len(s.Technologies))
	for i, t := range s.Technologies {
		names[i] = t.Technology
	}
	return names
}

// techColumns gives s's energy per technology in names, "0.000" for those it lacks.
func techColumns(s declaration.Summary, names []string) []string {
	by := make(map[string]int64, len(s.Technologies))
	for _, t := range s.Technologies {
		by[t.Technology] = t.Wh
	}
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = kWh(by[n])
	}
	return out
}

// sectorList names the sectors of d's hours, space separated, sorted.
func sectorList(d declaration.Declaration) string {
	seen := map[string]bool{}
	var list []string
	for _, h := range d.Hours {
		if !seen[h.Sector] {
			seen[h.Sector] = true
			list = append(list, h.Sector)
		}
	}
	sort.Strings(list)
	return strings.Join(list, " ")
}

// useCounts summarises where the hours' residual (or grid) mixes came from.
func useCounts(d declaration.Declaration, residual bool) string {
	var n [3]int
	for _, h := range d.Hours {
		u := h.Grid
		if residual {
			u = h.Residual
		}
		n[u]++
	}
	return fmt.Sprintf("hourly %d; default %d; missing %d", n[declaration.MixHourly], n[declaration.MixDefault], n[declaration.MixMissing])
}
