package account

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/originhub/originhub/internal/db"
	"github.com/originhub/originhub/models"
)

// A consumption chunk writes thousands of parts and log entries. As one INSERT with a row of
// literals each (bun's way), most of the work is building and parsing the text; as a column
// of values per array, sent in binary, Postgres reads them directly.

// insertPartsSQL lists every column of models.Ggo but those with defaults (tested).
const insertPartsSQL = `INSERT INTO ggos (user_id, metering_point_id, parent_id, root_id, begin_at, end_at, amount_wh,
		sector, technology_code, fuel_code, state, origin, received_from_user_id, address, key_path, batch_id, operation_id,
		retire_metering_point_id, retired_at, next_state, agreement_id, issued_at, expires_at)
	SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::timestamptz[], $6::timestamptz[],
		$7::bigint[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::bigint[], $14::text[], $15::text[],
		$16::text[], $17::bigint[], $18::bigint[], $19::timestamptz[], $20::text[], $21::bigint[], $22::timestamptz[],
		$23::timestamptz[])`

// insertEntriesSQL lists every column of models.ConsumptionEntry but those with defaults (tested).
const insertEntriesSQL = `INSERT INTO consumption_entries (user_id, begin_at, operation_id, ggo_id, rule, metering_point_id,
		agreement_id, amount_wh)
	SELECT * FROM unnest($1::bigint[], $2::timestamptz[], $3::bigint[], $4::bigint[], $5::text[], $6::bigint[], $7::bigint[],
		$8::bigint[])`

// insertParts inserts new GGOs (ids, created_at and updated_at from their defaults) in one
// statement. Nothing comes back: no caller reads the ids.
func insertParts(ctx context.Context, tx bun.Tx, parts []models.Ggo) error {
	if len(parts) == 0 {
		return nil
	}
	n := len(parts)
	var (
		users, amounts                                 = make([]int64, n), make([]int64, n)
		mps, parents, roots, from, ops, retireMPs, ags = make([]*int64, n), make([]*int64, n), make([]*int64, n), make([]*int64, n), make([]*int64, n), make([]*int64, n), make([]*int64, n)
		begins, ends, issued, expires                  = make([]time.Time, n), make([]time.Time, n), make([]time.Time, n), make([]time.Time, n)
		retired                                        = make([]*time.Time, n)
		sectors, techs, fuels, states, origins         = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		addresses, paths                               = make([]string, n), make([]string, n)
		batches, nexts                                 = make([]*string, n), make([]*string, n)
	)
	for i, g := range parts {
		users[i], amounts[i] = g.UserID, int64(g.AmountWh)
		mps[i], parents[i], roots[i], from[i], ops[i], retireMPs[i], ags[i] = g.MeteringPointID, g.ParentID, g.RootID, g.ReceivedFromUserID, g.OperationID, g.RetireMeteringPointID, g.AgreementID
		begins[i], ends[i], issued[i], expires[i], retired[i] = g.BeginAt, g.EndAt, g.IssuedAt, g.ExpiresAt, g.RetiredAt
		sectors[i], techs[i], fuels[i], states[i], origins[i] = string(g.Sector), g.TechnologyCode, g.FuelCode, string(g.State), string(g.Origin)
		addresses[i], paths[i], batches[i] = g.Address, g.KeyPath, g.BatchID
		if g.NextState != nil {
			s := string(*g.NextState)
			nexts[i] = &s
		}
	}
	_, err := db.ExecBinary(ctx, tx, insertPartsSQL, users, mps, parents, roots, begins, ends, amounts, sectors, techs, fuels, states,
		origins, from, addresses, paths, batches, ops, retireMPs, retired, nexts, ags, issued, expires)
	if err != nil {
		return fmt.Errorf("record parts: %w", err)
	}
	return nil
}

// insertEntries inserts consumption log entries in one statement.
func insertEntries(ctx context.Context, tx bun.Tx, entries []models.ConsumptionEntry) error {
	if len(entries) == 0 {
		return nil
	}
	n := len(entries)
	users, ops, ggos, amounts := make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
	begins, rules := make([]time.Time, n), make([]string, n)
	mps, ags := make([]*int64, n), make([]*int64, n)
	for i, e := range entries {
		users[i], ops[i], ggos[i], amounts[i] = e.UserID, e.OperationID, e.GgoID, int64(e.AmountWh)
		begins[i], rules[i], mps[i], ags[i] = e.BeginAt, string(e.Rule), e.MeteringPointID, e.AgreementID
	}
	_, err := db.ExecBinary(ctx, tx, insertEntriesSQL, users, begins, ops, ggos, rules, mps, ags, amounts)
	if err != nil {
		return fmt.Errorf("record consumption entries: %w", err)
	}
	return nil
}
