package app_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/originhub/originhub/internal/account"
	"github.com/originhub/originhub/internal/app"
	"github.com/originhub/originhub/internal/testkit"
	"github.com/originhub/originhub/internal/webhook"
	"github.com/originhub/originhub/models"
)

// accountWorld is a running platform (API, worker, stand-in ledger) with a producer whose
// production hours are published and issued, and a recipient.
type accountWorld struct {
	p          *platform
	alice, bob models.User
	prodMP     int64 // alice's production point, DK1, Wind
	consMP     int64 // alice's consumption point, DK1
	consGSRN   string
	begin      time.Time // first hour
	hours      int
	prodWh     []int64 // production per hour
}

var worldSeq = time.Now().UnixNano() % 1_000_000

func newAccountWorld(t *testing.T, hours int, prod, cons func(h int) int64) *accountWorld {
	t.Helper()
	cfg := testConfig(t, testkit.DatabaseURI(t), "LEDGER_COMMIT_DELAY", "20ms", "GRAPHQL_MAX_DEPTH", "12", "RATE_LIMIT_PER_MINUTE", "0")
	p := startRoles(t, cfg, app.Roles{API: true, Worker: true})
	ctx := t.Context()
	w := &accountWorld{p: p, hours: hours}
	var err error
	if w.alice, err = p.app.Users.Ensure(ctx, testkit.Subject(t)+"-alice"); err != nil {
		t.Fatal(err)
	}
	if w.bob, err = p.app.Users.Ensure(ctx, testkit.Subject(t)+"-bob"); err != nil {
		t.Fatal(err)
	}
	worldSeq++
	w.begin = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(worldSeq%2500) * 24 * time.Hour) // stays before 2038 (BIP32 hour index limit)
	db := p.app.DB
	if _, err := db.ExecContext(ctx, "SELECT ensure_measurement_partitions(?, ?)", w.begin, w.begin.Add(time.Duration(hours)*time.Hour)); err != nil {
		t.Fatal(err)
	}
	gsrn := func(kind int) string {
		return fmt.Sprintf("57%04d%06d%06d", kind, worldSeq%1_000_000, w.alice.ID%1_000_000)
	}
	if err := db.NewRaw("INSERT INTO metering_points (user_id, gsrn, type, sector, technology_code, fuel_code) VALUES (?, ?, 'PRODUCTION', 'DK1', 'T020000', 'F01050100') RETURNING id",
		w.alice.ID, gsrn(1)).Scan(ctx, &w.prodMP); err != nil {
		t.Fatal(err)
	}
	w.consGSRN = gsrn(2)
	if err := db.NewRaw("INSERT INTO metering_points (user_id, gsrn, type, sector) VALUES (?, ?, 'CONSUMPTION', 'DK1') RETURNING id",
		w.alice.ID, w.consGSRN).Scan(ctx, &w.consMP); err != nil {
		t.Fatal(err)
	}
	for h := 0; h < hours; h++ {
		w.prodWh = append(w.prodWh, prod(h))
		at := w.begin.Add(time.Duration(h) * time.Hour)
		if _, err := db.ExecContext(ctx, "INSERT INTO measurements (metering_point_id, begin_at, amount_wh) VALUES (?, ?, ?), (?, ?, ?)",
			w.prodMP, at, prod(h), w.consMP, at, cons(h)); err != nil {
			t.Fatal(err)
		}
	}
	end := w.begin.Add(time.Duration(hours) * time.Hour)
	for _, mp := range []int64{w.prodMP, w.consMP} {
		if _, err := p.app.Publisher.PublishMeasurements(ctx, mp, w.begin, end); err != nil {
			t.Fatal(err)
		}
	}
	w.waitBatches(t)
	return w
}

// waitBatches waits until no ledger batch is open.
func (w *accountWorld) waitBatches(t *testing.T) {
	t.Helper()
	testkit.Eventually(t, 60*time.Second, func() bool {
		var open int
		err := w.p.app.DB.NewRaw("SELECT count(*) FROM ledger_batches WHERE status NOT IN ('COMMITTED', 'INVALID')").Scan(t.Context(), &open)
		return err == nil && open == 0
	}, "ledger batches to settle")
}

