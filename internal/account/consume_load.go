package account

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"github.com/originhub/originhub/models"
)

// retireConsumers locks the published consumption of the owner's retire-receiving points
// at hours, in (point, hour) order so that concurrent lockers cannot deadlock on it (Retire
// locks a point's hours in hour order), and returns per hour (Unix) the points with
// consumption on the ledger, by retiring priority, each with its room: consumed less what
// is retired to it, pending retires included.
func retireConsumers(ctx context.Context, tx bun.Tx, owner int64, hours []time.Time) (map[int64][]retireConsumer, error) {
	var mps []models.MeteringPoint
	if err := tx.NewSelect().Model(&mps).
		Where("mp.user_id = ? AND mp.type = 'CONSUMPTION' AND mp.retiring_priority IS NOT NULL", owner).
		OrderExpr("mp.retiring_priority, mp.id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("load retire receivers: %w", err)
	}
	if len(mps) == 0 {
		return nil, nil
	}
	// Every (point, hour) pair, looked up by the primary key one by one: as an IN list per
	// column, with the table's statistics stale or missing (autovacuum off), Postgres
	// scanned every hour of the points for each ledger batch, 85 ms a chunk at 4,000 hours.
	pairMPs, pairHours := make([]int64, 0, len(mps)*len(hours)), make([]time.Time, 0, len(mps)*len(hours))
	for _, mp := range mps {
		for _, h := range hours {
			pairMPs, pairHours = append(pairMPs, mp.ID), append(pairHours, h)
		}
	}
	pairs := `unnest(?::bigint[], ?::timestamptz[]) AS k(mp, t)
		JOIN measurement_publications p ON p.metering_point_id = k.mp AND p.begin_at = k.t`
	var rows []struct {
		MeteringPointID int64            `bun:"metering_point_id"`
		BeginAt         time.Time        `bun:"begin_at"`
		Address         string           `bun:"address"`
		AmountWh        models.WattHours `bun:"amount_wh"`
		Retired         models.WattHours `bun:"retired"`
	}
	// Lock, then read in a statement of its own, as Retire does: a row lock waited for does
	// not refresh what the locking statement computed from its snapshot, so the sums of a
	// retire that held the lock would be missed.
	var locked int
	if err := tx.NewRaw(`
		SELECT count(*) FROM (
			SELECT 1 FROM `+pairs+`
			`+onLedgerSQL+`
			ORDER BY p.metering_point_id, p.begin_at
			FOR UPDATE OF p) AS l`, pgdialect.Array(pairMPs), pgdialect.Array(pairHours)).Scan(ctx, &locked); err != nil {
		return nil, fmt.Errorf("lock consumption of the hours: %w", err)
	}
	if err := tx.NewRaw(`
		SELECT p.metering_point_id, p.begin_at, p.address, p.amount_wh,
		       `+retiredSQL+`::bigint AS retired
		FROM `+pairs+`
		`+onLedgerSQL, pgdialect.Array(pairMPs), pgdialect.Array(pairHours)).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("read consumption of the hours: %w", err)
	}
	type pointHour struct{ mp, hour int64 }
	at := make(map[pointHour]int, len(rows))
	for i, r := range rows {
		at[pointHour{r.MeteringPointID, r.BeginAt.Unix()}] = i
	}
	out := make(map[int64][]retireConsumer, len(hours))
	for _, h := range hours {
		for _, mp := range mps {
			if i, ok := at[pointHour{mp.ID, h.Unix()}]; ok {
				r := rows[i]
				out[h.Unix()] = append(out[h.Unix()], retireConsumer{mp: mp, address: r.Address, room: r.AmountWh - r.Retired})
			}
		}
	}
	return out, nil
}

