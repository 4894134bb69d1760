package account

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/uptrace/bun"

	"github.com/originhub/originhub/internal/ledger"
	"github.com/originhub/originhub/internal/ledger/outbox"
	"github.com/originhub/originhub/internal/ledger/publish"
	"github.com/originhub/originhub/internal/ledger/wallet"
	"github.com/originhub/originhub/models"
)

// OperationKind is the outbox kind of transfer, retire and compose batches.
const OperationKind = "GGO_OPERATION"

// Config configures the account service.
type Config struct {
	// ExpireAfter is a GGO's lifetime from its issue time (the reference's GGO_EXPIRE_TIME).
	ExpireAfter time.Duration
	// MaxGgosPerOperation bounds the GGOs one operation may consume (one ledger batch).
	MaxGgosPerOperation int
}

// Service is the GGO wallet.
type Service struct {
	db       *bun.DB
	wallets  *wallet.Service
	outbox   *outbox.Service
	cfg      Config
	log      *slog.Logger
	clock    func() time.Time
	webhooks Emitter        // nil: no webhooks
	consume  ConsumeTrigger // nil: no automatic consumption
}

// NewService returns a Service.
func NewService(db *bun.DB, wallets *wallet.Service, ob *outbox.Service, cfg Config, log *slog.Logger, clock func() time.Time) *Service {
	if cfg.ExpireAfter == 0 {
		cfg.ExpireAfter = 90 * 24 * time.Hour
	}
	if cfg.MaxGgosPerOperation == 0 {
		cfg.MaxGgosPerOperation = 200
	}
	return &Service{db: db, wallets: wallets, outbox: ob, cfg: cfg, log: log, clock: clock}
}

// Issue is the publish.Extra that issues a GGO for a production hour in the same batch as
// its measurement: one GGO per hour with energy and known technology, at the GGO address
// of the hour's key, owned by the metering point's owner. The GGO is PENDING until the
// batch commits (IssueHooks).
func (s *Service) Issue(ctx context.Context, tx bun.IDB, _ *ledger.Key, h publish.Hour) ([]ledger.Tx, error) {
	mp, m := h.Point, h.Measurement
	if mp.Type != models.MeteringPointProduction || m.AmountWh <= 0 || mp.TechnologyCode == nil || mp.FuelCode == nil {
		return nil, nil
	}
	addr := h.Key.Address(ledger.PrefixGGO)
	issue, err := ledger.IssueGGO(h.Key, ledger.Issue{
		MeasurementAddress: h.Address, GGOAddress: addr, TechType: *mp.TechnologyCode, FuelType: *mp.FuelCode,
	})
	if err != nil {
		return nil, fmt.Errorf("issue ggo for %s at %s: %w", mp.GSRN, m.BeginAt.UTC().Format(time.RFC3339), err)
	}
	// The GGO's id comes with the key index, so that it can be its own root in the insert
	// (an issued GGO is the root of every part split from it).
	var row struct {
		KeyIndex int   `bun:"key_index"`
		ID       int64 `bun:"id"`
	}
	if err := tx.NewRaw("SELECT key_index, nextval(pg_get_serial_sequence('ggos', 'id')) AS id FROM metering_points WHERE id = ?", mp.ID).Scan(ctx, &row); err != nil {
		return nil, fmt.Errorf("key index of %s: %w", mp.GSRN, err)
	}
	keyIndex := row.KeyIndex
	t, err := ledger.MeasurementIndex(m.BeginAt.UTC())
	if err != nil {
		return nil, err
	}
	now := s.clock()
	mpID := mp.ID
	g := models.Ggo{
		ID: row.ID, RootID: &row.ID,
		UserID: mp.UserID, MeteringPointID: &mpID, BeginAt: m.BeginAt.UTC(), EndAt: m.BeginAt.UTC().Add(time.Hour),
		AmountWh: m.AmountWh, Sector: mp.Sector, TechnologyCode: *mp.TechnologyCode, FuelCode: *mp.FuelCode,
		State: models.GgoPending, Origin: models.GgoIssued, Address: addr,
		KeyPath:  "m/1/" + strconv.Itoa(keyIndex) + "/" + strconv.FormatUint(uint64(t), 10),
		IssuedAt: now, ExpiresAt: now.Add(s.cfg.ExpireAfter),
	}
	// A re-published hour (its earlier batch was INVALID and rolled back) issues again; the
	// unique index on (metering point, hour) of issued GGOs makes a second live one impossible.
	if _, err := tx.NewInsert().Model(&g).Exec(ctx); err != nil {
		return nil, fmt.Errorf("record issued ggo: %w", err)
	}
	return []ledger.Tx{issue}, nil
}