func (w *accountWorld) sum(t *testing.T, where string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := w.p.app.DB.NewRaw("SELECT coalesce(sum(amount_wh), 0)::bigint FROM ggos WHERE "+where, args...).Scan(t.Context(), &n); err != nil {
		t.Fatal(err)
	}
	return n
}

// checkBooks asserts the invariants: for every issued GGO the live pieces descending from it
// (STORED, PENDING, LOCKED, RETIRED, EXPIRED) sum to it exactly; no amount is created or
// lost; a GGO in flight is in exactly one live batch; and every STORED GGO exists, unspent,
// with the same amount, on the ledger.
func (w *accountWorld) checkBooks(t *testing.T) {
	t.Helper()
	db, ctx := w.p.app.DB, t.Context()
	var bad []struct {
		Root   int64 `bun:"root"`
		Issued int64 `bun:"issued"`
		Live   int64 `bun:"live"`
	}
	if err := db.NewRaw(`
		SELECT r.id AS root, r.amount_wh AS issued,
		       (SELECT coalesce(sum(g.amount_wh), 0) FROM ggos g
		        WHERE g.root_id = r.id AND g.state IN ('STORED', 'RETIRED', 'EXPIRED')
		           OR (g.root_id = r.id AND g.state = 'LOCKED'))::bigint AS live
		FROM ggos r WHERE r.origin = 'ISSUED' AND r.state <> 'PENDING' AND r.user_id = ?`, w.alice.ID).Scan(ctx, &bad); err != nil {
		t.Fatal(err)
	}
	for _, b := range bad {
		if b.Live != b.Issued {
			t.Errorf("GGO %d issued %d Wh, its live pieces hold %d Wh", b.Root, b.Issued, b.Live)
		}
	}
	var inFlight int
	if err := db.NewRaw("SELECT count(*) FROM ggos WHERE state IN ('LOCKED') AND batch_id IS NULL").Scan(ctx, &inFlight); err != nil || inFlight != 0 {
		t.Errorf("%d locked GGOs without a batch (%v)", inFlight, err)
	}
	var stored []models.Ggo
	if err := db.NewSelect().Model(&stored).Where("state = 'STORED' AND user_id IN (?, ?)", w.alice.ID, w.bob.ID).Scan(ctx); err != nil {
		t.Fatal(err)
	}
	for _, g := range stored {
		var body []byte
		err := db.NewRaw("SELECT data FROM standin.state WHERE address = ?", g.Address).Scan(ctx, &body)
		if err != nil {
			t.Errorf("STORED GGO %d (%s) is not on the ledger: %v", g.ID, g.Address, err)
			continue
		}
		s := string(body)
		if !strings.Contains(s, fmt.Sprintf(`"amount": %d`, g.AmountWh)) || !strings.Contains(s, `"next": null`) {
			t.Errorf("ledger state of STORED GGO %d = %s, want amount %d and no next", g.ID, s, g.AmountWh)
		}
	}
}

