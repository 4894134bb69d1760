package account

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/originhub/originhub/internal/testkit"
	"github.com/originhub/originhub/models"
)

// TestBulkInsertsRoundTrip writes a part with every field set (and one with every nullable
// field empty) and a log entry each way through the array inserts, and reads them back
// field by field: a column bound to the wrong array, or lost, shows here.
func TestBulkInsertsRoundTrip(t *testing.T) {
	d := testkit.DB(t)
	ctx := t.Context()
	run := testkit.Subject(t) // unique per run: addresses are unique
	var ids struct {
		Alice, Bob, Prod, Cons, Root, Parent, Op, Agreement int64
		Batch                                               string
	}
	if err := d.NewRaw(`WITH a AS (INSERT INTO users (subject) VALUES (? || 'a') RETURNING id),
			b AS (INSERT INTO users (subject) VALUES (? || 'b') RETURNING id),
			mp AS (INSERT INTO metering_points (user_id, gsrn, type, sector) SELECT id, '571313000000000001', 'PRODUCTION', 'DK1' FROM a RETURNING id),
			cp AS (INSERT INTO metering_points (user_id, gsrn, type, sector) SELECT id, '571313000000000002', 'CONSUMPTION', 'DK1' FROM b RETURNING id),
			lb AS (INSERT INTO ledger_batches (id, kind, body) VALUES (encode(sha512(convert_to(?, 'UTF8')), 'hex'), 'test', '\x00') RETURNING id),
			op AS (INSERT INTO ggo_operations (user_id, kind, amount_wh) SELECT id, 'CONSUME', 1 FROM a RETURNING id),
			ag AS (INSERT INTO agreements (proposed_by_user_id, from_user_id, to_user_id, date_from, date_to, reference, limit_to_consumption)
				SELECT a.id, a.id, b.id, '2026-01-01', '2026-12-31', 'round trip', true FROM a, b RETURNING id)
		SELECT a.id AS alice, b.id AS bob, mp.id AS prod, cp.id AS cons, op.id AS op, ag.id AS agreement, lb.id AS batch
		FROM a, b, mp, cp, op, ag, lb`, testkit.Subject(t), testkit.Subject(t), testkit.Subject(t)).Scan(ctx, &ids); err != nil {
		t.Fatal(err)
	}
	hour := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	issued, expires, retired := hour.Add(2*time.Hour), hour.AddDate(0, 3, 0), hour.Add(5*time.Hour)
	root := models.Ggo{UserID: ids.Alice, MeteringPointID: &ids.Prod, BeginAt: hour, EndAt: hour.Add(time.Hour), AmountWh: 10,
		Sector: "DK1", TechnologyCode: "T010000", FuelCode: "F01040100", State: models.GgoSplit, Origin: models.GgoIssued,
		IssuedAt: issued, ExpiresAt: expires}
	for i, id := range []*int64{&ids.Root, &ids.Parent} {
		root.Address = fmt.Sprintf("%s-%d", run, i)
		if err := d.NewInsert().Model(&root).Returning("id").Scan(ctx, id); err != nil {
			t.Fatal(err)
		}
		root.ID, root.Origin, root.RootID = 0, models.GgoPart, &ids.Root
	}
	next := models.GgoRetired
	full := models.Ggo{UserID: ids.Bob, MeteringPointID: &ids.Prod, ParentID: &ids.Parent, RootID: &ids.Root,
		BeginAt: hour, EndAt: hour.Add(time.Hour), AmountWh: 7, Sector: "DK1", TechnologyCode: "T010000", FuelCode: "F01040100",
		State: models.GgoLocked, Origin: models.GgoReceived, ReceivedFromUserID: &ids.Alice, Address: run + "-full", KeyPath: "m/0/42",
		BatchID: &ids.Batch, OperationID: &ids.Op, RetireMeteringPointID: &ids.Cons, RetiredAt: &retired, NextState: &next,
		AgreementID: &ids.Agreement, IssuedAt: issued, ExpiresAt: expires}
	for f, v := range reflect.ValueOf(full).Fields() {
		if !f.Anonymous && v.IsZero() && f.Name != "ID" && f.Name != "CreatedAt" && f.Name != "UpdatedAt" {
			t.Fatalf("the full part leaves %s empty: give it a value", f.Name)
		}
	}
	bare := models.Ggo{UserID: ids.Alice, BeginAt: hour.Add(time.Hour), EndAt: hour.Add(2 * time.Hour), AmountWh: 3, Sector: "DK2",
		TechnologyCode: "T020000", FuelCode: "F01050100", State: models.GgoStored, Origin: models.GgoPart, Address: run + "-bare",
		KeyPath: "m/0/43", IssuedAt: issued, ExpiresAt: expires}
	entries := []models.ConsumptionEntry{
		{UserID: ids.Alice, BeginAt: hour, OperationID: ids.Op, GgoID: ids.Parent, Rule: models.RuleAgreement, AgreementID: &ids.Agreement, AmountWh: 7},
		{UserID: ids.Alice, BeginAt: hour.Add(time.Hour), OperationID: ids.Op, GgoID: ids.Root, Rule: models.RuleRetire, MeteringPointID: &ids.Cons, AmountWh: 3},
	}
	err := d.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := insertParts(ctx, tx, []models.Ggo{full, bare}); err != nil {
			return err
		}
		return insertEntries(ctx, tx, entries)
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []models.Ggo
	if err := d.NewSelect().Model(&got).Where("g.address IN (?, ?)", full.Address, bare.Address).Order("g.key_path").Scan(ctx); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("read back %d parts, want 2", len(got))
	}
	for i, want := range []models.Ggo{full, bare} {
		g := got[i]
		if g.ID == 0 || g.CreatedAt.IsZero() || g.UpdatedAt.IsZero() {
			t.Fatalf("part %d: id and timestamps not filled in: %+v", i, g)
		}
		g.ID, g.CreatedAt, g.UpdatedAt = 0, time.Time{}, time.Time{}
		if !reflect.DeepEqual(normalise(g), normalise(want)) {
			t.Errorf("part %d read back as\n%+v\nwant\n%+v", i, g, want)
		}
	}
	var gotEntries []models.ConsumptionEntry
	if err := d.NewSelect().Model(&gotEntries).Column("user_id", "begin_at", "operation_id", "ggo_id", "rule", "metering_point_id", "agreement_id", "amount_wh").
		Where("ce.operation_id = ?", ids.Op).Order("ce.begin_at").Scan(ctx); err != nil {
		t.Fatal(err)
	}
	if len(gotEntries) != 2 {
		t.Fatalf("read back %d entries, want 2", len(gotEntries))
	}
	for i := range entries {
		gotEntries[i].BeginAt = gotEntries[i].BeginAt.UTC()
		if !reflect.DeepEqual(gotEntries[i], entries[i]) {
			t.Errorf("entry %d read back as %+v, want %+v", i, gotEntries[i], entries[i])
		}
	}
}

// normalise puts a part's times in UTC, as written.
func normalise(g models.Ggo) models.Ggo {
	g.BeginAt, g.EndAt, g.IssuedAt, g.ExpiresAt = g.BeginAt.UTC(), g.EndAt.UTC(), g.IssuedAt.UTC(), g.ExpiresAt.UTC()
	if g.RetiredAt != nil {
		r := g.RetiredAt.UTC()
		g.RetiredAt = &r
	}
	return g
}