// outboundAgreements loads the owner's ACCEPTED outbound agreements in force on any of the
// hours' Copenhagen dates, by transfer priority. They are locked FOR SHARE, so a cancel
// waits for a run in progress and takes effect on the next one.
func outboundAgreements(ctx context.Context, tx bun.Tx, owner int64, hours []time.Time) ([]agreementConsumer, error) {
	if errCopenhagen != nil {
		return nil, fmt.Errorf("load time zone: %w", errCopenhagen)
	}
	first, last := copenhagenDate(hours[0]), copenhagenDate(hours[len(hours)-1])
	var ags []models.Agreement
	if err := tx.NewSelect().Model(&ags).
		Where("ag.from_user_id = ? AND ag.state = 'ACCEPTED' AND ag.date_from <= ?::date AND ag.date_to >= ?::date", owner, last, first).
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
		out = append(out, a)
	}
	return out, nil
}

// copenhagenDate is the date (YYYY-MM-DD) of t in Copenhagen, where agreement dates are.
func copenhagenDate(t time.Time) string { return t.In(copenhagen).Format(time.DateOnly) }

// inForce returns the agreements of ags in force on the Copenhagen date of hour, in order,
// as copies the caller may use up.
func inForce(ags []agreementConsumer, hour time.Time) []agreementConsumer {
	date := copenhagenDate(hour)
	var out []agreementConsumer
	for _, a := range ags {
		if a.ag.DateFrom.Format(time.DateOnly) <= date && a.ag.DateTo.Format(time.DateOnly) >= date {
			out = append(out, a)
		}
	}
	return out
}

// agreementHour keys a figure of one agreement at one hour (Unix).
type agreementHour struct{ ag, hour int64 }

// agreementCaps holds what the caps of agreements depend on, per agreement and hour.
type agreementCaps struct {
	sent   map[agreementHour]models.WattHours // transferred under it, pending parts included
	supply map[agreementHour]models.WattHours // percent agreements: the base of the percentage
}

// agreementCaps loads, for ags at hours, what was transferred under each and, for percent
// agreements, the owner's supply: what it obtained for the hour (issued or received,
// arrived) among the GGOs the agreement accepts. Spent GGOs keep their rows, so the supply
// does not shrink as the hour is consumed, and a re-run computes the same cap.
func (s *Service) agreementCaps(ctx context.Context, tx bun.Tx, owner int64, ags []agreementConsumer, hours []time.Time) (agreementCaps, error) {
	c := agreementCaps{sent: map[agreementHour]models.WattHours{}, supply: map[agreementHour]models.WattHours{}}
	if len(ags) == 0 {
		return c, nil
	}
	ids := make([]int64, len(ags))
	for i, a := range ags {
		ids[i] = a.ag.ID
	}
	var sent []struct {
		AgreementID int64            `bun:"agreement_id"`
		BeginAt     time.Time        `bun:"begin_at"`
		AmountWh    models.WattHours `bun:"amount_wh"`
	}
	if err := tx.NewSelect().Model((*models.Ggo)(nil)).ColumnExpr("g.agreement_id, g.begin_at, sum(g.amount_wh)::bigint AS amount_wh").
		Where("g.agreement_id IN (?) AND g.begin_at IN (?)", bun.In(ids), bun.In(hours)).
		GroupExpr("g.agreement_id, g.begin_at").Scan(ctx, &sent); err != nil {
		return c, fmt.Errorf("transferred under agreements: %w", err)
	}
	for _, r := range sent {
		c.sent[agreementHour{r.AgreementID, r.BeginAt.Unix()}] = r.AmountWh
	}
	for _, a := range ags {
		if a.ag.AmountPercent == nil {
			continue
		}
		var supply []struct {
			BeginAt  time.Time        `bun:"begin_at"`
			AmountWh models.WattHours `bun:"amount_wh"`
		}
		f := Filter{Technologies: a.ag.Technologies, GSRNs: a.ag.FacilityGSRNs}
		if err := tx.NewSelect().Model((*models.Ggo)(nil)).ColumnExpr("g.begin_at, sum(g.amount_wh)::bigint AS amount_wh").
			Where("g.user_id = ? AND g.begin_at IN (?) AND g.origin IN ('ISSUED', 'RECEIVED') AND g.state <> 'PENDING'", owner, bun.In(hours)).
			Apply(f.apply).GroupExpr("g.begin_at").Scan(ctx, &supply); err != nil {
			return c, fmt.Errorf("supply under agreement %d: %w", a.ag.ID, err)
		}
		for _, r := range supply {
			c.supply[agreementHour{a.ag.ID, r.BeginAt.Unix()}] = r.AmountWh
		}
	}
	return c, nil
}

