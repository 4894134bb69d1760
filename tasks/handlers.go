package tasks

import (
	"log/slog"
	"time"

	"github.com/hibiken/asynq"
	"github.com/uptrace/bun"

	"github.com/originhub/originhub/internal/account"
	"github.com/originhub/originhub/internal/datahub"
	"github.com/originhub/originhub/internal/disclosure"
	"github.com/originhub/originhub/internal/ledger/outbox"
	"github.com/originhub/originhub/internal/ledger/publish"
	"github.com/originhub/originhub/internal/webhook"
)

// Handlers holds what task handlers need.
type Handlers struct {
	DB    *bun.DB
	Log   *slog.Logger
	Clock func() time.Time

	DataHub *datahub.Service

	Outbox    *outbox.Service
	Publisher *publish.Service
	Account   *account.Service

	Webhooks *webhook.Service

	Disclosures *disclosure.Service
}

func (h *Handlers) register(mux *asynq.ServeMux) {
	mux.HandleFunc(TypeEnsurePartitions, h.HandleEnsurePartitions)
	mux.HandleFunc(TypeImport, h.HandleImport)
	mux.HandleFunc(TypeImportAll, h.HandleImportAll)
	mux.HandleFunc(TypeExpireGgos, h.HandleExpireGgos)
	mux.HandleFunc(TypeConsume, h.HandleConsume)
	mux.HandleFunc(TypeCompactGgoRollup, h.HandleCompactGgoRollup)
	mux.HandleFunc(TypeWebhookDeliver, h.HandleWebhookDeliver)
	mux.HandleFunc(TypeWebhookSweep, h.HandleWebhookSweep)
	mux.HandleFunc(TypeDisclosureCompile, h.HandleDisclosureCompile)
	mux.HandleFunc(TypeDisclosureSweep, h.HandleDisclosureSweep)
	h.registerLedger(mux)
}
