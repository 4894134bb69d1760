package wallet_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"testing"

	"github.com/uptrace/bun"

	"github.com/originhub/originhub/internal/ledger"
	"github.com/originhub/originhub/internal/ledger/wallet"
	"github.com/originhub/originhub/internal/testkit"
)

func TestMain(m *testing.M) { testkit.Main(m) }

func newService(t *testing.T) *wallet.Service {
	t.Helper()
	s, err := ledger.NewSealer([]byte("wallet test secret, 16+ chars"))
	if err != nil {
		t.Fatal(err)
	}
	return wallet.NewService(s)
}

func newUser(t *testing.T, db *bun.DB) int64 {
	t.Helper()
	var id int64
	if err := db.NewRaw("INSERT INTO users (subject) VALUES (?) RETURNING id", testkit.Subject(t)).Scan(t.Context(), &id); err != nil {
		t.Fatal(err)
	}
	return id
}

func newPoint(t *testing.T, db *bun.DB, userID int64) int64 {
	t.Helper()
	n, _ := rand.Int(rand.Reader, big.NewInt(1e16))
	var id int64
	if err := db.NewRaw("INSERT INTO metering_points (user_id, gsrn, type, sector) VALUES (?, ?, 'PRODUCTION', 'DK1') RETURNING id",
		userID, fmt.Sprintf("57%016d", n)).Scan(t.Context(), &id); err != nil {
		t.Fatal(err)
	}
	return id
}

// TestMasterSealedAndShared creates a user's wallet from many goroutines at once: all get
// the same key, and the stored row holds neither the xprv nor the private key.
func TestMasterSealedAndShared(t *testing.T) {
	t.Parallel()
	db := testkit.DB(t)
	s := newService(t)
	userID := newUser(t, db)
	const n = 8
	keys := make([]*ledger.Key, n)
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { keys[i], errs[i] = s.Master(t.Context(), db, userID) })
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if keys[i].ExtendedKey() != keys[0].ExtendedKey() {
			t.Fatalf("Master() #%d differs from #0: racing creators disagree", i)
		}
	}
	var sealed []byte
	if err := db.NewRaw("SELECT sealed_key FROM wallets WHERE user_id = ?", userID).Scan(t.Context(), &sealed); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte(keys[0].ExtendedKey())) || bytes.Contains(sealed, keys[0].PrivateKey()) || strings.Contains(string(sealed), "xprv") {
		t.Fatal("wallet row holds the key in clear")
	}
	// Another user's row cannot be opened as this user's.
	other := newUser(t, db)
	if _, err := db.NewRaw("INSERT INTO wallets (user_id, sealed_key) VALUES (?, ?)", other, sealed).Exec(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Master(t.Context(), db, other); err == nil {
		t.Fatal("Master() with a key sealed for another user = nil error, want ErrSealed")
	}
}

// TestKeyIndices assigns metering point keys and traded GGO keys concurrently: indices are
// distinct and the keys are m/1/i and m/0/k of the user's master key.
func TestKeyIndices(t *testing.T) {
	t.Parallel()
	db := testkit.DB(t)
	ctx := t.Context()
	s := newService(t)
	userID := newUser(t, db)
	const n = 6
	points := make([]int64, n)
	for i := range points {
		points[i] = newPoint(t, db, userID)
	}
	mpKeys := make([]*ledger.Key, n)
	ggoIdx := make([]uint32, n)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	for i := range n {
		wg.Go(func() {
			err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
				k, err := s.MeteringPointKey(ctx, tx, points[i])
				mpKeys[i] = k
				return err
			})
			if err == nil {
				err = db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
					idx, _, err := s.NextTradedGGOKey(ctx, tx, userID)
					ggoIdx[i] = idx
					return err
				})
			}
			if err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	m, err := s.Master(ctx, db, userID)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for i, p := range points {
		var idx int
		if err := db.NewRaw("SELECT key_index FROM metering_points WHERE id = ?", p).Scan(ctx, &idx); err != nil {
			t.Fatal(err)
		}
		if seen[idx] {
			t.Fatalf("key index %d assigned twice", idx)
		}
		seen[idx] = true
		want, _ := m.MeteringPointKey(uint32(idx))
		if mpKeys[i].PublicKeyHex() != want.PublicKeyHex() {
			t.Fatalf("MeteringPointKey(%d) is not m/1/%d", p, idx)
		}
		// Asking again returns the same key.
		var again *ledger.Key
		if err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			again, err = s.MeteringPointKey(ctx, tx, p)
			return err
		}); err != nil || again.PublicKeyHex() != want.PublicKeyHex() {
			t.Fatalf("MeteringPointKey(%d) again = %v, want the same key", p, err)
		}
	}
	seenGGO := map[uint32]bool{}
	for _, k := range ggoIdx {
		if seenGGO[k] {
			t.Fatalf("ggo key index %d reserved twice", k)
		}
		seenGGO[k] = true
	}
	if _, err := s.MeteringPointKey(ctx, db, -1); err != wallet.ErrNoMeteringPoint {
		t.Fatalf("MeteringPointKey(unknown) = %v, want ErrNoMeteringPoint", err)
	}
}

// TestOpenedKeysFollowTheStoredRow: the cache of opened keys never outlives the row it was
// opened from. A wallet created in a transaction that rolls back is forgotten, and the one
// created next is what later calls return.
func TestOpenedKeysFollowTheStoredRow(t *testing.T) {
	t.Parallel()
	db := testkit.DB(t)
	s := newService(t)
	userID := newUser(t, db)
	ctx := t.Context()
	var lost *ledger.Key
	errRollback := errors.New("roll back")
	if err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var err error
		if lost, err = s.Master(ctx, tx, userID); err != nil {
			return err
		}
		return errRollback
	}); !errors.Is(err, errRollback) {
		t.Fatal(err)
	}
	kept, err := s.Master(ctx, db, userID)
	if err != nil {
		t.Fatal(err)
	}
	if kept.ExtendedKey() == lost.ExtendedKey() {
		t.Fatal("the wallet of a rolled-back transaction came back")
	}
	again, err := s.Master(ctx, db, userID)
	if err != nil {
		t.Fatal(err)
	}
	if again != kept {
		t.Fatal("Master() opened the same stored key twice, want the cached key")
	}
}

// TestWarm: Warm caches committed wallets by user, so Master then answers for them without
// a query (with a cancelled context, on which any query fails); users without a wallet are
// left to Master.
func TestWarm(t *testing.T) {
	t.Parallel()
	db := testkit.DB(t)
	s := newService(t)
	ctx := t.Context()
	withWallet, without := newUser(t, db), newUser(t, db)
	want, err := newService(t).Master(ctx, db, withWallet) // another Service: s has nothing cached
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Warm(ctx, db, withWallet, without); err != nil {
		t.Fatal(err)
	}
	done, cancel := context.WithCancel(ctx)
	cancel()
	got, err := s.Master(done, db, withWallet)
	if err != nil || got.ExtendedKey() != want.ExtendedKey() {
		t.Fatalf("Master() after Warm = %v, %v; want the stored key without a query", got, err)
	}
	if _, err := s.Master(done, db, without); err == nil {
		t.Fatal("Master() of a user without a wallet answered from the cache, want a query (and here its error)")
	}
}
