// Package wallet keeps every user's custodial BIP32 wallet: the master key m, sealed at rest
// with ledger.Sealer, and the counters of the m/1/i (metering point) and m/0/k (traded GGO)
// branches.
package wallet

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/uptrace/bun"

	"github.com/originhub/originhub/internal/ledger"
)

// ErrNoUser is returned when the wallet's user does not exist.
var ErrNoUser = errors.New("wallet: no such user")

// ErrNoMeteringPoint is returned when the metering point does not exist.
var ErrNoMeteringPoint = errors.New("wallet: no such metering point")

// Service creates wallets and derives their keys. Keys never leave it unsealed except as
// *ledger.Key values, which do not print their secrets.
type Service struct {
	sealer *ledger.Sealer

	// opened caches master keys by their sealed bytes and owner: opening one (decrypting,
	// deriving its public key) and its m/0 branch cost more than the operation that needs
	// them. Keyed by the sealed bytes read in the caller's transaction, a hit is exactly
	// what opening that row would give, whatever happens to the transaction.
	mu     sync.Mutex
	opened map[string]*ledger.Key
	// committed caches master keys by user, filled only by Warm from committed rows: a
	// user's key never changes once its wallet exists, so Master needs no query for them.
	committed map[int64]*ledger.Key
}

// maxOpened bounds each cache of opened master keys; when full it starts over.
const maxOpened = 4096

// keep caches k under id in m, emptying m first when it is full. The caller holds s.mu.
func keep[K comparable](m map[K]*ledger.Key, id K, k *ledger.Key) {
	if len(m) >= maxOpened {
		clear(m)
	}
	m[id] = k
}

// NewService returns a Service sealing master keys with sealer.
func NewService(sealer *ledger.Sealer) *Service {
	return &Service{sealer: sealer, opened: map[string]*ledger.Key{}, committed: map[int64]*ledger.Key{}}
}

// owner is the associated data a sealed key is bound to, so that a sealed key copied to
// another user's row does not open.
func owner(userID int64) string { return "originhub wallet user " + strconv.FormatInt(userID, 10) }

// Master returns userID's master key m, creating the wallet first if the user has none. Two
// callers racing on a new user agree on one key: the insert is ON CONFLICT DO NOTHING and
// both read the row that won. db may be a transaction. Errors: ErrNoUser.
func (s *Service) Master(ctx context.Context, db bun.IDB, userID int64) (*ledger.Key, error) {
	s.mu.Lock()
	k, ok := s.committed[userID]
	s.mu.Unlock()
	if ok {
		return k, nil
	}
	sealed, err := s.ensure(ctx, db, userID, false)
	if err != nil {
		return nil, err
	}
	return s.open(sealed, userID)
}

// ensure inserts the wallet if missing and returns its sealed key, locking the row FOR
// UPDATE when lock is set (db must then be a transaction).
func (s *Service) ensure(ctx context.Context, db bun.IDB, userID int64, lock bool) ([]byte, error) {
	q := "SELECT sealed_key FROM wallets WHERE user_id = ?"
	if lock {
		q += " FOR UPDATE"
	}
	var sealed []byte
	err := db.NewRaw(q, userID).Scan(ctx, &sealed)
	if err == nil {
		return sealed, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("load wallet of user %d: %w", userID, err)
	}
	var subject string
	if err := db.NewRaw("SELECT subject FROM users WHERE id = ?", userID).Scan(ctx, &subject); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNoUser
		}
		return nil, fmt.Errorf("load user %d: %w", userID, err)
	}
	seed, err := ledger.NewUserSeed(subject)
	if err != nil {
		return nil, err
	}
	m, err := ledger.NewMasterKey(seed)
	if err != nil {
		return nil, err
	}
	fresh, err := s.sealer.SealKey(m, owner(userID))
	if err != nil {
		return nil, err
	}
	if _, err := db.NewRaw("INSERT INTO wallets (user_id, sealed_key) VALUES (?, ?) ON CONFLICT (user_id) DO NOTHING", userID, fresh).Exec(ctx); err != nil {
		return nil, fmt.Errorf("create wallet of user %d: %w", userID, err)
	}
	// Read back what won the race (ours or a concurrent insert).
	if err := db.NewRaw(q, userID).Scan(ctx, &sealed); err != nil {
		return nil, fmt.Errorf("load wallet of user %d: %w", userID, err)
	}
	return sealed, nil
}

func (s *Service) open(sealed []byte, userID int64) (*ledger.Key, error) {
	id := owner(userID) + "\x00" + string(sealed)
	s.mu.Lock()
	k, ok := s.opened[id]
	s.mu.Unlock()
	if ok {
		return k, nil
	}
	k, err := s.sealer.OpenKey(sealed, owner(userID))
	if err != nil {
		return nil, fmt.Errorf("open wallet of user %d: %w", userID, err)
	}
	s.mu.Lock()
	keep(s.opened, id, k)
	s.mu.Unlock()
	return k, nil
}

