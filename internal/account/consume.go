package account

import (
	"context"
	"fmt"
	"slices"
	"time"
	_ "time/tzdata" // Europe/Copenhagen without system zone files

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"golang.org/x/sync/errgroup"

	"github.com/originhub/originhub/models"
)

// copenhagen is where agreement dates are interpreted (the reference's rule); time/tzdata
// makes it load on machines without zone files. Read-only after package load.
var copenhagen, errCopenhagen = time.LoadLocation("Europe/Copenhagen")

// maxConsumeHours bounds one on-demand consumption run.
const maxConsumeHours = 366 * 24

// retireConsumer is one of the owner's consumption points with its room for an hour.
type retireConsumer struct {
	mp      models.MeteringPoint
	address string
	room    models.WattHours // consumed minus retired (pending included), less what this run assigned
	rs      []retirement
}

// agreementConsumer is an outbound agreement with what it may still take in an hour.
type agreementConsumer struct {
	ag   models.Agreement
	left models.WattHours // fixed and percent caps minus what was transferred under it for the hour
	tech map[string]bool  // nil: any technology
	gsrn map[string]bool  // nil: any facility
}

// consumeChunkHours bounds the hours one consumption transaction covers (with
// MaxGgosPerOperation, which binds first for an owner with more than two GGOs an hour). A
// chunk is one database transaction and one ledger batch: a longer one shares its queries,
// commit and batch among more hours (the month benchmark ran at about 2,020, 2,400 and
// 2,300 GGOs/s with 48, 96 and 192 hours, where 192 is cut to about 100 by
// MaxGgosPerOperation), but holds its rows longer and, should the ledger refuse its batch,
// fails whole.
const consumeChunkHours = 96

// maxConsumeTxs bounds the ledger transactions of one consumption batch. The stand-in
// takes bodies up to 16 MiB and a transaction is under 1 KiB; MaxGgosPerOperation usually
// binds first.
const maxConsumeTxs = 2000

// consumeWorkers is how many chunks ConsumePeriod consumes at once. Chunks have disjoint
// hours, so they lock disjoint rows, and one chunk's round trips overlap another's signing.
const consumeWorkers = 2

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
//
// An hour with more GGOs than MaxGgosPerOperation is consumed in as many operations (each
// its own transaction and batch), in the same order and with the same result as in one: each
// takes the next GGOs in expiry order and loads the caps and rooms the ones before left.
// It returns the operations; none when there was nothing to do.
// Errors: *InputError (hour not whole), database errors.
func (s *Service) ConsumeHour(ctx context.Context, owner int64, hour time.Time) ([]models.GgoOperation, error) {
	hour = hour.UTC()
	if !hour.Equal(hour.Truncate(time.Hour)) {
		return nil, &InputError{Field: "input.hour", Message: "must be a whole hour"}
	}
	return s.consumeChunk(ctx, owner, []time.Time{hour})
}

// ConsumePeriod consumes every hour in [from, until) where the owner holds STORED GGOs, as
// ConsumeHour does, a chunk of hours per database transaction and ledger batch (at most
// consumeChunkHours hours and MaxGgosPerOperation GGOs), consumeWorkers chunks at a time.
// Hours are independent, so the result is the same as consuming them one by one. Each
// hour that moved something is an operation of its own, in the consumption log as before;
// a chunk's operations share its ledger batch, so the ledger commits or refuses them
// together. It returns those operations in hour order; on an error, those done so far.
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
	var due []struct {
		BeginAt time.Time `bun:"begin_at"`
		N       int       `bun:"n"`
	}
	if err := s.db.NewSelect().Model((*models.Ggo)(nil)).ColumnExpr("g.begin_at, count(*) AS n").
		Where("g.user_id = ? AND g.state = 'STORED' AND g.begin_at >= ? AND g.begin_at < ?", owner, from, until).
		GroupExpr("g.begin_at").OrderExpr("g.begin_at").Scan(ctx, &due); err != nil {
		return nil, fmt.Errorf("hours to consume: %w", err)
	}
	hours, counts := make([]time.Time, len(due)), make([]int, len(due))
	for i, d := range due {
		hours[i], counts[i] = d.BeginAt.UTC(), d.N
	}
	chunks := consumeChunks(hours, counts, consumeChunkHours, s.cfg.MaxGgosPerOperation)
	done := make([][]models.GgoOperation, len(chunks))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(consumeWorkers)
	for i, chunk := range chunks {
		g.Go(func() (err error) {
			defer func() {
				if p := recover(); p != nil {
					err = fmt.Errorf("consume from %s: panic: %v", chunk[0].Format(time.RFC3339), p)
				}
			}()
			done[i], err = s.consumeChunk(gctx, owner, chunk)
			return err
		})
	}
	err := g.Wait()
	return slices.Concat(done...), err
}

