package account_test

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/originhub/originhub/internal/account"
	"github.com/originhub/originhub/internal/testkit"
	"github.com/originhub/originhub/models"
)

func TestMain(m *testing.M) { testkit.Main(m) }

// rollupWorld is one user's GGOs written straight into ggos, as issuance, operations,
// commits, rollbacks and expiry change them.
type rollupWorld struct {
	db    *bun.DB
	svc   *account.Service
	user  int64
	begin time.Time
	now   time.Time
}

func newRollupWorld(t *testing.T) *rollupWorld {
	t.Helper()
	d := testkit.DB(t)
	w := &rollupWorld{db: d, begin: time.Date(2025, 3, 29, 0, 0, 0, 0, time.UTC), now: time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)}
	if err := d.NewRaw("INSERT INTO users (subject) VALUES (?) RETURNING id", testkit.Subject(t)).Scan(t.Context(), &w.user); err != nil {
		t.Fatal(err)
	}
	w.svc = account.NewService(d, nil, nil, account.Config{}, slog.New(slog.DiscardHandler), func() time.Time { return w.now })
	return w
}

func (w *rollupWorld) exec(t *testing.T, db bun.IDB, query string, args ...any) {
	t.Helper()
	if _, err := db.NewRaw(query, args...).Exec(t.Context()); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// sumKey is one bucket of one group.
type sumKey struct {
	bucket                            int64
	technology, sector, state, origin string
}

// plain sums the user's GGOs straight from ggos, folded into the groups asked for.
func (w *rollupWorld) plain(t *testing.T, f account.Filter, unit, tz string, groups []account.GroupBy) map[sumKey][2]int64 {
	t.Helper()
	var rows []struct {
		Bucket     time.Time `bun:"bucket"`
		Technology string    `bun:"technology"`
		Sector     string    `bun:"sector"`
		State      string    `bun:"state"`
		Origin     string    `bun:"origin"`
		Amount     int64     `bun:"amount_wh"`
		N          int64     `bun:"n"`
	}
	q := w.db.NewSelect().TableExpr("ggos AS g").
		Join("LEFT JOIN technologies AS t ON t.technology_code = g.technology_code AND t.fuel_code = g.fuel_code").
		ColumnExpr("date_trunc(?, g.begin_at, ?) AS bucket", unit, tz).
		ColumnExpr("coalesce(t.label, 'Unknown') AS technology, g.sector, g.state, g.origin").
		ColumnExpr("sum(g.amount_wh)::bigint AS amount_wh, count(*) AS n").
		Where("g.user_id = ?", w.user).GroupExpr("1, 2, 3, 4, 5")
	if f.From != nil {
		q = q.Where("g.begin_at >= ?", *f.From)
	}
	if f.Until != nil {
		q = q.Where("g.begin_at < ?", *f.Until)
	}
	if len(f.States) > 0 {
		q = q.Where("g.state IN (?)", bun.In(f.States))
	}
	if len(f.Technologies) > 0 {
		q = q.Where("coalesce(t.label, 'Unknown') IN (?)", bun.In(f.Technologies))
	}
	if err := q.Scan(t.Context(), &rows); err != nil {
		t.Fatal(err)
	}
	out := map[sumKey][2]int64{}
	for _, r := range rows {
		k := sumKey{bucket: r.Bucket.Unix()}
		for _, g := range groups {
			switch g {
			case account.GroupByTechnology:
				k.technology = r.Technology
			case account.GroupBySector:
				k.sector = r.Sector
			case account.GroupByState:
				k.state = r.State
			case account.GroupByOrigin:
				k.origin = r.Origin
			}
		}
		v := out[k]
		out[k] = [2]int64{v[0] + r.Amount, v[1] + r.N}
	}
	return out
}

var rollupCases = []struct {
	name   string
	res    account.Resolution
	unit   string
	tz     string
	groups []account.GroupBy
	filter func(w *rollupWorld) account.Filter
}{
	{"day UTC by technology, whole days (daily rollup)", account.Day, "day", "UTC", []account.GroupBy{account.GroupByTechnology}, func(w *rollupWorld) account.Filter {
		from, until := w.begin, w.begin.AddDate(0, 0, 3)
		return account.Filter{From: &from, Until: &until}
	}},
	{"day Copenhagen across DST by state (hourly rollup)", account.Day, "day", "Europe/Copenhagen", []account.GroupBy{account.GroupByState}, func(w *rollupWorld) account.Filter {
		from, until := w.begin, w.begin.AddDate(0, 0, 3)
		return account.Filter{From: &from, Until: &until}
	}},
	{"hour, stored only, by sector and origin", account.Hour, "hour", "UTC", []account.GroupBy{account.GroupBySector, account.GroupByOrigin}, func(w *rollupWorld) account.Filter {
		return account.Filter{States: []models.GgoState{models.GgoStored}}
	}},
	{"month, unaligned range, Wind only, all groups", account.Month, "month", "UTC", []account.GroupBy{account.GroupByTechnology, account.GroupBySector, account.GroupByState, account.GroupByOrigin}, func(w *rollupWorld) account.Filter {
		from, until := w.begin.Add(5*time.Hour), w.begin.Add(50*time.Hour)
		return account.Filter{From: &from, Until: &until, Technologies: []string{"Wind"}}
	}},
	{"year, no filter, no groups", account.Year, "year", "UTC", nil, func(w *rollupWorld) account.Filter { return account.Filter{} }},
}

// check compares Summary with the plain sums for every case.
func (w *rollupWorld) check(t *testing.T, when string) {
	t.Helper()
	for _, tc := range rollupCases {
		f := tc.filter(w)
		want := w.plain(t, f, tc.unit, tc.tz, tc.groups)
		rows, err := w.svc.Summary(t.Context(), w.user, f, tc.res, tc.groups, tc.tz, false)
		if err != nil {
			t.Fatalf("%s, %s: Summary() error = %v", when, tc.name, err)
		}
		got := map[sumKey][2]int64{}
		for _, r := range rows {
			got[sumKey{r.Begin.Unix(), r.Technology, r.Sector, r.State, r.Origin}] = [2]int64{int64(r.AmountWh), int64(r.Count)}
		}
		if len(got) != len(want) {
			t.Errorf("%s, %s: Summary() has %d rows, plain SQL %d", when, tc.name, len(got), len(want))
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s, %s: Summary()[%+v] = %v, plain SQL %v", when, tc.name, k, got[k], v)
			}
		}
	}
}