// MeteringPointKey returns the key m/1/i of metering point mpID (owned by the user whose
// wallet signs for it), assigning the point the wallet's next index i if it has none yet.
// The wallet row is locked FOR UPDATE while the counter moves, so call it inside a
// transaction (tx); two points of one user never share an index. Errors:
// ErrNoMeteringPoint, ErrNoUser.
func (s *Service) MeteringPointKey(ctx context.Context, tx bun.IDB, mpID int64) (*ledger.Key, error) {
	var mp struct {
		UserID   int64 `bun:"user_id"`
		KeyIndex *int  `bun:"key_index"`
	}
	if err := tx.NewRaw("SELECT user_id, key_index FROM metering_points WHERE id = ?", mpID).Scan(ctx, &mp); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNoMeteringPoint
		}
		return nil, fmt.Errorf("load metering point %d: %w", mpID, err)
	}
	if mp.KeyIndex != nil {
		m, err := s.Master(ctx, tx, mp.UserID)
		if err != nil {
			return nil, err
		}
		return m.MeteringPointKey(uint32(*mp.KeyIndex))
	}
	sealed, err := s.ensure(ctx, tx, mp.UserID, true)
	if err != nil {
		return nil, err
	}
	var idx int
	// key_index IS NULL guards against a concurrent assignment that committed between our
	// read and the wallet lock; RETURNING then yields nothing and we re-read.
	err = tx.NewRaw(`WITH n AS (
		UPDATE wallets SET next_metering_point_index = next_metering_point_index + 1, updated_at = now()
		WHERE user_id = ? RETURNING next_metering_point_index - 1 AS idx)
	UPDATE metering_points SET key_index = (SELECT idx FROM n), updated_at = now()
	WHERE id = ? AND key_index IS NULL RETURNING key_index`, mp.UserID, mpID).Scan(ctx, &idx)
	if errors.Is(err, sql.ErrNoRows) {
		if err := tx.NewRaw("SELECT key_index FROM metering_points WHERE id = ?", mpID).Scan(ctx, &idx); err != nil {
			return nil, fmt.Errorf("load key index of metering point %d: %w", mpID, err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("assign key index to metering point %d: %w", mpID, err)
	}
	m, err := s.open(sealed, mp.UserID)
	if err != nil {
		return nil, err
	}
	return m.MeteringPointKey(uint32(idx))
}

// NextTradedGGOKey reserves the next index k of userID's m/0/k branch and returns it with
// its key. The wallet row is locked FOR UPDATE until tx ends, so call it inside the
// transaction that records the GGO. Errors: ErrNoUser.
func (s *Service) NextTradedGGOKey(ctx context.Context, tx bun.IDB, userID int64) (uint32, *ledger.Key, error) {
	sealed, err := s.ensure(ctx, tx, userID, true)
	if err != nil {
		return 0, nil, err
	}
	var k int64
	if err := tx.NewRaw("UPDATE wallets SET next_ggo_index = next_ggo_index + 1, updated_at = now() WHERE user_id = ? RETURNING next_ggo_index - 1", userID).Scan(ctx, &k); err != nil {
		return 0, nil, fmt.Errorf("reserve ggo key of user %d: %w", userID, err)
	}
	m, err := s.open(sealed, userID)
	if err != nil {
		return 0, nil, err
	}
	key, err := m.TradedGGOKey(uint32(k))
	if err != nil {
		return 0, nil, err
	}
	return uint32(k), key, nil
}

// Warm reads the committed wallets of users outside any transaction (db is the pool), so
// that Master answers for them without a query, also inside transactions. Users without a
// wallet yet are left to Master, which creates theirs.
func (s *Service) Warm(ctx context.Context, db *bun.DB, users ...int64) error {
	var missing []int64
	s.mu.Lock()
	for _, u := range users {
		if _, ok := s.committed[u]; !ok {
			missing = append(missing, u)
		}
	}
	s.mu.Unlock()
	if len(missing) == 0 {
		return nil
	}
	var rows []struct {
		UserID int64  `bun:"user_id"`
		Sealed []byte `bun:"sealed_key"`
	}
	if err := db.NewRaw("SELECT user_id, sealed_key FROM wallets WHERE user_id IN (?)", bun.In(missing)).Scan(ctx, &rows); err != nil {
		return fmt.Errorf("load wallets: %w", err)
	}
	for _, r := range rows {
		k, err := s.open(r.Sealed, r.UserID)
		if err != nil {
			return err
		}
		s.mu.Lock()
		keep(s.committed, r.UserID, k)
		s.mu.Unlock()
	}
	return nil
}
