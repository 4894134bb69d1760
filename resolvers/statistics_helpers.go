package resolvers

import (
	"github.com/originhub/originhub/graph"
	"github.com/originhub/originhub/internal/statistics"
	"github.com/originhub/originhub/models"
)

func statisticsQuery(where graph.StatisticsFilter, res graph.Resolution, timeZone *string) statistics.Query {
	q := statistics.Query{Resolution: string(res), Technologies: where.Technology}
	if where.Begin != nil {
		if where.Begin.Gte != nil {
			q.From = *where.Begin.Gte
		}
		if where.Begin.Lt != nil {
			q.To = *where.Begin.Lt
		}
	}
	if timeZone != nil {
		q.TimeZone = *timeZone
	}
	for _, s := range where.Sector {
		q.Sectors = append(q.Sectors, string(s))
	}
	for _, k := range where.Kind {
		q.Kinds = append(q.Kinds, statistics.Kind(k))
	}
	return q
}

func statisticsResult(r statistics.Result) *graph.Statistics {
	out := &graph.Statistics{Begin: r.From, End: r.To, MinimumContributors: statistics.MinContributors, Suppressed: r.Suppressed,
		Points: make([]graph.StatisticsPoint, len(r.Points))}
	for i, p := range r.Points {
		out.Points[i] = graph.StatisticsPoint{Begin: p.Begin, Kind: graph.StatisticsKind(p.Kind), Sector: models.Sector(p.Sector), Technology: models.NonEmpty[string](p.Technology), Amount: models.WattHours(p.AmountWh)}
	}
	return out
}
