package account

import (
	"context"
	"fmt"
	"slices"
	"time"
	_ "time/tzdata" // Europe/Copenhagen without system zone files

	"github.com/uptrace/bun"

	"github.com/originhub/originhub/models"
)

// copenhagen is where agreement dates are interpreted (the reference's rule); time/tzdata
// makes it load on machines without zone files. Read-only after package load.
var copenhagen, errCopenhagen = time.LoadLocation("Europe/Copenhagen")

// maxConsumeHours bounds one on-demand consumption run.
const maxConsumeHours = 366 * 24

// retireConsumer is one of the owner's consumption points with its room for the hour.
type retireConsumer struct {
	mp      models.MeteringPoint
	address string
	room    models.WattHours // consumed minus retired (pending included), less what this run assigned
	rs      []retirement
}

// agreementConsumer is an outbound agreement with what it may still take this hour.
type agreementConsumer struct {
	ag   models.Agreement
	left models.WattHours // fixed and percent caps minus what was transferred under it for the hour
	tech map[string]bool  // nil: any technology
	gsrn map[string]bool  // nil: any facility
}

// ConsumeHour routes the owner's STORED GGOs of one hour automatically: first retired to the
// owner's consumption points by retiring priority, each up to what it consumed (published on
// the ledger) minus what is already retired to it; then transferred to the owner's ACCEPTED
// outbound agreements for that date by transfer priority, each up to its caps (fixed amount
// per hour, percent of the owner's supply for the hour, counting what was already
// transferred under it), restricted by its technologies and facilities, and for
// limit-to-consumption agreements up to the counterpart's unretired consumption less what
// the counterpart already holds for the hour. Only a GGO that goes to more than one place is
// split; what is left stays with the owner.
//
// Everything happens in one database transaction and one ledger batch. An advisory lock per
// (owner, hour) serialises runs for the same hour, the consumption hours are locked before
// the GGOs (the order Retire uses), and every cap counts pending parts, so re-running an
// hour, or two racing runs, never retire or transfer twice. It returns nil when there was
// nothing to do. Each amount moved is recorded as a ConsumptionEntry with its rule.
// Errors: *InputError (hour not whole), database errors.
func (s *Service) ConsumeHour(ctx context.Context, owner int64, hour time.Time) (*models.GgoOperation, error) {
	hour = hour.UTC()
	if !hour.Equal(hour.Truncate(time.Hour)) {
		return nil, &InputError{Field: "input.hour", Message: "must be a whole hour"}
	}
	var op *models.GgoOperation
	var batchID string
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		op, batchID = nil, ""
		var err error
		op, batchID, err = s.consumeHour(ctx, tx, owner, hour)
		return err
	})
	if err != nil {
		return nil, err
	}
	if batchID != "" {
		s.enqueue(ctx, batchID)
	}
	return op, nil
}

// ConsumePeriod runs ConsumeHour for every hour in [from, until), in order, each in its own
// transaction, and returns the operations that moved something.
// Errors: *InputError (bad range), those of ConsumeHour.
func (s *Service) ConsumePeriod(ctx context.Context, owner int64, from, until time.Time) ([]models.GgoOperation, error) {
	from, until = from.UTC(), until.UTC()
	if err := hourRange(from, until, maxConsumeHours); err != nil {
		return nil, err
	}
	if ok, err := s.routes(ctx, s.db, owner, from, until); err != nil || !ok {
		return nil, err
	}
	// Only hours where the owner holds something can change.
	var hours []time.Time
	if err := s.db.NewSelect().Model((*models.Ggo)(nil)).ColumnExpr("DISTINCT g.begin_at").
		Where("g.user_id = ? AND g.state = 'STORED' AND g.begin_at >= ? AND g.begin_at < ?", owner, from, until).
		OrderExpr("g.begin_at").Scan(ctx, &hours); err != nil {
		return nil, fmt.Errorf("hours to consume: %w", err)
	}
	var ops []models.GgoOperation
	for _, h := range hours {
		op, err := s.ConsumeHour(ctx, owner, h)
		if err != nil {
			return ops, fmt.Errorf("consume %s: %w", h.Format(time.RFC3339), err)
		}
		if op != nil {
			ops = append(ops, *op)
		}
	}
	return ops, nil
}