func (w *rollupWorld) compact(t *testing.T) int64 {
	t.Helper()
	n, err := w.svc.CompactRollup(t.Context())
	if err != nil {
		t.Fatalf("CompactRollup() error = %v", err)
	}
	return n
}

// TestSummaryEqualsPlainSums changes GGOs the ways the platform does — issue, commit, lock
// for an operation, split into parts, transfer, retire, roll back, expire, a rolled-back
// transaction — and after each step, before and after compaction, compares Summary (rollups)
// with a plain SQL aggregate over ggos.
func TestSummaryEqualsPlainSums(t *testing.T) {
	w := newRollupWorld(t)
	ctx := t.Context()
	techs := [][2]string{{"T020000", "F01050100"}, {"T010000", "F01040100"}, {"T999999", "F99999999"}} // Wind, Solar, unknown
	// 72 hours (across the end of DST on 2025-03-30) of three producers.
	w.exec(t, w.db, `INSERT INTO ggos (user_id, begin_at, end_at, amount_wh, sector, technology_code, fuel_code, state, origin, issued_at, expires_at)
		SELECT ?, h, h + interval '1 hour', 100 + (i * 37) % 900, CASE WHEN p = 1 THEN 'DK2' ELSE 'DK1' END,
		       (?::text[])[p + 1], (?::text[])[p + 1], 'PENDING', 'ISSUED', h, CASE WHEN i % 5 = 0 THEN ?::timestamptz ELSE h + interval '1 year' END
		FROM generate_series(0, 215) AS i, LATERAL (SELECT i % 3 AS p, ?::timestamptz + (i / 3) * interval '1 hour' AS h) s`,
		w.user, fmt.Sprintf("{%s,%s,%s}", techs[0][0], techs[1][0], techs[2][0]), fmt.Sprintf("{%s,%s,%s}", techs[0][1], techs[1][1], techs[2][1]),
		w.now.Add(-time.Hour), w.begin)
	w.check(t, "issued")
	if n := w.compact(t); n == 0 {
		t.Fatal("CompactRollup() folded nothing after issuance")
	}
	w.check(t, "issued, compacted")

	steps := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"committed", func(t *testing.T) {
			w.exec(t, w.db, "UPDATE ggos SET state = 'STORED' WHERE user_id = ? AND state = 'PENDING'", w.user)
		}},
		{"locked for an operation, split into two parts", func(t *testing.T) {
			var batch string
			if err := w.db.NewRaw(`INSERT INTO ledger_batches (id, user_id, kind, body) VALUES (encode(sha512(convert_to(?, 'UTF8')), 'hex'), ?, 'GGO_OPERATION', '\x00')
				RETURNING id`, testkit.Subject(t), w.user).Scan(ctx, &batch); err != nil {
				t.Fatal(err)
			}
			w.exec(t, w.db, `WITH src AS (UPDATE ggos SET state = 'LOCKED', next_state = 'SPLIT', batch_id = ? WHERE id IN
				(SELECT id FROM ggos WHERE user_id = ? AND state = 'STORED' ORDER BY id LIMIT 10) RETURNING *)
				INSERT INTO ggos (user_id, parent_id, root_id, begin_at, end_at, amount_wh, sector, technology_code, fuel_code, state, origin, issued_at, expires_at)
				SELECT user_id, id, id, begin_at, end_at, a, sector, technology_code, fuel_code, 'PENDING', 'PART', issued_at, expires_at
				FROM src, LATERAL (VALUES (amount_wh / 2), (amount_wh - amount_wh / 2)) AS parts(a)`, batch, w.user)
		}},
		{"operation committed, parts stored", func(t *testing.T) {
			w.exec(t, w.db, "UPDATE ggos SET state = next_state, next_state = NULL WHERE user_id = ? AND state = 'LOCKED'", w.user)
			w.exec(t, w.db, "UPDATE ggos SET state = 'STORED' WHERE user_id = ? AND state = 'PENDING'", w.user)
		}},
		{"transferred and retired", func(t *testing.T) {
			w.exec(t, w.db, "UPDATE ggos SET state = 'TRANSFERRED' WHERE id IN (SELECT id FROM ggos WHERE user_id = ? AND state = 'STORED' ORDER BY id DESC LIMIT 7)", w.user)
			w.exec(t, w.db, "UPDATE ggos SET state = 'RETIRED', retired_at = now() WHERE id IN (SELECT id FROM ggos WHERE user_id = ? AND state = 'STORED' ORDER BY id DESC LIMIT 5)", w.user)
		}},
		{"parts of a refused operation removed", func(t *testing.T) {
			w.exec(t, w.db, `INSERT INTO ggos (user_id, begin_at, end_at, amount_wh, sector, technology_code, fuel_code, state, origin, issued_at, expires_at)
				VALUES (?, ?, ?, 321, 'DK1', 'T020000', 'F01050100', 'PENDING', 'RECEIVED', ?, ?)`, w.user, w.begin, w.begin.Add(time.Hour), w.begin, w.now.AddDate(1, 0, 0))
			w.exec(t, w.db, "DELETE FROM ggos WHERE user_id = ? AND state = 'PENDING'", w.user)
		}},
		{"a transaction rolled back", func(t *testing.T) {
			err := w.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
				w.exec(t, tx, "UPDATE ggos SET state = 'RETIRED' WHERE user_id = ? AND state = 'STORED'", w.user)
				w.exec(t, tx, "DELETE FROM ggos WHERE user_id = ? AND state = 'TRANSFERRED'", w.user)
				return fmt.Errorf("roll back")
			})
			if err == nil {
				t.Fatal("transaction committed")
			}
		}},
		{"expired", func(t *testing.T) {
			n, err := w.svc.ExpireDue(ctx)
			if err != nil || n == 0 {
				t.Fatalf("ExpireDue() = %d, %v; want some expired", n, err)
			}
		}},
		{"amount-neutral update", func(t *testing.T) {
			w.exec(t, w.db, "UPDATE ggos SET updated_at = now() WHERE user_id = ?", w.user)
		}},
	}
	for _, st := range steps {
		st.run(t)
		w.check(t, st.name)
		w.compact(t)
		w.check(t, st.name+", compacted")
	}
	var empty int
	if err := w.db.NewRaw("SELECT (SELECT count(*) FROM ggo_rollup_hours WHERE n = 0) + (SELECT count(*) FROM ggo_rollup_days WHERE n = 0)").Scan(ctx, &empty); err != nil || empty != 0 {
		t.Errorf("%d empty rollup rows left after compaction (%v)", empty, err)
	}
}

// TestCompactionLeavesOpenDeltas compacts while a transaction that changed GGOs is still
// open: its deltas are not folded, and once it commits the summary still equals the plain
// sums.
func TestCompactionLeavesOpenDeltas(t *testing.T) {
	w := newRollupWorld(t)
	ctx := t.Context()
	w.exec(t, w.db, `INSERT INTO ggos (user_id, begin_at, end_at, amount_wh, sector, technology_code, fuel_code, state, origin, issued_at, expires_at)
		SELECT ?, ?::timestamptz + i * interval '1 hour', ?::timestamptz + (i + 1) * interval '1 hour', 1000, 'DK1', 'T020000', 'F01050100', 'STORED', 'ISSUED', ?, ?
		FROM generate_series(0, 23) AS i`, w.user, w.begin, w.begin, w.begin, w.now.AddDate(1, 0, 0))
	tx, err := w.db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	w.exec(t, tx, "UPDATE ggos SET state = 'TRANSFERRED' WHERE user_id = ? AND begin_at < ?", w.user, w.begin.Add(6*time.Hour))
	w.compact(t)
	w.check(t, "compacted beside an open transaction")
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	w.check(t, "open transaction committed")
	w.compact(t)
	w.check(t, "compacted again")
}