// checkSummaries compares ggoSummary's sums (from the rollups) with a plain SQL aggregate
// over ggos, for both users, by UTC day (daily rollup) and by Copenhagen day (hourly).
func (w *accountWorld) checkSummaries(t *testing.T) {
	t.Helper()
	from, until := w.begin.Truncate(24*time.Hour), w.begin.Truncate(24*time.Hour).Add(time.Duration(w.hours+48)*time.Hour).Truncate(24*time.Hour)
	for _, user := range []int64{w.alice.ID, w.bob.ID} {
		for _, tz := range []string{"UTC", "Europe/Copenhagen"} {
			rows, err := w.p.app.Account.Summary(t.Context(), user, account.Filter{From: &from, Until: &until}, account.Day, []account.GroupBy{account.GroupByState}, tz, false)
			if err != nil {
				t.Fatal(err)
			}
			var want []struct {
				Bucket time.Time `bun:"bucket"`
				State  string    `bun:"state"`
				Amount int64     `bun:"amount_wh"`
				N      int       `bun:"n"`
			}
			if err := w.p.app.DB.NewRaw(`SELECT date_trunc('day', begin_at, ?) AS bucket, state, sum(amount_wh)::bigint AS amount_wh, count(*)::int AS n
				FROM ggos WHERE user_id = ? AND begin_at >= ? AND begin_at < ? GROUP BY 1, 2 ORDER BY 2, 1`, tz, user, from, until).Scan(t.Context(), &want); err != nil {
				t.Fatal(err)
			}
			if len(rows) != len(want) {
				t.Fatalf("user %d, %s: Summary() = %d rows, plain SQL %d", user, tz, len(rows), len(want))
			}
			for i, r := range rows {
				if wr := want[i]; !r.Begin.Equal(wr.Bucket) || r.State != wr.State || int64(r.AmountWh) != wr.Amount || r.Count != wr.N {
					t.Errorf("user %d, %s: Summary()[%d] = %v %s %d Wh in %d, plain SQL %v %s %d Wh in %d", user, tz, i, r.Begin, r.State, r.AmountWh, r.Count, wr.Bucket, wr.State, wr.Amount, wr.N)
				}
			}
		}
	}
}

