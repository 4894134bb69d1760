package account

import (
	"context"
	"time"

	"github.com/originhub/originhub/models"
)

// hourPlan is what consuming one hour does, decided before anything is built.
type hourPlan struct {
	hour     time.Time
	retirers []retireConsumer // the hour's, by retiring priority; build fills their rs
	retiring []bool           // per retirer: whether the plan retires to it
	moves    []ggoMove
	entries  []models.ConsumptionEntry // without their operation
	amount   models.WattHours          // routed in all
	txs      int                       // ledger transactions they make
}

// ggoMove is where one GGO goes.
type ggoMove struct {
	g        *models.Ggo
	shares   []share // in routing order, then what stays with the owner
	retireTo []int   // per routed share: index into the hour's retirers, -1 for a transfer
	whole    bool    // the whole GGO goes to shares[0]: no split
}

// counterpartSector keys a limit-to-consumption counterpart's room.
type counterpartSector struct {
	user   int64
	sector models.Sector
}

// planHour routes one hour's GGOs (in expiry order): first to the retirers by priority, each
// up to its room, then to the agreements by priority, each up to what it may still take, its
// filters and, for limit-to-consumption, the counterpart's room in the GGO's sector. It
// updates the rooms and caps it is given, which must be the hour's own.
func planHour(owner int64, hour time.Time, ggos []models.Ggo, retirers []retireConsumer, agreements []agreementConsumer,
	ltcRoom map[counterpartSector]models.WattHours, labels map[string]string, gsrns map[int64]string) hourPlan {
	p := hourPlan{hour: hour, retirers: retirers, retiring: make([]bool, len(retirers))}
	for gi := range ggos {
		g := &ggos[gi]
		left := g.AmountWh
		var shares []share
		var rules []models.ConsumptionEntry
		var retireTo []int
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
			k := counterpartSector{a.ag.ToUserID, g.Sector}
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
		p.entries = append(p.entries, rules...)
		p.amount += g.AmountWh - left
		m := ggoMove{g: g, shares: shares, retireTo: retireTo, whole: left == 0 && len(shares) == 1}
		switch {
		case m.whole && retireTo[0] >= 0: // retired as it is
			p.retiring[retireTo[0]] = true
			p.txs++
		case m.whole: // transferred as it is
			p.txs++
		default:
			if left > 0 {
				m.shares = append(m.shares, share{owner: owner, amount: left})
			}
			p.txs++
			for _, ri := range retireTo {
				if ri >= 0 {
					p.retiring[ri] = true
					p.txs++
				}
			}
		}
		p.moves = append(p.moves, m)
	}
	for _, u := range p.retiring {
		if u {
			p.txs++ // the settlement
		}
	}
	return p
}

// needs adds to keys the new traded-GGO keys the plan's moves take, by owner, and to hours
// the consumption points it retires to at its hour (their measurement keys sign).
func (p *hourPlan) needs(keys map[int64]int, hours map[int64][]time.Time) {
	for _, m := range p.moves {
		if m.whole && m.retireTo[0] >= 0 {
			continue // retired as it is: no new key
		}
		for _, sh := range m.shares {
			keys[sh.owner]++
		}
	}
	for ri, r := range p.retirers {
		if p.retiring[ri] {
			hours[r.mp.ID] = append(hours[r.mp.ID], p.hour)
		}
	}
}

// build adds the plan's ledger transactions and parts to b: each GGO's transfer or split in
// GGO order, then each retirer's retire with its settlement.
func (p *hourPlan) build(ctx context.Context, b *builder) error {
	for _, m := range p.moves {
		if m.whole {
			if ri := m.retireTo[0]; ri >= 0 {
				p.retirers[ri].rs = append(p.retirers[ri].rs, retirement{existing: m.g})
				continue
			}
			if err := b.transferWhole(ctx, *m.g, m.shares[0].owner); err != nil {
				return err
			}
			b.parts[len(b.parts)-1].AgreementID = m.shares[0].agreement
			continue
		}
		idx, err := b.split(ctx, *m.g, m.shares)
		if err != nil {
			return err
		}
		for i, ri := range m.retireTo {
			if ri >= 0 {
				p.retirers[ri].rs = append(p.retirers[ri].rs, retirement{partIdx: idx[i]})
			}
		}
	}
	for _, r := range p.retirers {
		if len(r.rs) == 0 {
			continue
		}
		if err := b.retire(ctx, r.mp, p.hour, r.address, r.rs); err != nil {
			return err
		}
	}
	return nil
}