// IssueHooks finalise the GGOs issued in a publication batch: STORED when it commits (and
// announced as GGO_ISSUED, with the publication as MEASUREMENT_PUBLISHED), removed when it
// is refused. They run before the publication's own hooks, while its publication rows
// still tell which hours the batch carried.
func (s *Service) IssueHooks() outbox.Hooks {
	const hours = `(g.metering_point_id, g.begin_at) IN (SELECT metering_point_id, begin_at FROM measurement_publications WHERE batch_id = ?)`
	return outbox.Hooks{
		OnCommitted: func(ctx context.Context, tx bun.IDB, b models.LedgerBatch) error {
			var issued []models.Ggo
			err := tx.NewUpdate().Model(&issued).
				Set("state = 'STORED', updated_at = now()").
				Where("g.origin = 'ISSUED' AND g.state = 'PENDING'").Where(hours, b.ID).Returning("*").Scan(ctx)
			if err != nil {
				return fmt.Errorf("store ggos issued in %s: %w", b.ID, err)
			}
			spans := storedSpans(issued)
			if err := consumptionSpans(ctx, tx, b.ID, spans); err != nil {
				return err
			}
			s.triggerConsumption(ctx, "publish:"+b.ID, spans)
			for owner, evs := range ggoEvents(issued, nil) {
				if err := s.emit(ctx, tx, owner, models.WebhookGGOIssued, map[string]any{"batchId": b.ID, "ggos": evs}); err != nil {
					return err
				}
			}
			if b.UserID != nil {
				var pubs []struct {
					GSRN    string    `bun:"gsrn" json:"gsrn"`
					BeginAt time.Time `bun:"begin_at" json:"begin"`
					Amount  int64     `bun:"amount_wh" json:"amount"`
					Address string    `bun:"address" json:"address"`
				}
				if err := tx.NewRaw(`SELECT mp.gsrn, p.begin_at, p.amount_wh, p.address FROM measurement_publications p
					JOIN metering_points mp ON mp.id = p.metering_point_id WHERE p.batch_id = ? ORDER BY mp.gsrn, p.begin_at`, b.ID).Scan(ctx, &pubs); err != nil {
					return fmt.Errorf("load publications of %s: %w", b.ID, err)
				}
				if len(pubs) > 0 {
					if err := s.emit(ctx, tx, *b.UserID, models.WebhookMeasurementPublished, map[string]any{"batchId": b.ID, "measurements": pubs}); err != nil {
						return err
					}
				}
			}
			return nil
		},
		OnInvalid: func(ctx context.Context, tx bun.IDB, b models.LedgerBatch) error {
			_, err := tx.NewDelete().Model((*models.Ggo)(nil)).
				Where("g.origin = 'ISSUED' AND g.state = 'PENDING'").Where(hours, b.ID).Exec(ctx)
			if err != nil {
				return fmt.Errorf("remove ggos issued in %s: %w", b.ID, err)
			}
			return nil
		},
	}
}

// Chain runs hooks in order; the first error stops them.
func Chain(hs ...outbox.Hooks) outbox.Hooks {
	return outbox.Hooks{
		OnCommitted: func(ctx context.Context, tx bun.IDB, b models.LedgerBatch) error {
			for _, h := range hs {
				if h.OnCommitted != nil {
					if err := h.OnCommitted(ctx, tx, b); err != nil {
						return err
					}
				}
			}
			return nil
		},
		OnInvalid: func(ctx context.Context, tx bun.IDB, b models.LedgerBatch) error {
			for _, h := range hs {
				if h.OnInvalid != nil {
					if err := h.OnInvalid(ctx, tx, b); err != nil {
						return err
					}
				}
			}
			return nil
		},
	}
}

// OperationHooks finalise transfers, retires and composes. Committed: consumed GGOs take
// their next state, new parts become STORED (RETIRED for retire parts), the operation
// COMMITTED; recipients hear GGO_RECEIVED and the owner OPERATION_COMMITTED. Refused: new
// parts are removed, consumed GGOs are STORED again, the operation FAILED with the ledger's
// message, announced as OPERATION_FAILED. Both are guarded by the current states, so
// running one twice changes nothing.
func (s *Service) OperationHooks() outbox.Hooks {
	return outbox.Hooks{
		OnCommitted: func(ctx context.Context, tx bun.IDB, b models.LedgerBatch) error {
			return s.commitOperations(ctx, tx, []string{b.ID})
		},
		OnCommittedAll: func(ctx context.Context, tx bun.IDB, bs []models.LedgerBatch) error {
			ids := make([]string, len(bs))
			for i, b := range bs {
				ids[i] = b.ID
			}
			return s.commitOperations(ctx, tx, ids)
		},
		OnInvalid: func(ctx context.Context, tx bun.IDB, b models.LedgerBatch) error {
			if _, err := tx.NewDelete().Model((*models.Ggo)(nil)).Where("g.batch_id = ? AND g.state = 'PENDING'", b.ID).Exec(ctx); err != nil {
				return fmt.Errorf("remove parts of %s: %w", b.ID, err)
			}
			if _, err := tx.NewUpdate().Model((*models.Ggo)(nil)).
				Set("state = 'STORED', next_state = NULL, batch_id = NULL, operation_id = NULL, retire_metering_point_id = NULL, updated_at = now()").
				Where("g.batch_id = ? AND g.state = 'LOCKED'", b.ID).Exec(ctx); err != nil {
				return fmt.Errorf("release ggos of %s: %w", b.ID, err)
			}
			msg := "refused by the ledger"
			if b.Error != nil {
				msg = *b.Error
			}
			var ops []models.GgoOperation
			if err := tx.NewUpdate().Model(&ops).
				Set("state = 'FAILED', error = ?, finished_at = now()", msg).Where("batch_id = ? AND state = 'PENDING'", b.ID).Returning("*").Scan(ctx); err != nil {
				return fmt.Errorf("fail operation of %s: %w", b.ID, err)
			}
			return s.announce(ctx, tx, ops, nil, models.WebhookOperationFailed)
		},
	}
}