func TestIssuanceFromPublishedProduction(t *testing.T) {
	w := newAccountWorld(t, 6, func(h int) int64 { return int64(100 * (h + 1)) }, func(int) int64 { return 50 })
	var ggos []models.Ggo
	if err := w.p.app.DB.NewSelect().Model(&ggos).Where("user_id = ?", w.alice.ID).Order("begin_at").Scan(t.Context()); err != nil {
		t.Fatal(err)
	}
	if len(ggos) != 6 {
		t.Fatalf("%d GGOs issued, want one per production hour (6)", len(ggos))
	}
	for i, g := range ggos {
		if int64(g.AmountWh) != w.prodWh[i] || g.State != models.GgoStored || g.Origin != models.GgoIssued ||
			!g.BeginAt.Equal(w.begin.Add(time.Duration(i)*time.Hour)) || g.Sector != models.SectorDK1 || g.TechnologyCode != "T020000" {
			t.Errorf("GGO %d = %+v, want %d Wh STORED at hour %d", i, g, w.prodWh[i], i)
		}
	}
	w.checkBooks(t)

	// DataHub revises hour 2 after issuance: the GGO keeps its amount and is flagged.
	if _, err := w.p.app.DB.ExecContext(t.Context(), "INSERT INTO measurement_revisions (metering_point_id, begin_at, old_amount_wh, new_amount_wh, revised_at) VALUES (?, ?, 300, 280, now())",
		w.prodMP, w.begin.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	_, r := w.p.post(t, "Bearer "+w.p.token(t, w.alice.Subject), `{ ggos { nodes { amount revision { oldAmount newAmount } } } }`, nil)
	var got struct {
		Ggos struct {
			Nodes []struct {
				Amount   int64
				Revision *struct{ OldAmount, NewAmount int64 }
			}
		}
	}
	mustData(t, r, &got)
	flagged := 0
	for i, n := range got.Ggos.Nodes {
		if n.Revision != nil {
			flagged++
			if i != 2 || n.Amount != 300 || n.Revision.NewAmount != 280 {
				t.Errorf("GGO %d flagged with %+v (amount %d), want only hour 2: 300 → 280", i, n.Revision, n.Amount)
			}
		}
	}
	if flagged != 1 {
		t.Fatalf("%d GGOs flagged as revised, want 1", flagged)
	}
}

func TestTransferWithSplitAndShortage(t *testing.T) {
	w := newAccountWorld(t, 3, func(int) int64 { return 1000 }, func(int) int64 { return 0 })
	ctx := t.Context()
	acc := w.p.app.Account
	// Over quantity: refused up front with what is available.
	_, err := acc.Transfer(ctx, w.alice.ID, account.TransferInput{Amount: 3001, RecipientReference: w.bob.AccountReference})
	var short *account.InsufficientError
	if !errors.As(err, &short) || short.Available != 3000 {
		t.Fatalf("Transfer(3001) error = %v, want InsufficientError with 3000 available", err)
	}
	// 1500 Wh: one whole GGO and half of the next.
	op, err := acc.Transfer(ctx, w.alice.ID, account.TransferInput{Amount: 1500, RecipientReference: strings.ToLower(w.bob.AccountReference), Reference: "deal-1"})
	if err != nil {
		t.Fatal(err)
	}
	w.waitBatches(t)
	if got := w.sum(t, "user_id = ? AND state = 'STORED'", w.bob.ID); got != 1500 {
		t.Fatalf("bob holds %d Wh, want 1500", got)
	}
	if got := w.sum(t, "user_id = ? AND state = 'STORED'", w.alice.ID); got != 1500 {
		t.Fatalf("alice holds %d Wh, want 1500", got)
	}
	var state string
	if err := w.p.app.DB.NewRaw("SELECT state FROM ggo_operations WHERE id = ?", op.ID).Scan(ctx, &state); err != nil || state != "COMMITTED" {
		t.Fatalf("operation state = %q (%v), want COMMITTED", state, err)
	}
	// The new parts (the recipient's and the remainder) and the spent GGOs carry the operation.
	var parts, spent int
	if err := w.p.app.DB.NewRaw("SELECT count(*) FILTER (WHERE parent_id IS NOT NULL AND state = 'STORED'), count(*) FILTER (WHERE state IN ('SPLIT', 'TRANSFERRED')) FROM ggos WHERE operation_id = ?", op.ID).
		Scan(ctx, &parts, &spent); err != nil || parts < 2 || spent < 1 {
		t.Fatalf("operation %d has %d new parts and %d spent GGOs (%v), want at least 2 and 1", op.ID, parts, spent, err)
	}
	var split int
	if err := w.p.app.DB.NewRaw("SELECT count(*) FROM ggos WHERE user_id = ? AND state = 'SPLIT'", w.alice.ID).Scan(ctx, &split); err != nil || split != 1 {
		t.Fatalf("%d split GGOs, want 1", split)
	}
	// The recipient sees where it came from, and the GGOs' provenance.
	var received []models.Ggo
	if err := w.p.app.DB.NewSelect().Model(&received).Where("user_id = ?", w.bob.ID).Scan(ctx); err != nil {
		t.Fatal(err)
	}
	for _, g := range received {
		if g.Origin != models.GgoReceived || g.ReceivedFromUserID == nil || *g.ReceivedFromUserID != w.alice.ID || g.RootID == nil || g.MeteringPointID == nil {
			t.Errorf("received GGO %+v lacks its provenance", g)
		}
	}
	w.checkBooks(t)
}

func TestRetireRules(t *testing.T) {
	// Hour 0: production 100, consumption 60. Hour 1: production 100, consumption 0.
	w := newAccountWorld(t, 2, func(int) int64 { return 100 }, func(h int) int64 { return []int64{60, 0}[h] })
	ctx, acc := t.Context(), w.p.app.Account
	db := w.p.app.DB
	// A DK2 consumption point of alice's, and bob's consumption point.
	var dk2, bobs string
	dk2 = "5799" + w.consGSRN[4:]
	if _, err := db.ExecContext(ctx, "INSERT INTO metering_points (user_id, gsrn, type, sector) VALUES (?, ?, 'CONSUMPTION', 'DK2')", w.alice.ID, dk2); err != nil {
		t.Fatal(err)
	}
	bobs = "5798" + w.consGSRN[4:]
	if _, err := db.ExecContext(ctx, "INSERT INTO metering_points (user_id, gsrn, type, sector) VALUES (?, ?, 'CONSUMPTION', 'DK1')", w.bob.ID, bobs); err != nil {
		t.Fatal(err)
	}
	var prodGSRN string
	_ = db.NewRaw("SELECT gsrn FROM metering_points WHERE id = ?", w.prodMP).Scan(ctx, &prodGSRN)
	all := func(gsrn string) account.RetireInput {
		return account.RetireInput{GSRN: gsrn, From: w.begin, Until: w.begin.Add(2 * time.Hour)}
	}
	refused := []struct {
		name string
		in   account.RetireInput
	}{
		{"someone else's point", all(bobs)},
		{"a production point", all(prodGSRN)},
		{"wrong sector", all(dk2)}, // DK2 has no published consumption and no DK2 GGOs
		{"wrong hour", account.RetireInput{GSRN: w.consGSRN, From: w.begin.Add(time.Hour), Until: w.begin.Add(2 * time.Hour)}}, // no consumption then
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			_, err := acc.Retire(ctx, w.alice.ID, tc.in)
			var ie *account.InputError
			if !errors.As(err, &ie) {
				t.Fatalf("Retire() error = %v, want an InputError", err)
			}
		})
	}
	// Over consumption: only 60 of hour 0's 100 Wh can go; the GGO is split.
	op, err := acc.Retire(ctx, w.alice.ID, all(w.consGSRN))
	if err != nil {
		t.Fatal(err)
	}
	if op.AmountWh != 60 {
		t.Fatalf("retired %d Wh, want 60 (the consumption)", op.AmountWh)
	}
	w.waitBatches(t)
	if got := w.sum(t, "retire_metering_point_id = ? AND state = 'RETIRED'", w.consMP); got != 60 {
		t.Fatalf("retired to the consumption point: %d Wh, want 60", got)
	}
	// The cap is reached: a second retire finds nothing left to cover.
	if _, err := acc.Retire(ctx, w.alice.ID, all(w.consGSRN)); err == nil {
		t.Fatal("a second retire over a full hour succeeded")
	}
	// The settlement on the ledger records the 60 Wh.
	var settlement []byte
	if err := db.NewRaw(`SELECT s.data FROM standin.state s WHERE s.address LIKE 'ba4817%' AND convert_from(s.data, 'UTF8') LIKE '%"amount": 60%'`).Scan(ctx, &settlement); err != nil {
		t.Fatalf("no settlement of 60 Wh on the ledger: %v", err)
	}
	w.checkBooks(t)
}