// routes reports whether automatic consumption can move anything of owner's in [from,
// until): whether the owner has a retire-receiving consumption point or an ACCEPTED outbound
// agreement in force then. Most accounts have neither (a trader that only receives), and
// every GGO they receive triggers consumption: for them this one query is all it costs.
func (s *Service) routes(ctx context.Context, db bun.IDB, owner int64, from, until time.Time) (bool, error) {
	var ok bool
	if err := db.NewRaw(`SELECT EXISTS (SELECT 1 FROM metering_points
			WHERE user_id = ? AND type = 'CONSUMPTION' AND retiring_priority IS NOT NULL)
		OR EXISTS (SELECT 1 FROM agreements WHERE from_user_id = ? AND state = 'ACCEPTED'
			AND date_from <= (?::timestamptz AT TIME ZONE 'Europe/Copenhagen')::date
			AND date_to >= (?::timestamptz AT TIME ZONE 'Europe/Copenhagen')::date)`,
		owner, owner, until.Add(-time.Hour), from).Scan(ctx, &ok); err != nil {
		return false, fmt.Errorf("consumption routes of user %d: %w", owner, err)
	}
	return ok, nil
}

func (s *Service) consumeHour(ctx context.Context, tx bun.Tx, owner int64, hour time.Time) (*models.GgoOperation, string, error) {
	if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(hashtextextended('originhub:consume:' || ?::text || ':' || ?::text, 0))",
		owner, hour.Unix()); err != nil {
		return nil, "", fmt.Errorf("lock consumption hour: %w", err)
	}
	retirers, err := s.retireConsumers(ctx, tx, owner, hour)
	if err != nil {
		return nil, "", err
	}
	agreements, err := s.agreementConsumers(ctx, tx, owner, hour)
	if err != nil {
		return nil, "", err
	}
	if len(retirers) == 0 && len(agreements) == 0 {
		return nil, "", nil // nothing to route to: leave the GGOs unlocked
	}
	var ggos []models.Ggo
	if err := tx.NewSelect().Model(&ggos).
		Where("g.user_id = ? AND g.state = 'STORED' AND g.begin_at = ? AND g.expires_at > ?", owner, hour, s.clock()).
		OrderExpr("g.expires_at, g.id").Limit(int64(s.cfg.MaxGgosPerOperation)).For("UPDATE").Scan(ctx); err != nil {
		return nil, "", fmt.Errorf("lock ggos of the hour: %w", err)
	}
	if len(ggos) == 0 {
		return nil, "", nil
	}
	gsrns, err := issuingGSRNs(ctx, tx, ggos)
	if err != nil {
		return nil, "", err
	}
	labels, err := technologyLabels(ctx, tx)
	if err != nil {
		return nil, "", err
	}
	// Room left at limit-to-consumption counterparts, per (counterpart, sector).
	type cs struct {
		user   int64
		sector models.Sector
	}
	ltcRoom := map[cs]models.WattHours{}
	for _, a := range agreements {
		if !a.ag.LimitToConsumption {
			continue
		}
		for _, sec := range []models.Sector{models.SectorDK1, models.SectorDK2} {
			k := cs{a.ag.ToUserID, sec}
			if _, ok := ltcRoom[k]; ok {
				continue
			}
			room, err := counterpartRoom(ctx, tx, a.ag.ToUserID, sec, hour)
			if err != nil {
				return nil, "", err
			}
			ltcRoom[k] = room
		}
	}

	b, err := s.newBuilder(ctx, tx, owner)
	if err != nil {
		return nil, "", err
	}
	var entries []models.ConsumptionEntry
	for gi := range ggos {
		g := ggos[gi]
		left := g.AmountWh
		var shares []share
		var rules []models.ConsumptionEntry
		var retireTo []int // index into retirers per share, -1 for transfers
		for ri := range retirers {
			r := &retirers[ri]
			if left == 0 || r.mp.Sector != g.Sector || r.room <= 0 {
				continue
			}
			give := min(left, r.room)
			r.room -= give
			left -= give
			mpID := r.mp.ID
			shares = append(shares, share{owner: owner, amount: give, retireMP: &mpID})
			rules = append(rules, models.ConsumptionEntry{Rule: models.RuleRetire, MeteringPointID: &mpID, AmountWh: give})
			retireTo = append(retireTo, ri)
		}
		for ai := range agreements {
			a := &agreements[ai]
			if left == 0 || a.left <= 0 {
				continue
			}
			if a.tech != nil && !a.tech[labels[g.TechnologyCode+"/"+g.FuelCode]] {
				continue
			}
			if a.gsrn != nil && (g.MeteringPointID == nil || !a.gsrn[gsrns[*g.MeteringPointID]]) {
				continue
			}
			give := min(left, a.left)
			k := cs{a.ag.ToUserID, g.Sector}
			if a.ag.LimitToConsumption {
				give = min(give, max(ltcRoom[k], 0))
			}
			if give <= 0 {
				continue
			}
			a.left -= give
			if a.ag.LimitToConsumption {
				ltcRoom[k] -= give
			}
			left -= give
			agID := a.ag.ID
			shares = append(shares, share{owner: a.ag.ToUserID, amount: give, agreement: &agID})
			rules = append(rules, models.ConsumptionEntry{Rule: models.RuleAgreement, AgreementID: &agID, AmountWh: give})
			retireTo = append(retireTo, -1)
		}
		if len(shares) == 0 {
			continue
		}
		for i := range rules {
			rules[i].UserID, rules[i].BeginAt, rules[i].GgoID = owner, hour, g.ID
		}
		entries = append(entries, rules...)
		b.amount += g.AmountWh - left
		// The whole GGO to one place needs no split.
		if left == 0 && len(shares) == 1 {
			if ri := retireTo[0]; ri >= 0 {
				retirers[ri].rs = append(retirers[ri].rs, retirement{existing: &ggos[gi]})
			} else {
				if err := b.transferWhole(ctx, g, shares[0].owner); err != nil {
					return nil, "", err
				}
				b.parts[len(b.parts)-1].AgreementID = shares[0].agreement
			}
			continue
		}
		if left > 0 {
			shares = append(shares, share{owner: owner, amount: left})
		}
		idx, err := b.split(ctx, g, shares)
		if err != nil {
			return nil, "", err
		}
		for i, ri := range retireTo {
			if ri >= 0 {
				retirers[ri].rs = append(retirers[ri].rs, retirement{partIdx: idx[i]})
			}
		}
	}
	if b.amount == 0 {
		return nil, "", nil
	}
	for _, r := range retirers {
		if len(r.rs) == 0 {
			continue
		}
		if err := b.retire(ctx, r.mp, hour, r.address, r.rs); err != nil {
			return nil, "", err
		}
	}
	op := &models.GgoOperation{UserID: owner, Kind: models.OperationConsume, AmountWh: b.amount}
	batchID, err := b.finish(ctx, op)
	if err != nil {
		return nil, "", err
	}
	for i := range entries {
		entries[i].OperationID = op.ID
	}
	if _, err := tx.NewInsert().Model(&entries).Exec(ctx); err != nil {
		return nil, "", fmt.Errorf("record consumption entries: %w", err)
	}
	return op, batchID, nil
}