// commitOperations finalises the operations of committed batches: one statement for their
// GGOs (one rollup trigger run), where the consumed ones (LOCKED) take their next state and
// the new parts (PENDING) become STORED, or RETIRED for retire parts; only parts can come
// back STORED, which is all the announcements look at. One more for the operations.
func (s *Service) commitOperations(ctx context.Context, tx bun.IDB, batchIDs []string) error {
	var parts []models.Ggo
	if err := tx.NewUpdate().Model(&parts).
		Set(`state = CASE WHEN g.state = 'LOCKED' THEN g.next_state
			WHEN g.retire_metering_point_id IS NULL THEN 'STORED' ELSE 'RETIRED' END`).
		Set(`retired_at = CASE WHEN g.state = 'LOCKED' AND g.next_state = 'RETIRED' THEN now()
			WHEN g.state = 'PENDING' AND g.retire_metering_point_id IS NOT NULL THEN now() END`).
		Set("next_state = NULL, updated_at = now()").
		Where("g.batch_id IN (?) AND g.state IN ('LOCKED', 'PENDING')", bun.In(batchIDs)).Returning("*").Scan(ctx); err != nil {
		return fmt.Errorf("finalise ggos of %d batches: %w", len(batchIDs), err)
	}
	var ops []models.GgoOperation
	if err := tx.NewUpdate().Model(&ops).
		Set("state = 'COMMITTED', finished_at = now()").Where("batch_id IN (?) AND state = 'PENDING'", bun.In(batchIDs)).Returning("*").Scan(ctx); err != nil {
		return fmt.Errorf("commit operations of %d batches: %w", len(batchIDs), err)
	}
	// Each batch is finalised once, so its id keys this trigger apart from all others.
	s.triggerConsumption(ctx, "receive:"+batchIDs[0], storedSpans(parts, models.GgoReceived))
	return s.announce(ctx, tx, ops, parts, models.WebhookOperationCommitted)
}

// ExpireDue marks STORED GGOs whose expiry passed as EXPIRED and returns how many.
func (s *Service) ExpireDue(ctx context.Context) (int64, error) {
	res, err := s.db.NewUpdate().Model((*models.Ggo)(nil)).
		Set("state = 'EXPIRED', updated_at = now()").
		Where("g.state = 'STORED' AND g.expires_at <= ?", s.clock()).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("expire ggos: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// announce tells the owners of finished operations, and the recipients of the GGOs they
// received.
func (s *Service) announce(ctx context.Context, tx bun.IDB, ops []models.GgoOperation, parts []models.Ggo, event models.WebhookEvent) error {
	if s.webhooks == nil {
		return nil
	}
	// A group of batches concerns many users, few of whom subscribe: ask once, then write
	// deliveries only for those.
	owners := make([]int64, 0, len(ops))
	for _, op := range ops {
		owners = append(owners, op.UserID)
	}
	subscribed, err := s.webhooks.Subscribed(ctx, tx, event, owners)
	if err != nil {
		return err
	}
	for _, op := range ops {
		if !subscribed[op.UserID] {
			continue
		}
		if err := s.emit(ctx, tx, op.UserID, event, map[string]any{
			"operationId": op.ID, "kind": op.Kind, "amount": op.AmountWh, "batchId": op.BatchID, "error": op.Error, "reference": op.Reference,
		}); err != nil {
			return err
		}
	}
	var arrived []models.Ggo
	var recipients []int64
	for _, p := range parts {
		if p.Origin == models.GgoReceived && p.State == models.GgoStored {
			arrived, recipients = append(arrived, p), append(recipients, p.UserID)
		}
	}
	if len(arrived) == 0 {
		return nil
	}
	subscribed, err = s.webhooks.Subscribed(ctx, tx, models.WebhookGGOReceived, recipients)
	if err != nil {
		return err
	}
	var received []models.Ggo
	senders := map[int64]bool{}
	for _, p := range arrived {
		if subscribed[p.UserID] {
			received = append(received, p)
			senders[*p.ReceivedFromUserID] = true
		}
	}
	if len(received) == 0 {
		return nil
	}
	ids := make([]int64, 0, len(senders))
	for id := range senders {
		ids = append(ids, id)
	}
	refs, err := accountReferences(ctx, tx, ids)
	if err != nil {
		return err
	}
	for owner, evs := range ggoEvents(received, refs) {
		if err := s.emit(ctx, tx, owner, models.WebhookGGOReceived, map[string]any{"ggos": evs}); err != nil {
			return err
		}
	}
	return nil
}
