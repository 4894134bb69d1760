// Package resolvers holds OriginHub's GraphQL resolvers: each takes the viewer from the
// context, converts the arguments, calls one domain service, and maps the result.
package resolvers

import (
	"log/slog"

	"github.com/originhub/originhub/graph"
	"github.com/originhub/originhub/internal/account"
	"github.com/originhub/originhub/internal/agreement"
	"github.com/originhub/originhub/internal/datahub"
	"github.com/originhub/originhub/internal/disclosure"
	"github.com/originhub/originhub/internal/download"
	"github.com/originhub/originhub/internal/eco"
	"github.com/originhub/originhub/internal/facility"
	"github.com/originhub/originhub/internal/forecast"
	"github.com/originhub/originhub/internal/ledger/outbox"
	"github.com/originhub/originhub/internal/ledger/publish"
	"github.com/originhub/originhub/internal/loaders"
	"github.com/originhub/originhub/internal/pubsub"
	"github.com/originhub/originhub/internal/statistics"
	"github.com/originhub/originhub/internal/technology"
	"github.com/originhub/originhub/internal/user"
	"github.com/originhub/originhub/internal/webhook"
)

// Resolver holds the services the resolvers call.
type Resolver struct {
	Users             *user.Service
	TechnologyService *technology.Service
	Batches           *outbox.Store
	DataHub           *datahub.Service
	Webhooks          *webhook.Service
	Publications      *publish.Store
	Account           *account.Service
	FacilityService   *facility.Service
	Bus               *pubsub.Bus
	Log               *slog.Logger
	// Eco computes declarations; Downloads signs their report links (nil: unsigned links).
	Eco       *eco.Service
	Downloads *download.Signer
	// Disclosures manages disclosures; PublicURL prefixes their public download links.
	DisclosureService *disclosure.Service
	PublicURL         string
	// StatisticsService computes the public analyst totals.
	StatisticsService *statistics.Service
	// AgreementService manages trade agreements; ForecastService carries forecast series
	// between accounts.
	AgreementService *agreement.Service
	ForecastService  *forecast.Service
}

// Config builds the gqlgen configuration: resolvers, directives and complexity functions.
func Config(r *Resolver) graph.Config {
	c := graph.Config{Resolvers: r}
	c.Directives.Authenticated = authenticated
	setComplexity(&c.Complexity)
	return c
}

// LoaderSources returns what the per-request loaders read from.
func (r *Resolver) LoaderSources() loaders.Sources {
	return loaders.Sources{Batches: r.Batches, DataHub: r.DataHub, Technologies: r.TechnologyService, Publications: r.Publications, Account: r.Account, Agreements: r.AgreementService}
}
