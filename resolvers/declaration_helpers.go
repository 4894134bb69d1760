package resolvers

import (
	"github.com/originhub/originhub/graph"
	"github.com/originhub/originhub/internal/declaration"
	"github.com/originhub/originhub/internal/download"
	"github.com/originhub/originhub/internal/eco"
	"github.com/originhub/originhub/models"
)

var declarationResolutions = map[graph.DeclarationResolution]declaration.Resolution{
	graph.DeclarationResolutionHour:  declaration.Hour,
	graph.DeclarationResolutionDay:   declaration.Day,
	graph.DeclarationResolutionMonth: declaration.Month,
	graph.DeclarationResolutionYear:  declaration.Year,
	graph.DeclarationResolutionAll:   declaration.All,
}

func declarationQuery(where graph.DeclarationFilter, timeZone *string, res *graph.DeclarationResolution) eco.Query {
	q := eco.Query{GSRNs: where.Gsrn, Resolution: declaration.All}
	if where.Begin.Gte != nil {
		q.From = *where.Begin.Gte
	}
	if where.Begin.Lt != nil {
		q.To = *where.Begin.Lt
	}
	if timeZone != nil {
		q.TimeZone = *timeZone
	}
	if res != nil {
		q.Resolution = declarationResolutions[*res]
	}
	return q
}

// downloadURL links a declaration download: signed for the viewer when a signer is set,
// else the bare path (which needs the Authorization header).
func (r *Resolver) downloadURL(path string, q eco.Query, userID int64) string {
	if r.Downloads == nil {
		return path + "?" + download.DeclarationParams(q).Encode()
	}
	return r.Downloads.URL(path, download.DeclarationParams(q), userID)
}

func declarationResult(res eco.Result, gqlRes graph.DeclarationResolution, csvURL, pdfURL string) *graph.Declaration {
	d := res.Declaration
	out := &graph.Declaration{
		Begin: res.From, End: res.To, TimeZone: res.TimeZone, Resolution: gqlRes,
		Gsrn:       make([]string, len(res.Points)),
		Individual: declarationSummary(d.Individual), General: declarationSummary(d.General),
		Periods:      make([]graph.DeclarationPeriod, len(res.Periods)),
		MissingHours: make([]graph.MissingMixHour, 0, len(d.MissingResidual)+len(d.MissingGrid)),
		CSVURL:       csvURL, PDFURL: pdfURL,
	}
	for i, p := range res.Points {
		out.Gsrn[i] = p.GSRN
	}
	for i, p := range res.Periods {
		out.Periods[i] = graph.DeclarationPeriod{Hours: p.Hours, Individual: declarationSummary(p.Individual), General: declarationSummary(p.General)}
		if !p.Start.IsZero() {
			start := p.Start
			out.Periods[i].Begin = &start
		}
	}
	missing := func(kind graph.EnergyMixKind, ms []declaration.Missing) {
		for _, m := range ms {
			fb := graph.MixFallbackDefault
			if m.Use == declaration.MixMissing {
				fb = graph.MixFallbackNone
			}
			out.MissingHours = append(out.MissingHours, graph.MissingMixHour{Hour: m.Hour, Sector: models.Sector(m.Sector), Kind: kind, Fallback: fb})
		}
	}
	missing(graph.EnergyMixKindResidual, d.MissingResidual)
	missing(graph.EnergyMixKindGrid, d.MissingGrid)
	return out
}

func ratioOrNil(r declaration.Ratio, places int) *string {
	if !r.Defined() {
		return nil
	}
	s := r.Decimal(places)
	return &s
}

func declarationSummary(s declaration.Summary) *graph.DeclarationSummary {
	out := &graph.DeclarationSummary{
		Consumed: models.WattHours(s.ConsumedWh), Retired: models.WattHours(s.RetiredWh), Matched: models.WattHours(s.MatchedWh),
		Excess: models.WattHours(s.ExcessWh), Undeclared: models.WattHours(s.UndeclaredWh),
		MatchedShare:    ratioOrNil(s.Matched(), 6),
		EmissionsGrams:  declaration.FormatScaled(s.EmissionsUG, 6),
		EmissionsPerKwh: ratioOrNil(s.Intensity(), 3),
		Technologies:    make([]graph.DeclarationTechnology, len(s.Technologies)),
	}
	for i, t := range s.Technologies {
		out.Technologies[i] = graph.DeclarationTechnology{
			Technology: t.Technology, Amount: models.WattHours(t.Wh),
			Share: ratioOrNil(t.Share(s.ConsumedWh), 6), EmissionsGrams: declaration.FormatScaled(t.EmissionsUG, 6),
		}
	}
	return out
}
