// Package loaders holds the dataloaders that batch the lookups GraphQL resolvers make. A
// Loaders is built per request (and per subscription event) for one viewer, so every batch
// is scoped to that viewer and no cache outlives a request.
package loaders

import (
	"context"
	"time"

	"github.com/vikstrous/dataloadgen"

	"github.com/originhub/originhub/internal/account"
	"github.com/originhub/originhub/internal/agreement"
	"github.com/originhub/originhub/internal/datahub"
	"github.com/originhub/originhub/internal/ledger/outbox"
	"github.com/originhub/originhub/internal/ledger/publish"
	"github.com/originhub/originhub/internal/technology"
	"github.com/originhub/originhub/internal/user"
	"github.com/originhub/originhub/models"
)

// Sources are the services the loaders read from.
type Sources struct {
	Batches      *outbox.Store
	DataHub      *datahub.Service
	Technologies *technology.Service
	Publications *publish.Store
	Account      *account.Service
	Agreements   *agreement.Service
}

// Loaders are one viewer's dataloaders.
type Loaders struct {
	ledgerBatch      *dataloadgen.Loader[string, models.LedgerBatch]
	meteringPoint    *dataloadgen.Loader[int64, models.MeteringPoint]
	importJob        *dataloadgen.Loader[int64, models.ImportJob]
	technology       *dataloadgen.Loader[technology.Key, models.Technology]
	measurementState *dataloadgen.Loader[publish.HourKey, models.MeasurementLedgerState]
	ggo              *dataloadgen.Loader[int64, models.Ggo]
	operation        *dataloadgen.Loader[int64, models.GgoOperation]
	accountReference *dataloadgen.Loader[int64, string]
	revision         *dataloadgen.Loader[account.HourKey, models.MeasurementRevision]
	counterpart      *dataloadgen.Loader[int64, models.User]
	transferred      *dataloadgen.Loader[int64, models.WattHours]
}

// A short wait: resolvers of one GraphQL level run together, so 1 ms gathers them without
// adding the default 16 ms to every request.
var opts = []dataloadgen.Option{dataloadgen.WithWait(time.Millisecond), dataloadgen.WithBatchCapacity(500)}

// New returns loaders for viewer v.
func New(src Sources, v user.Viewer) *Loaders {
	return &Loaders{
		ledgerBatch: dataloadgen.NewMappedLoader(func(ctx context.Context, ids []string) (map[string]models.LedgerBatch, error) {
			return src.Batches.ByIDs(ctx, v.UserID, ids)
		}, opts...),
		meteringPoint: dataloadgen.NewMappedLoader(func(ctx context.Context, ids []int64) (map[int64]models.MeteringPoint, error) {
			return src.DataHub.MeteringPointsByIDs(ctx, v.UserID, ids)
		}, opts...),
		importJob: dataloadgen.NewMappedLoader(func(ctx context.Context, ids []int64) (map[int64]models.ImportJob, error) {
			return src.DataHub.ImportJobsByIDs(ctx, v.UserID, ids)
		}, opts...),
		technology: dataloadgen.NewMappedLoader(src.Technologies.ByKeys, opts...),
		ggo: dataloadgen.NewMappedLoader(func(ctx context.Context, ids []int64) (map[int64]models.Ggo, error) {
			return src.Account.ByIDs(ctx, v.UserID, ids)
		}, opts...),
		operation: dataloadgen.NewMappedLoader(func(ctx context.Context, ids []int64) (map[int64]models.GgoOperation, error) {
			return src.Account.OperationsByIDs(ctx, v.UserID, ids)
		}, opts...),
		accountReference: dataloadgen.NewMappedLoader(src.Account.AccountReferences, opts...),
		revision:         dataloadgen.NewMappedLoader(src.Account.Revisions, opts...),
		measurementState: dataloadgen.NewMappedLoader(func(ctx context.Context, keys []publish.HourKey) (map[publish.HourKey]models.MeasurementLedgerState, error) {
			return src.Publications.ByHours(ctx, v.UserID, keys)
		}, opts...),
		counterpart: dataloadgen.NewMappedLoader(func(ctx context.Context, ids []int64) (map[int64]models.User, error) {
			return src.Agreements.CounterpartsByIDs(ctx, v.UserID, ids)
		}, opts...),
		transferred: dataloadgen.NewMappedLoader(func(ctx context.Context, ids []int64) (map[int64]models.WattHours, error) {
			return src.Agreements.TransferredByIDs(ctx, v.UserID, ids)
		}, opts...),
	}
}