// consumeChunk consumes hours (ascending) a transaction at a time, as many hours as fit
// each, and an hour too big for one transaction in several. It returns the operations, also
// those done before an error.
func (s *Service) consumeChunk(ctx context.Context, owner int64, hours []time.Time) ([]models.GgoOperation, error) {
	var out []models.GgoOperation
	var after *ggoCursor
	for len(hours) > 0 {
		ops, n, next, err := s.consumeHours(ctx, owner, hours, after)
		out = append(out, ops...)
		if err != nil {
			return out, fmt.Errorf("consume from %s: %w", hours[0].Format(time.RFC3339), err)
		}
		hours, after = hours[n:], next
		if next == nil && n == 0 {
			hours = hours[1:] // cannot happen (consumeRange handles at least one hour); never loop
		}
	}
	return out, nil
}

// ggoCursor is where a consumption run stopped in an hour too big for one run: the last GGO
// it took, in the order runs take them (begin, expiry, id).
type ggoCursor struct {
	beginAt, expiresAt time.Time
	id                 int64
}

// consumeChunks groups hours (ascending, each with its count of GGOs) into chunks of at
// most maxHours hours and maxGgos GGOs; an hour with more GGOs than that is a chunk alone.
func consumeChunks(hours []time.Time, counts []int, maxHours, maxGgos int) [][]time.Time {
	var out [][]time.Time
	start, ggos := 0, 0
	for i := range hours {
		if i > start && (i-start == maxHours || ggos+counts[i] > maxGgos) {
			out = append(out, hours[start:i:i])
			start, ggos = i, 0
		}
		ggos += counts[i]
	}
	if start < len(hours) {
		out = append(out, hours[start:])
	}
	return out
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

// consumeHours consumes a chunk of hours (ascending) in one transaction and queues its
// batch. It returns the operations, one per hour that moved something, how many of the
// hours it handled (fewer than all when the chunk outgrew one batch) and, when it stopped
// within the next hour, where to go on in it. after, if not nil, is where to go on in the
// first hour.
func (s *Service) consumeHours(ctx context.Context, owner int64, hours []time.Time, after *ggoCursor) ([]models.GgoOperation, int, *ggoCursor, error) {
	var ops []models.GgoOperation
	var batchID string
	var done int
	var next *ggoCursor
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var err error
		ops, batchID, done, next, err = s.consumeRange(ctx, tx, owner, hours, after)
		return err
	})
	if err != nil {
		return nil, 0, nil, err
	}
	if batchID != "" {
		s.enqueue(ctx, batchID)
	}
	return ops, done, next, nil
}