// retireConsumers locks the owner's retire-receiving consumption points' published hour
// (in metering point id order, so concurrent lockers cannot deadlock on them) and returns
// those with consumption on the ledger, by retiring priority.
func (s *Service) retireConsumers(ctx context.Context, tx bun.Tx, owner int64, hour time.Time) ([]retireConsumer, error) {
	var mps []models.MeteringPoint
	if err := tx.NewSelect().Model(&mps).
		Where("mp.user_id = ? AND mp.type = 'CONSUMPTION' AND mp.retiring_priority IS NOT NULL", owner).
		OrderExpr("mp.retiring_priority, mp.id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("load retire receivers: %w", err)
	}
	if len(mps) == 0 {
		return nil, nil
	}
	ids := make([]int64, len(mps))
	for i, mp := range mps {
		ids[i] = mp.ID
	}
	var hours []struct {
		MeteringPointID int64            `bun:"metering_point_id"`
		Address         string           `bun:"address"`
		AmountWh        models.WattHours `bun:"amount_wh"`
		Retired         models.WattHours `bun:"retired"`
	}
	err := tx.NewRaw(`
		SELECT p.metering_point_id, p.address, p.amount_wh,
		       coalesce((SELECT sum(g.amount_wh) FROM ggos g
		                 WHERE g.retire_metering_point_id = p.metering_point_id AND g.begin_at = p.begin_at
		                   AND g.state IN ('PENDING', 'LOCKED', 'RETIRED')), 0)::bigint AS retired
		FROM measurement_publications p
		JOIN ledger_batches b ON b.id = p.batch_id AND b.status = 'COMMITTED'
		WHERE p.metering_point_id IN (?) AND p.begin_at = ?
		ORDER BY p.metering_point_id
		FOR UPDATE OF p`, bun.In(ids), hour).Scan(ctx, &hours)
	if err != nil {
		return nil, fmt.Errorf("lock consumption of the hour: %w", err)
	}
	var out []retireConsumer
	for _, mp := range mps {
		for _, h := range hours {
			if h.MeteringPointID == mp.ID {
				out = append(out, retireConsumer{mp: mp, address: h.Address, room: h.AmountWh - h.Retired})
			}
		}
	}
	return out, nil
}