func TestInvalidBatchRollsBackFully(t *testing.T) {
	w := newAccountWorld(t, 1, func(int) int64 { return 500 }, func(int) int64 { return 0 })
	ctx, db := t.Context(), w.p.app.DB
	// A GGO the database believes in but the ledger never saw (a divergence): spending it
	// must fail on the ledger and leave the books exactly as before.
	master, err := w.p.app.Wallets.Master(ctx, db, w.alice.ID)
	if err != nil {
		t.Fatal(err)
	}
	k, err := master.DerivePath("m/0/999999")
	if err != nil {
		t.Fatal(err)
	}
	ghost := models.Ggo{UserID: w.alice.ID, BeginAt: w.begin, EndAt: w.begin.Add(time.Hour), AmountWh: 700, Sector: models.SectorDK1,
		TechnologyCode: "T020000", FuelCode: "F01050100", State: models.GgoStored, Origin: models.GgoPart,
		Address: k.Address("GGO"), KeyPath: "m/0/999999", IssuedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)}
	if _, err := db.NewInsert().Model(&ghost).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	before := w.sum(t, "user_id = ? AND state = 'STORED'", w.alice.ID)
	// Earliest expiry first: the ghost (expiring in an hour) is picked and split.
	op, err := w.p.app.Account.Transfer(ctx, w.alice.ID, account.TransferInput{Amount: 300, RecipientReference: w.bob.AccountReference})
	if err != nil {
		t.Fatal(err)
	}
	w.waitBatches(t)
	var got models.GgoOperation
	if err := db.NewSelect().Model(&got).Where("id = ?", op.ID).Scan(ctx); err != nil {
		t.Fatal(err)
	}
	if got.State != models.OperationFailed || got.Error == nil || !strings.Contains(*got.Error, "does not contain a valid GGO") {
		t.Fatalf("operation = %s %v, want FAILED with the ledger's message", got.State, got.Error)
	}
	if after := w.sum(t, "user_id = ? AND state = 'STORED'", w.alice.ID); after != before {
		t.Fatalf("alice holds %d Wh after the rollback, want %d", after, before)
	}
	if bobs := w.sum(t, "user_id = ?", w.bob.ID); bobs != 0 {
		t.Fatalf("bob holds %d Wh from a refused transfer", bobs)
	}
	var leftovers int
	if err := db.NewRaw("SELECT count(*) FROM ggos WHERE operation_id = ? OR batch_id = ?", op.ID, *op.BatchID).Scan(ctx, &leftovers); err != nil || leftovers != 0 {
		t.Fatalf("%d rows still tied to the refused operation (%v)", leftovers, err)
	}
}