// forHour returns the agreements of ags in force at hour, each with what it may still take
// then: its fixed cap and its percentage of the supply, less what was transferred under it.
func (c agreementCaps) forHour(ags []agreementConsumer, hour time.Time) []agreementConsumer {
	out := inForce(ags, hour)
	for i := range out {
		a := &out[i]
		k := agreementHour{a.ag.ID, hour.Unix()}
		sent := c.sent[k]
		if fixed := a.ag.CapWh(); fixed != nil {
			a.left = min(a.left, *fixed-sent)
		}
		if a.ag.AmountPercent != nil {
			a.left = min(a.left, c.supply[k]*models.WattHours(*a.ag.AmountPercent)/100-sent)
		}
	}
	return out
}

// roomKey keys a limit-to-consumption counterpart's room in a sector at an hour (Unix).
type roomKey struct {
	user   int64
	sector models.Sector
	hour   int64
}

// counterpartRooms is what the limit-to-consumption counterparts of ags can still use at
// hours, per sector: their retire receivers' unretired consumption, less what they hold or
// are receiving for the hour (which their own consumption will retire first).
func counterpartRooms(ctx context.Context, tx bun.Tx, ags []agreementConsumer, hours []time.Time) (map[roomKey]models.WattHours, error) {
	var users []int64
	for _, a := range ags {
		if a.ag.LimitToConsumption && !slices.Contains(users, a.ag.ToUserID) {
			users = append(users, a.ag.ToUserID)
		}
	}
	if len(users) == 0 {
		return nil, nil
	}
	var rows []struct {
		UserID   int64            `bun:"user_id"`
		Sector   models.Sector    `bun:"sector"`
		BeginAt  time.Time        `bun:"begin_at"`
		AmountWh models.WattHours `bun:"amount_wh"`
	}
	// One statement, so one snapshot: a counterpart's GGO moves from held to retired when
	// its own consumption commits, and two statements could see it in neither.
	if err := tx.NewRaw(`
		SELECT user_id, sector, begin_at, sum(amount_wh)::bigint AS amount_wh FROM (
			SELECT mp.user_id, mp.sector, p.begin_at,
			       p.amount_wh - `+retiredSQL+` AS amount_wh
			FROM measurement_publications p
			`+onLedgerSQL+`
			JOIN metering_points mp ON mp.id = p.metering_point_id
			WHERE mp.user_id IN (?0) AND mp.type = 'CONSUMPTION' AND mp.retiring_priority IS NOT NULL AND p.begin_at IN (?1)
			UNION ALL
			SELECT g.user_id, g.sector, g.begin_at, -g.amount_wh
			FROM ggos g
			WHERE g.user_id IN (?0) AND g.begin_at IN (?1) AND g.retire_metering_point_id IS NULL AND g.state IN ('STORED', 'PENDING')
		) r GROUP BY user_id, sector, begin_at`, bun.In(users), bun.In(hours)).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("consumption room of counterparts: %w", err)
	}
	out := make(map[roomKey]models.WattHours, len(rows))
	for _, r := range rows {
		out[roomKey{r.UserID, r.Sector, r.BeginAt.Unix()}] = r.AmountWh
	}
	return out, nil
}

// roomsAt returns the rooms at hour, in both sectors, of the limit-to-consumption
// counterparts of the agreements in force (ags), as a map the caller uses up.
func roomsAt(rooms map[roomKey]models.WattHours, ags []agreementConsumer, hour time.Time) map[counterpartSector]models.WattHours {
	out := map[counterpartSector]models.WattHours{}
	for _, a := range ags {
		if !a.ag.LimitToConsumption {
			continue
		}
		for _, sec := range []models.Sector{models.SectorDK1, models.SectorDK2} {
			out[counterpartSector{a.ag.ToUserID, sec}] = rooms[roomKey{a.ag.ToUserID, sec, hour.Unix()}]
		}
	}
	return out
}
