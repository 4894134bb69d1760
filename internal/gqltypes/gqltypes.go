// Package gqltypes names the instantiations of generic types that the GraphQL schema binds
// to (gqlgen binds a schema type to a named Go type).
package gqltypes

import (
	"github.com/originhub/originhub/internal/relay"
	"github.com/originhub/originhub/models"
)

// Connections and edges bound by gqlgen.yml.
type (
	TechnologyConnection  = relay.Connection[models.Technology]
	TechnologyEdge        = relay.Edge[models.Technology]
	LedgerBatchConnection = relay.Connection[models.LedgerBatch]
	LedgerBatchEdge       = relay.Edge[models.LedgerBatch]

	MeteringPointConnection = relay.Connection[models.MeteringPoint]
	MeteringPointEdge       = relay.Edge[models.MeteringPoint]
	MeasurementConnection   = relay.Connection[models.Measurement]
	MeasurementEdge         = relay.Edge[models.Measurement]
	ImportJobConnection     = relay.Connection[models.ImportJob]
	ImportJobEdge           = relay.Edge[models.ImportJob]

	GgoConnection                 = relay.Connection[models.Ggo]
	GgoEdge                       = relay.Edge[models.Ggo]
	GgoOperationConnection        = relay.Connection[models.GgoOperation]
	GgoOperationEdge              = relay.Edge[models.GgoOperation]
	WebhookSubscriptionConnection = relay.Connection[models.WebhookSubscription]
	WebhookSubscriptionEdge       = relay.Edge[models.WebhookSubscription]
	WebhookDeliveryConnection     = relay.Connection[models.WebhookDelivery]
	WebhookDeliveryEdge           = relay.Edge[models.WebhookDelivery]
	AgreementConnection           = relay.Connection[models.Agreement]
	AgreementEdge                 = relay.Edge[models.Agreement]
	ForecastConnection            = relay.Connection[models.Forecast]
	ForecastEdge                  = relay.Edge[models.Forecast]
)