// consumeRange consumes hours (ascending, whole) in tx, with one ledger batch and one
// operation per hour that moved something, starting after `after` in the first hour if it
// is set. It returns the operations, the batch, how many of the hours it handled (at least
// one, unless it cut an hour too big for one run) and, when it cut one, where to go on in
// it. Every hour is decided exactly as if it were consumed alone: hours share no caps,
// rooms or GGOs, only the queries that load them.
func (s *Service) consumeRange(ctx context.Context, tx bun.Tx, owner int64, hours []time.Time, after *ggoCursor) ([]models.GgoOperation, string, int, *ggoCursor, error) {
	unix := make([]int64, len(hours))
	for i, h := range hours {
		unix[i] = h.Unix()
	}
	// All the chunk's hour locks in one statement, in ascending hour order: a run of one
	// hour takes one of them, so runs of overlapping hours queue instead of deadlocking.
	if _, err := tx.ExecContext(ctx, `SELECT count(pg_advisory_xact_lock(hashtextextended('originhub:consume:' || ?::text || ':' || h::text, 0)))
		FROM (SELECT h FROM unnest(?::bigint[]) AS u(h) ORDER BY h) AS o`, owner, pgdialect.Array(unix)); err != nil {
		return nil, "", 0, nil, fmt.Errorf("lock consumption hours: %w", err)
	}
	retirers, err := retireConsumers(ctx, tx, owner, hours)
	if err != nil {
		return nil, "", 0, nil, err
	}
	ags, err := outboundAgreements(ctx, tx, owner, hours)
	if err != nil {
		return nil, "", 0, nil, err
	}
	var routed []time.Time
	for _, h := range hours {
		if len(retirers[h.Unix()]) > 0 || len(inForce(ags, h)) > 0 {
			routed = append(routed, h)
		}
	}
	if len(routed) == 0 {
		return nil, "", len(hours), nil, nil // nothing to route to: leave the GGOs unlocked
	}
	// Within an hour in expiry order, as a run of one hour takes them.
	var ggos []models.Ggo
	limit := s.cfg.MaxGgosPerOperation
	q := tx.NewSelect().Model(&ggos).
		Where("g.user_id = ? AND g.state = 'STORED' AND g.begin_at IN (?) AND g.expires_at > ?", owner, bun.In(routed), s.clock())
	if after != nil {
		q = q.Where("(g.begin_at, g.expires_at, g.id) > (?, ?, ?)", after.beginAt, after.expiresAt, after.id)
	}
	if err := q.OrderExpr("g.begin_at, g.expires_at, g.id").Limit(int64(limit + 1)).For("UPDATE").Scan(ctx); err != nil {
		return nil, "", 0, nil, fmt.Errorf("lock ggos of the hours: %w", err)
	}
	ggos, done, cut := fitBatch(ggos, hours, limit)
	var next *ggoCursor
	if cut {
		last := ggos[len(ggos)-1]
		next = &ggoCursor{beginAt: last.BeginAt, expiresAt: last.ExpiresAt, id: last.ID}
	}
	if len(ggos) == 0 {
		return nil, "", done, nil, nil
	}
	// The hours with GGOs, and where each one's GGOs start.
	var held []time.Time
	var starts []int
	for i, g := range ggos {
		if i == 0 || !g.BeginAt.Equal(ggos[i-1].BeginAt) {
			held, starts = append(held, g.BeginAt.UTC()), append(starts, i)
		}
	}
	starts = append(starts, len(ggos))
	caps, err := s.agreementCaps(ctx, tx, owner, ags, held)
	if err != nil {
		return nil, "", 0, nil, err
	}
	rooms, err := counterpartRooms(ctx, tx, ags, held)
	if err != nil {
		return nil, "", 0, nil, err
	}
	var labels map[string]string
	var gsrns map[int64]string
	for _, a := range ags {
		if a.tech != nil && labels == nil {
			if labels, err = technologyLabels(ctx, tx, ggos); err != nil {
				return nil, "", 0, nil, err
			}
		}
		if a.gsrn != nil && gsrns == nil {
			if gsrns, err = issuingGSRNs(ctx, tx, ggos); err != nil {
				return nil, "", 0, nil, err
			}
		}
	}

	var plans []hourPlan
	var txs int
	var amount models.WattHours
	for i, h := range held {
		in := caps.forHour(ags, h)
		p := planHour(owner, h, ggos[starts[i]:starts[i+1]], retirers[h.Unix()], in, roomsAt(rooms, in, h), labels, gsrns)
		if len(plans) > 0 && txs+p.txs > maxConsumeTxs {
			done = min(done, hoursBefore(hours, h))
			break
		}
		plans = append(plans, p)
		txs, amount = txs+p.txs, amount+p.amount
	}
	if amount == 0 {
		return nil, "", done, next, nil
	}
	b, err := s.newBuilder(ctx, tx, owner)
	if err != nil {
		return nil, "", 0, nil, err
	}
	// Every key the chunk signs with or makes, derived up front in batches.
	keys, hourKeys := map[int64]int{}, map[int64][]time.Time{}
	var spent []string
	for i := range plans {
		plans[i].needs(keys, hourKeys)
		for _, m := range plans[i].moves {
			spent = append(spent, m.g.KeyPath)
		}
	}
	if err := b.prepareOwnKeys(spent); err != nil {
		return nil, "", 0, nil, err
	}
	if err := b.prepareKeys(ctx, keys); err != nil {
		return nil, "", 0, nil, err
	}
	if err := b.prepareHourKeys(ctx, hourKeys); err != nil {
		return nil, "", 0, nil, err
	}
	for i := range plans {
		if err := plans[i].build(ctx, b); err != nil {
			return nil, "", 0, nil, err
		}
	}
	ops, batchID, err := s.finishConsumption(ctx, b, plans)
	if err != nil {
		return nil, "", 0, nil, err
	}
	return ops, batchID, done, next, nil
}