// agreementConsumers loads the owner's ACCEPTED outbound agreements in force on the hour's
// Copenhagen date, by transfer priority, with what each may still take. They are locked
// FOR SHARE, so a cancel waits for a run in progress and takes effect on the next one.
func (s *Service) agreementConsumers(ctx context.Context, tx bun.Tx, owner int64, hour time.Time) ([]agreementConsumer, error) {
	if errCopenhagen != nil {
		return nil, fmt.Errorf("load time zone: %w", errCopenhagen)
	}
	date := hour.In(copenhagen).Format(time.DateOnly)
	var ags []models.Agreement
	if err := tx.NewSelect().Model(&ags).
		Where("ag.from_user_id = ? AND ag.state = 'ACCEPTED' AND ag.date_from <= ?::date AND ag.date_to >= ?::date", owner, date, date).
		OrderExpr("ag.transfer_priority NULLS LAST, ag.id").For("SHARE").Scan(ctx); err != nil {
		return nil, fmt.Errorf("load agreements: %w", err)
	}
	out := make([]agreementConsumer, 0, len(ags))
	for _, ag := range ags {
		a := agreementConsumer{ag: ag, left: models.MaxWattHours}
		if len(ag.Technologies) > 0 {
			a.tech = map[string]bool{}
			for _, t := range ag.Technologies {
				a.tech[t] = true
			}
		}
		if len(ag.FacilityGSRNs) > 0 {
			a.gsrn = map[string]bool{}
			for _, g := range ag.FacilityGSRNs {
				a.gsrn[g] = true
			}
		}
		var sent models.WattHours
		if err := tx.NewSelect().Model((*models.Ggo)(nil)).ColumnExpr("coalesce(sum(g.amount_wh), 0)::bigint").
			Where("g.agreement_id = ? AND g.begin_at = ?", ag.ID, hour).Scan(ctx, &sent); err != nil {
			return nil, fmt.Errorf("transferred under agreement %d: %w", ag.ID, err)
		}
		if c := ag.CapWh(); c != nil {
			a.left = min(a.left, *c-sent)
		}
		if ag.AmountPercent != nil {
			supply, err := s.supply(ctx, tx, owner, hour, ag)
			if err != nil {
				return nil, err
			}
			a.left = min(a.left, supply*models.WattHours(*ag.AmountPercent)/100-sent)
		}
		out = append(out, a)
	}
	return out, nil
}

// supply is what the owner obtained for the hour (issued or received, arrived), among the
// GGOs the agreement accepts: the base of its percentage. Spent GGOs keep their rows, so
// the figure does not shrink as the hour is consumed, and a re-run computes the same cap.
func (s *Service) supply(ctx context.Context, tx bun.IDB, owner int64, hour time.Time, ag models.Agreement) (models.WattHours, error) {
	q := tx.NewSelect().Model((*models.Ggo)(nil)).ColumnExpr("coalesce(sum(g.amount_wh), 0)::bigint").
		Where("g.user_id = ? AND g.begin_at = ? AND g.origin IN ('ISSUED', 'RECEIVED') AND g.state <> 'PENDING'", owner, hour)
	f := Filter{Technologies: ag.Technologies, GSRNs: ag.FacilityGSRNs}
	var v models.WattHours
	if err := q.Apply(f.apply).Scan(ctx, &v); err != nil {
		return 0, fmt.Errorf("supply of the hour: %w", err)
	}
	return v, nil
}

