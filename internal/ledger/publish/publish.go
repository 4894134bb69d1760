// Package publish publishes imported measurements to the ledger: one PublishMeasurement
// transaction per hour, signed by the metering point's key m/1/i and addressed to the
// hour's key m/1/i/t, batched and written to the outbox in the same transaction as the
// measurement_publications rows that record them. An INVALID batch deletes its rows, so
// the hours can be published again.
package publish

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/uptrace/bun"

	"github.com/originhub/originhub/internal/ledger"
	"github.com/originhub/originhub/internal/ledger/outbox"
	"github.com/originhub/originhub/internal/ledger/wallet"
	"github.com/originhub/originhub/models"
)

// Kind is the outbox kind of measurement publication batches.
const Kind = "PUBLISH_MEASUREMENTS"

// MaxTxPerBatch bounds the transactions of one batch; a longer window gives several batches.
const MaxTxPerBatch = 100

// ErrNotFound is returned when the metering point does not exist.
var ErrNotFound = errors.New("metering point not found")

// Hour is one measurement about to be published, with its hour key.
type Hour struct {
	Point       models.MeteringPoint
	Measurement models.Measurement
	// Key is m/1/i/t: it owns the hour's MEASUREMENT, GGO and SETTLEMENT addresses.
	Key *ledger.Key
	// Address is the hour's MEASUREMENT address.
	Address string
}

// Extra adds transactions for an hour after its PublishMeasurement, in the same batch and
// database transaction (issue 6: IssueGGO for production hours). It may write its own rows
// with tx. The hour's transactions are never split across batches.
type Extra func(ctx context.Context, tx bun.IDB, signer *ledger.Key, h Hour) ([]ledger.Tx, error)

// Service publishes measurements.
type Service struct {
	db      *bun.DB
	wallets *wallet.Service
	outbox  *outbox.Service
	extra   Extra
	log     *slog.Logger
}

// NewService returns a Service; extra may be nil.
func NewService(db *bun.DB, wallets *wallet.Service, ob *outbox.Service, extra Extra, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{db: db, wallets: wallets, outbox: ob, extra: extra, log: log}
}

// Hooks are the outbox hooks of publication batches: an INVALID batch removes its
// publication rows (the hours can be published again); COMMITTED needs nothing, since the
// status is read from the batch.
func Hooks() outbox.Hooks {
	return outbox.Hooks{OnInvalid: func(ctx context.Context, tx bun.IDB, b models.LedgerBatch) error {
		if _, err := tx.NewDelete().Model((*models.MeasurementLedgerState)(nil)).Where("batch_id = ?", b.ID).Exec(ctx); err != nil {
			return fmt.Errorf("remove publications of batch %s: %w", b.ID, err)
		}
		return nil
	}}
}

// PublishMeasurements publishes meteringPointID's measurements with begin in [from, to)
// that are not published or on their way yet, and returns the ids of the batches written.
// The metering point row is locked FOR UPDATE for the transaction, so concurrent calls for
// one point never publish an hour twice; the batches are queued after the commit.
// Errors: ErrNotFound, ledger.ErrInvalidRequest (e.g. an hour past 2038), database errors.
func (s *Service) PublishMeasurements(ctx context.Context, meteringPointID int64, from, to time.Time) ([]string, error) {
	var ids []string
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		ids = ids[:0]
		var mp models.MeteringPoint
		err := tx.NewSelect().Model(&mp).Where("mp.id = ?", meteringPointID).For("UPDATE").Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("publish measurements of %d: %w", meteringPointID, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("lock metering point %d: %w", meteringPointID, err)
		}
		var ms []models.Measurement
		err = tx.NewSelect().Model(&ms).
			Where("m.metering_point_id = ?", meteringPointID).
			Where("m.begin_at >= ? AND m.begin_at < ?", from.UTC(), to.UTC()).
			Where("NOT EXISTS (SELECT 1 FROM measurement_publications p WHERE p.metering_point_id = m.metering_point_id AND p.begin_at = m.begin_at)").
			OrderExpr("m.begin_at").Scan(ctx)
		if err != nil {
			return fmt.Errorf("load unpublished measurements of %d: %w", meteringPointID, err)
		}
		if len(ms) == 0 {
			return nil
		}
		signer, err := s.wallets.MeteringPointKey(ctx, tx, meteringPointID)
		if err != nil {
			return err
		}
		ids, err = s.write(ctx, tx, mp, signer, ms)
		return err
	})
	if err != nil {
		return nil, err
	}
	if err := s.outbox.Enqueue(ctx, ids...); err != nil {
		// Committed: the sweeper posts them after the outbox grace period.
		s.log.WarnContext(ctx, "ledger batches not queued", "metering_point_id", meteringPointID, "error", err)
	}
	return ids, nil
}

// write builds the batches of ms and stores them with their publication rows.
func (s *Service) write(ctx context.Context, tx bun.IDB, mp models.MeteringPoint, signer *ledger.Key, ms []models.Measurement) ([]string, error) {
	var ids []string
	var txs []ledger.Tx
	var rows []models.MeasurementLedgerState
	flush := func() error {
		if len(txs) == 0 {
			return nil
		}
		b, err := ledger.NewBatch(signer, txs...)
		if err != nil {
			return fmt.Errorf("build publication batch of %d: %w", mp.ID, err)
		}
		if err := s.outbox.Write(ctx, tx, b, mp.UserID, Kind); err != nil {
			return err
		}
		for i := range rows {
			rows[i].BatchID = b.ID
		}
		if _, err := tx.NewInsert().Model(&rows).Exec(ctx); err != nil {
			return fmt.Errorf("record publications of %d: %w", mp.ID, err)
		}
		ids = append(ids, b.ID)
		txs, rows = txs[:0], rows[:0]
		return nil
	}
	mtype := ledger.Consumption
	if mp.Type == models.MeteringPointProduction {
		mtype = ledger.Production
	}
	for _, m := range ms {
		key, err := signer.MeasurementKey(m.BeginAt.UTC())
		if err != nil {
			return nil, err
		}
		h := Hour{Point: mp, Measurement: m, Key: key, Address: key.Address(ledger.PrefixMeasurement)}
		pub, err := ledger.PublishMeasurement(signer, ledger.Measurement{
			Address: h.Address, Begin: m.BeginAt.UTC(), Sector: string(mp.Sector), Type: mtype, Amount: int64(m.AmountWh),
		})
		if err != nil {
			return nil, fmt.Errorf("publish %d at %s: %w", mp.ID, m.BeginAt.UTC().Format(time.RFC3339), err)
		}
		hourTxs := []ledger.Tx{pub}
		if s.extra != nil {
			more, err := s.extra(ctx, tx, signer, h)
			if err != nil {
				return nil, err
			}
			hourTxs = append(hourTxs, more...)
		}
		if len(txs)+len(hourTxs) > MaxTxPerBatch {
			if err := flush(); err != nil {
				return nil, err
			}
		}
		txs = append(txs, hourTxs...)
		rows = append(rows, models.MeasurementLedgerState{MeteringPointID: mp.ID, BeginAt: m.BeginAt.UTC(), Address: h.Address, AmountWh: m.AmountWh})
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return ids, nil
}