// fitBatch keeps of ggos (by hour, up to limit+1 of them) those of the hours that fit one
// batch of limit GGOs whole, and says how many of hours that covers. If the first hour
// alone does not fit, it keeps that hour's first limit GGOs and reports the hour cut: the
// hours before it are done, and the next run goes on in it after the last GGO kept.
func fitBatch(ggos []models.Ggo, hours []time.Time, limit int) (kept []models.Ggo, done int, cut bool) {
	if len(ggos) <= limit {
		return ggos, len(hours), false
	}
	at := ggos[limit].BeginAt
	if at.Equal(ggos[0].BeginAt) {
		return ggos[:limit], hoursBefore(hours, at), true
	}
	return ggos[:slices.IndexFunc(ggos, func(g models.Ggo) bool { return g.BeginAt.Equal(at) })], hoursBefore(hours, at), false
}

// hoursBefore counts the hours (ascending) before t.
func hoursBefore(hours []time.Time, t time.Time) int {
	n, _ := slices.BinarySearchFunc(hours, t, func(h, t time.Time) int { return h.Compare(t) })
	return n
}

// finishConsumption writes what b built for plans: the batch to the outbox, one operation
// per hour that moved something (all on the one batch, so the ledger settles them together),
// the new parts, the consumed GGOs' locks and the consumption log, each in one statement.
// It is builder.finish with an operation per hour.
func (s *Service) finishConsumption(ctx context.Context, b *builder, plans []hourPlan) ([]models.GgoOperation, string, error) {
	batch, err := b.writeBatch(ctx)
	if err != nil {
		return nil, "", err
	}
	var ops []models.GgoOperation
	for _, p := range plans {
		if p.amount > 0 {
			ops = append(ops, models.GgoOperation{UserID: b.owner, Kind: models.OperationConsume, AmountWh: p.amount, BatchID: &batch.ID, State: models.OperationPending})
		}
	}
	if _, err := b.tx.NewInsert().Model(&ops).Returning("id, created_at").Exec(ctx); err != nil {
		return nil, "", fmt.Errorf("record operations: %w", err)
	}
	opOf := make(map[int64]int64, len(ops)) // hour (Unix) → its operation
	hourOf := map[int64]int64{}             // consumed GGO → its hour (Unix)
	var entries []models.ConsumptionEntry
	for _, p := range plans {
		if p.amount == 0 {
			continue
		}
		op := ops[len(opOf)].ID
		opOf[p.hour.Unix()] = op
		for _, m := range p.moves {
			hourOf[m.g.ID] = p.hour.Unix()
		}
		for _, e := range p.entries {
			e.OperationID = op
			entries = append(entries, e)
		}
	}
	for i := range b.parts {
		op := opOf[b.parts[i].BeginAt.Unix()]
		b.parts[i].BatchID, b.parts[i].OperationID = &batch.ID, &op
	}
	if err := insertParts(ctx, b.tx, b.parts); err != nil {
		return nil, "", err
	}
	if err := b.lockSpent(ctx, batch.ID, func(sp spend) int64 { return opOf[hourOf[sp.id]] }); err != nil {
		return nil, "", err
	}
	if err := insertEntries(ctx, b.tx, entries); err != nil {
		return nil, "", err
	}
	return ops, batch.ID, nil
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

// technologyLabels maps the "technology/fuel" codes of ggos to their labels.
func technologyLabels(ctx context.Context, tx bun.IDB, ggos []models.Ggo) (map[string]string, error) {
	var techs, fuels []string
	seen := map[string]bool{}
	for _, g := range ggos {
		if k := g.TechnologyCode + "/" + g.FuelCode; !seen[k] {
			seen[k] = true
			techs, fuels = append(techs, g.TechnologyCode), append(fuels, g.FuelCode)
		}
	}
	var rows []models.Technology
	if err := tx.NewSelect().Model(&rows).
		Join("JOIN unnest(?::text[], ?::text[]) AS k(technology_code, fuel_code) ON k.technology_code = t.technology_code AND k.fuel_code = t.fuel_code",
			pgdialect.Array(techs), pgdialect.Array(fuels)).Scan(ctx); err != nil {
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