type ctxKey struct{}

// With returns ctx carrying l.
func With(ctx context.Context, l *Loaders) context.Context {
	return context.WithValue(ctx, ctxKey{}, l)
}

// For returns the loaders of ctx, or nil for an anonymous request.
func For(ctx context.Context) *Loaders {
	l, _ := ctx.Value(ctxKey{}).(*Loaders)
	return l
}

// LedgerBatch loads one of the viewer's ledger batches; dataloadgen.ErrNotFound if it is
// not theirs or does not exist.
func (l *Loaders) LedgerBatch(ctx context.Context, id string) (models.LedgerBatch, error) {
	return l.ledgerBatch.Load(ctx, id)
}

// PrimeLedgerBatches stores batches a list query already loaded.
func (l *Loaders) PrimeLedgerBatches(bs []models.LedgerBatch) {
	for _, b := range bs {
		l.ledgerBatch.Prime(b.ID, b)
	}
}

// MeteringPoint loads one of the viewer's metering points; dataloadgen.ErrNotFound if it is
// not theirs.
func (l *Loaders) MeteringPoint(ctx context.Context, id int64) (models.MeteringPoint, error) {
	return l.meteringPoint.Load(ctx, id)
}

// PrimeMeteringPoints stores metering points a list query already loaded.
func (l *Loaders) PrimeMeteringPoints(mps []models.MeteringPoint) {
	for _, m := range mps {
		l.meteringPoint.Prime(m.ID, m)
	}
}

// ImportJob loads one of the viewer's import jobs.
func (l *Loaders) ImportJob(ctx context.Context, id int64) (models.ImportJob, error) {
	return l.importJob.Load(ctx, id)
}

// Technology loads the label of a technology/fuel code pair (public data).
func (l *Loaders) Technology(ctx context.Context, k technology.Key) (models.Technology, error) {
	return l.technology.Load(ctx, k)
}

// MeasurementLedgerState loads the ledger state of the viewer's measurement of
// meteringPointID at begin; dataloadgen.ErrNotFound if it is not published (or not theirs).
func (l *Loaders) MeasurementLedgerState(ctx context.Context, meteringPointID int64, begin time.Time) (models.MeasurementLedgerState, error) {
	return l.measurementState.Load(ctx, publish.KeyOf(meteringPointID, begin))
}

// Ggo loads one of the viewer's GGOs.
func (l *Loaders) Ggo(ctx context.Context, id int64) (models.Ggo, error) { return l.ggo.Load(ctx, id) }

// Operation loads one of the viewer's operations.
func (l *Loaders) Operation(ctx context.Context, id int64) (models.GgoOperation, error) {
	return l.operation.Load(ctx, id)
}

// AccountReference loads a user's account reference.
func (l *Loaders) AccountReference(ctx context.Context, userID int64) (string, error) {
	return l.accountReference.Load(ctx, userID)
}

// Revision loads the latest revision of a production hour; dataloadgen.ErrNotFound if none.
func (l *Loaders) Revision(ctx context.Context, k account.HourKey) (models.MeasurementRevision, error) {
	return l.revision.Load(ctx, k)
}

// Counterpart loads the public profile (name, company, account reference) of a user who
// shares an agreement with the viewer; dataloadgen.ErrNotFound for anyone else.
func (l *Loaders) Counterpart(ctx context.Context, userID int64) (models.User, error) {
	return l.counterpart.Load(ctx, userID)
}

// Transferred loads what was transferred under one of the viewer's agreements.
func (l *Loaders) Transferred(ctx context.Context, agreementID int64) (models.WattHours, error) {
	return l.transferred.Load(ctx, agreementID)
}
