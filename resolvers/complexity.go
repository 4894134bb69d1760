package resolvers

import (
	"github.com/originhub/originhub/graph"
	"github.com/originhub/originhub/internal/agreement"
	"github.com/originhub/originhub/internal/relay"
)

// pageCost is the complexity of a connection field: its children count once per item it
// may return.
func pageCost(child int, first, last *int) int {
	n := relay.DefaultPageSize
	if first != nil {
		n = *first
	} else if last != nil {
		n = *last
	}
	n = min(max(n, 1), relay.MaxPageSize)
	return 1 + n*child
}

func setComplexity(c *graph.ComplexityRoot) {
	c.Query.Technologies = func(child int, _ *graph.TechnologyFilter, first *int, _ *string, last *int, _ *string) int {
		return pageCost(child, first, last)
	}
	c.Query.LedgerBatches = func(child int, _ *graph.LedgerBatchFilter, first *int, _ *string, last *int, _ *string) int {
		return pageCost(child, first, last)
	}
	c.Query.WebhookSubscriptions = func(child int, first *int, _ *string, last *int, _ *string) int {
		return pageCost(child, first, last)
	}
	c.Query.WebhookDeliveries = func(child int, _ *graph.WebhookDeliveryFilter, first *int, _ *string, last *int, _ *string) int {
		return pageCost(child, first, last)
	}
	c.Query.Agreements = func(child int, _ *graph.AgreementFilter, _ *agreement.Order, first *int, _ *string, last *int, _ *string) int {
		return pageCost(child, first, last)
	}
	c.Query.Forecasts = func(child int, _ *graph.ForecastFilter, first *int, _ *string, last *int, _ *string) int {
		return pageCost(child, first, last)
	}
	c.Query.Nodes = func(child int, ids []string) int { return 1 + len(ids)*child }
}