func TestConcurrentOperationsNeverDoubleSpend(t *testing.T) {
	// 10 hours of 1,000 Wh produced and 400 Wh consumed: 10,000 Wh to fight over.
	w := newAccountWorld(t, 10, func(int) int64 { return 1000 }, func(int) int64 { return 400 })
	ctx, acc := t.Context(), w.p.app.Account
	var wg sync.WaitGroup
	var mu sync.Mutex
	var transferred, retired int64
	var okOps int
	for i := range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var op models.GgoOperation
			var err error
			if i%4 == 0 {
				op, err = acc.Retire(ctx, w.alice.ID, account.RetireInput{GSRN: w.consGSRN, From: w.begin, Until: w.begin.Add(10 * time.Hour), MaxAmount: ptrWh(150)})
			} else {
				op, err = acc.Transfer(ctx, w.alice.ID, account.TransferInput{Amount: 250, RecipientReference: w.bob.AccountReference})
			}
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				okOps++
				if op.Kind == models.OperationRetire {
					retired += int64(op.AmountWh)
				} else {
					transferred += int64(op.AmountWh)
				}
			case errors.Is(err, account.ErrInsufficient), errors.Is(err, account.ErrInvalidInput), errors.Is(err, account.ErrConflict):
				// Lost the race for the last GGOs or hours: refused cleanly.
			default:
				t.Errorf("operation %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	w.waitBatches(t)
	if okOps == 0 {
		t.Fatal("no operation succeeded")
	}
	if got := w.sum(t, "user_id = ? AND state = 'STORED'", w.bob.ID); got != transferred {
		t.Fatalf("bob holds %d Wh, the successful transfers sent %d", got, transferred)
	}
	var failed []models.GgoOperation
	_ = w.p.app.DB.NewSelect().Model(&failed).Where("user_id = ? AND state <> 'COMMITTED'", w.alice.ID).Scan(ctx)
	for _, f := range failed {
		// The database's checks must be as strict as the ledger's: an accepted operation
		// that the ledger refuses means a cap or a lock let something through.
		t.Errorf("operation %d (%s, %d Wh) ended %s: %v", f.ID, f.Kind, f.AmountWh, f.State, deref(f.Error))
	}
	if got := w.sum(t, "retire_metering_point_id = ? AND state = 'RETIRED'", w.consMP); got != retired || retired > 4000 {
		t.Fatalf("retired %d Wh, the successful retires claimed %d (cap 4000)", got, retired)
	}
	if left := w.sum(t, "user_id = ? AND state = 'STORED'", w.alice.ID); left+transferred+retired != 10_000 {
		t.Fatalf("alice %d + transferred %d + retired %d != 10000 produced", left, transferred, retired)
	}
	// Per hour, retired never exceeds consumption.
	var over int
	if err := w.p.app.DB.NewRaw(`SELECT count(*) FROM (SELECT begin_at, sum(amount_wh) s FROM ggos
		WHERE retire_metering_point_id = ? AND state = 'RETIRED' GROUP BY begin_at HAVING sum(amount_wh) > 400) x`, w.consMP).Scan(ctx, &over); err != nil || over != 0 {
		t.Fatalf("%d hours retired beyond consumption (%v)", over, err)
	}
	w.checkBooks(t)
	w.checkSummaries(t)
	if _, err := acc.CompactRollup(ctx); err != nil {
		t.Fatal(err)
	}
	w.checkSummaries(t)
	t.Logf("%d of 100 operations succeeded: %d Wh transferred, %d Wh retired", okOps, transferred, retired)
}

func TestAccountsAreTenantScoped(t *testing.T) {
	w := newAccountWorld(t, 1, func(int) int64 { return 100 }, func(int) int64 { return 100 })
	ctx, acc := t.Context(), w.p.app.Account
	var g models.Ggo
	if err := w.p.app.DB.NewSelect().Model(&g).Where("user_id = ?", w.alice.ID).Limit(1).Scan(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := acc.Compose(ctx, w.bob.ID, account.ComposeInput{GgoID: g.ID, Transfers: []account.ComposeTransfer{{RecipientReference: w.bob.AccountReference, Amount: 1}}}); !errors.Is(err, account.ErrNotFound) && !errors.Is(err, account.ErrInvalidInput) {
		t.Fatalf("bob composing alice's GGO: %v, want refused", err)
	}
	if _, err := acc.Retire(ctx, w.bob.ID, account.RetireInput{GSRN: w.consGSRN, From: w.begin, Until: w.begin.Add(time.Hour)}); !errors.Is(err, account.ErrInvalidInput) {
		t.Fatalf("bob retiring to alice's point: %v, want refused", err)
	}
	bob := "Bearer " + w.p.token(t, w.bob.Subject)
	_, r := w.p.post(t, bob, `{ ggos { totalCount } availableAmount ggoOperations { totalCount } ggoSummary(resolution: YEAR) { amount } }`, nil)
	if len(r.Errors) > 0 || !strings.Contains(string(r.Data["ggos"]), `"totalCount":0`) || string(r.Data["availableAmount"]) != "0" || string(r.Data["ggoSummary"]) != "[]" {
		t.Fatalf("bob's view: %v %+v, want empty", r.Data, r.Errors)
	}
	alice := "Bearer " + w.p.token(t, w.alice.Subject)
	_, r = w.p.post(t, alice, `{ me { accountReference } ggos { totalCount nodes { id amount state technology { label } meteringPoint { gsrn } } } availableAmount }`, nil)
	if len(r.Errors) > 0 || !strings.Contains(string(r.Data["ggos"]), `"totalCount":1`) || string(r.Data["availableAmount"]) != "100" ||
		!strings.Contains(string(r.Data["ggos"]), `"label":"Wind"`) {
		t.Fatalf("alice's view: %v %+v", r.Data, r.Errors)
	}
	// Bob cannot fetch alice's GGO by id either.
	var ids struct {
		Ggos struct{ Nodes []struct{ ID string } }
	}
	mustData(t, r, &ids)
	_, r = w.p.post(t, bob, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": ids.Ggos.Nodes[0].ID})
	if string(r.Data["node"]) != "null" {
		t.Fatalf("bob fetched alice's GGO by id: %s", r.Data["node"])
	}
	// Over GraphQL, a shortage is a userError with the available amount.
	_, r = w.p.post(t, alice, `mutation($to: String!) { transferGgos(input: {amount: 1000, recipient: $to}) { operation { id } userErrors { code message } available } }`,
		map[string]any{"to": w.bob.AccountReference})
	if !strings.Contains(string(r.Data["transferGgos"]), `"available":100`) {
		t.Fatalf("transferGgos shortage = %s %+v", r.Data["transferGgos"], r.Errors)
	}
	// By account id (User.id) as well as by reference.
	_, r = w.p.post(t, bob, `{ me { id } }`, nil)
	var bobMe struct{ Me struct{ ID string } }
	mustData(t, r, &bobMe)
	_, r = w.p.post(t, alice, `mutation($to: String!) { transferGgos(input: {amount: 40, recipient: $to}) { operation { amount } userErrors { message } } }`,
		map[string]any{"to": bobMe.Me.ID})
	if !strings.Contains(string(r.Data["transferGgos"]), `"amount":40`) {
		t.Fatalf("transfer by account id = %s %+v", r.Data["transferGgos"], r.Errors)
	}
}

func TestExpiredGgosCannotMove(t *testing.T) {
	w := newAccountWorld(t, 2, func(int) int64 { return 100 }, func(int) int64 { return 0 })
	ctx, db := t.Context(), w.p.app.DB
	if _, err := db.ExecContext(ctx, "UPDATE ggos SET expires_at = now() - interval '1 minute' WHERE user_id = ? AND begin_at = ?", w.alice.ID, w.begin); err != nil {
		t.Fatal(err)
	}
	// Even before the task runs, an expired GGO does not count as available.
	_, err := w.p.app.Account.Transfer(ctx, w.alice.ID, account.TransferInput{Amount: 150, RecipientReference: w.bob.AccountReference})
	var short *account.InsufficientError
	if !errors.As(err, &short) || short.Available != 100 {
		t.Fatalf("Transfer with one expired GGO: %v, want 100 Wh available", err)
	}
	n, err := w.p.app.Account.ExpireDue(ctx)
	if err != nil || n != 1 {
		t.Fatalf("ExpireDue() = %d, %v; want 1", n, err)
	}
	if got := w.sum(t, "user_id = ? AND state = 'EXPIRED'", w.alice.ID); got != 100 {
		t.Fatalf("expired %d Wh, want 100", got)
	}
}

func ptrWh(n int64) *models.WattHours { v := models.WattHours(n); return &v }

var _ = context.Background

// TestTransferAnnouncedBySignedWebhooks: the recipient's subscription gets GGO_RECEIVED and
// the sender's OPERATION_COMMITTED, each signed so that webhook.Verify accepts it.
func TestTransferAnnouncedBySignedWebhooks(t *testing.T) {
	w := newAccountWorld(t, 1, func(int) int64 { return 800 }, func(int) int64 { return 0 })
	ctx := t.Context()
	type hit struct {
		event string
		body  []byte
		ts    string
		sig   string
	}
	hits := make(chan hit, 10)
	recv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		hits <- hit{r.Header.Get("X-OriginHub-Event"), body, r.Header.Get("X-OriginHub-Timestamp"), r.Header.Get("X-OriginHub-Signature")}
	}))
	defer recv.Close()
	const bobSecret = "bobs-own-secret-0123456789"
	if _, err := w.p.app.Webhooks.Subscribe(ctx, w.bob.ID, webhook.SubscribeInput{Event: webhook.EventGGOReceived, URL: recv.URL + "/bob", Secret: bobSecret}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.p.app.Webhooks.Subscribe(ctx, w.alice.ID, webhook.SubscribeInput{Event: webhook.EventOperationCommitted, URL: recv.URL + "/alice"}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.p.app.Account.Transfer(ctx, w.alice.ID, account.TransferInput{Amount: 300, RecipientReference: w.bob.AccountReference}); err != nil {
		t.Fatal(err)
	}
	got := map[string]hit{}
	for len(got) < 2 {
		select {
		case h := <-hits:
			got[h.event] = h
		case <-time.After(30 * time.Second):
			t.Fatalf("webhooks received: %v, want GGO_RECEIVED and OPERATION_COMMITTED", got)
		}
	}
	rcv := got["GGO_RECEIVED"]
	if err := webhook.Verify(bobSecret, rcv.ts, rcv.body, rcv.sig, time.Minute); err != nil {
		t.Fatalf("GGO_RECEIVED signature: %v", err)
	}
	if !strings.Contains(string(rcv.body), `"amount":300`) || !strings.Contains(string(rcv.body), w.alice.AccountReference) {
		t.Fatalf("GGO_RECEIVED body = %s, want 300 Wh from alice", rcv.body)
	}
	com := got["OPERATION_COMMITTED"]
	if err := webhook.Verify(w.p.app.Config.Webhook.Secret.Reveal(), com.ts, com.body, com.sig, time.Minute); err != nil {
		t.Fatalf("OPERATION_COMMITTED signature with WEBHOOK_SECRET: %v", err)
	}
	if err := webhook.Verify(bobSecret, com.ts, com.body, com.sig, time.Minute); err == nil {
		t.Fatal("a signature verified with the wrong secret")
	}
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