// counterpartRoom is what a limit-to-consumption counterpart can still use in a sector for
// the hour: its retire receivers' unretired consumption, less what it holds or is receiving
// for the hour (which its own consumption will retire first).
func counterpartRoom(ctx context.Context, tx bun.IDB, user int64, sector models.Sector, hour time.Time) (models.WattHours, error) {
	var room models.WattHours
	err := tx.NewRaw(`
		SELECT (coalesce((SELECT sum(p.amount_wh - coalesce((SELECT sum(g.amount_wh) FROM ggos g
		                      WHERE g.retire_metering_point_id = p.metering_point_id AND g.begin_at = p.begin_at
		                        AND g.state IN ('PENDING', 'LOCKED', 'RETIRED')), 0))
		          FROM measurement_publications p
		          JOIN ledger_batches b ON b.id = p.batch_id AND b.status = 'COMMITTED'
		          JOIN metering_points mp ON mp.id = p.metering_point_id
		          WHERE mp.user_id = ? AND mp.type = 'CONSUMPTION' AND mp.retiring_priority IS NOT NULL AND mp.sector = ?
		            AND p.begin_at = ?), 0)
		      - coalesce((SELECT sum(g.amount_wh) FROM ggos g
		          WHERE g.user_id = ? AND g.sector = ? AND g.begin_at = ? AND g.retire_metering_point_id IS NULL
		            AND g.state IN ('STORED', 'PENDING')), 0))::bigint`,
		user, sector, hour, user, sector, hour).Scan(ctx, &room)
	if err != nil {
		return 0, fmt.Errorf("consumption room of user %d: %w", user, err)
	}
	return room, nil
}

// issuingGSRNs maps the issuing production points of ggos to their GSRNs.
func issuingGSRNs(ctx context.Context, tx bun.IDB, ggos []models.Ggo) (map[int64]string, error) {
	var ids []int64
	for _, g := range ggos {
		if g.MeteringPointID != nil && !slices.Contains(ids, *g.MeteringPointID) {
			ids = append(ids, *g.MeteringPointID)
		}
	}
	out := map[int64]string{}
	if len(ids) == 0 {
		return out, nil
	}
	var rows []models.MeteringPoint
	if err := tx.NewSelect().Model(&rows).Column("id", "gsrn").Where("mp.id IN (?)", bun.In(ids)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("load issuing gsrns: %w", err)
	}
	for _, r := range rows {
		out[r.ID] = r.GSRN
	}
	return out, nil
}

// technologyLabels maps "technology/fuel" codes to labels.
func technologyLabels(ctx context.Context, tx bun.IDB) (map[string]string, error) {
	var rows []models.Technology
	if err := tx.NewSelect().Model(&rows).Scan(ctx); err != nil {
		return nil, fmt.Errorf("load technologies: %w", err)
	}
	out := make(map[string]string, len(rows))
	for _, t := range rows {
		out[t.TechnologyCode+"/"+t.FuelCode] = t.Label
	}
	return out, nil
}

// ConsumptionLog returns what automatic consumption did for the owner in [from, until), by
// hour, with the state of each operation's ledger batch.
func (s *Service) ConsumptionLog(ctx context.Context, owner int64, from, until time.Time) ([]models.ConsumptionEntry, error) {
	var out []models.ConsumptionEntry
	if err := s.db.NewSelect().Model(&out).ColumnExpr("ce.*, op.state AS operation_state, mp.gsrn, ag.public_id::text AS agreement_public_id").
		Join("JOIN ggo_operations op ON op.id = ce.operation_id").
		Join("LEFT JOIN metering_points mp ON mp.id = ce.metering_point_id").
		Join("LEFT JOIN agreements ag ON ag.id = ce.agreement_id").
		Where("ce.user_id = ? AND ce.begin_at >= ? AND ce.begin_at < ?", owner, from.UTC(), until.UTC()).
		OrderExpr("ce.begin_at, ce.id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("load consumption log: %w", err)
	}
	return out, nil
}
