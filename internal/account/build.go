package account

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"github.com/originhub/originhub/internal/ledger"
	"github.com/originhub/originhub/models"
)

// builder collects one operation's ledger transactions and row changes. Nothing is written
// until finish: the batch id, which every row refers to, is known only once the batch is
// built.
type builder struct {
	s       *Service
	tx      bun.Tx
	owner   int64
	master  *ledger.Key
	masters map[int64]*ledger.Key // other parties' wallets, opened once

	keyIndexes []int64               // reserved, unused traded-GGO key indexes
	prepared   map[int64][]pathedKey // new traded-GGO keys derived ahead, by user (prepareKeys)

	mpKeys   map[int64]*ledger.Key  // consumption points' keys, loaded once per operation
	ownKeys  map[string]*ledger.Key // keys in the owner's wallet by path, derived once per operation
	hourKeys map[mpHour]*ledger.Key // consumption points' measurement keys (prepareHourKeys)

	txs    []ledger.Tx
	parts  []models.Ggo
	spent  []spend
	amount models.WattHours
}

// spend is a consumed GGO and what it becomes when the batch commits.
type spend struct {
	id       int64
	next     models.GgoState
	retireMP *int64
}

func (s *Service) newBuilder(ctx context.Context, tx bun.Tx, owner int64) (*builder, error) {
	master, err := s.wallets.Master(ctx, tx, owner)
	if err != nil {
		return nil, fmt.Errorf("open wallet: %w", err)
	}
	return &builder{s: s, tx: tx, owner: owner, master: master, masters: map[int64]*ledger.Key{owner: master}}, nil
}

// keyOf derives the key that owns g in its owner's wallet.
func (b *builder) keyOf(g models.Ggo) (*ledger.Key, error) {
	if g.UserID != b.owner {
		return nil, fmt.Errorf("ggo %d is not the operation owner's", g.ID)
	}
	k, err := b.ownKey(g.KeyPath)
	if err != nil {
		return nil, fmt.Errorf("derive key of ggo %d: %w", g.ID, err)
	}
	if k.Address(ledger.PrefixGGO) != g.Address {
		return nil, fmt.Errorf("key of ggo %d does not match its address", g.ID)
	}
	return k, nil
}

// newKey derives a fresh traded-GGO key m/0/k of user, k from a sequence: nextval never
// blocks, so concurrent operations of one account do not serialise on a counter row, and it
// runs on the operation's own connection (asking the pool for a second one while holding a
// transaction can exhaust it). An index taken by a rolled-back operation is a harmless gap.
func (b *builder) newKey(ctx context.Context, user int64) (*ledger.Key, string, error) {
	if ks := b.prepared[user]; len(ks) > 0 {
		b.prepared[user] = ks[1:]
		return ks[0].key, ks[0].path, nil
	}
	if len(b.keyIndexes) == 0 {
		// A few at a time: most operations need two or three keys, and each reservation is
		// a round trip while the operation's rows are locked.
		if err := b.reserveKeys(ctx, keyBlock); err != nil {
			return nil, "", err
		}
	}
	m, err := b.masterOf(ctx, user)
	if err != nil {
		return nil, "", err
	}
	k := b.keyIndexes[0]
	b.keyIndexes = b.keyIndexes[1:]
	key, err := m.TradedGGOKey(uint32(k))
	if err != nil {
		return nil, "", err
	}
	path := tradedPath(uint32(k))
	if user == b.owner {
		b.remember(path, key)
	}
	return key, path, nil
}

// masterOf opens user's wallet, once per operation.
func (b *builder) masterOf(ctx context.Context, user int64) (*ledger.Key, error) {
	if m, ok := b.masters[user]; ok {
		return m, nil
	}
	m, err := b.s.wallets.Master(ctx, b.tx, user)
	if err != nil {
		return nil, fmt.Errorf("open wallet of user %d: %w", user, err)
	}
	b.masters[user] = m
	return m, nil
}

// keyBlock is how many key indexes newKey reserves at once.
const keyBlock = 4

// reserveKeys reserves n more traded-GGO key indexes in one round trip, for an operation
// that knows how many parts it will make: consuming a day takes hundreds of keys, which
// keyBlock at a time would be a round trip each few.
func (b *builder) reserveKeys(ctx context.Context, n int) error {
	if n <= 0 {
		return nil
	}
	var more []int64
	if err := b.tx.NewRaw("SELECT nextval('ggo_key_index_seq') FROM generate_series(1, ?)", n).Scan(ctx, &more); err != nil {
		return fmt.Errorf("reserve key indexes: %w", err)
	}
	b.keyIndexes = append(b.keyIndexes, more...)
	return nil
}

// tradedPath is the path of the traded-GGO key with index k (ledger.Key.TradedGGOKey).
func tradedPath(k uint32) string { return "m/0/" + strconv.FormatUint(uint64(k), 10) }

// pathedKey is a derived key with its path in its wallet.
type pathedKey struct {
	key  *ledger.Key
	path string
}

// prepareKeys reserves and derives, all at once, the new traded-GGO keys an operation will
// take: counts[user] of them for each user. newKey then hands them out. Deriving a batch
// shares the costliest step of each derivation (ledger.Key.Children).
func (b *builder) prepareKeys(ctx context.Context, counts map[int64]int) error {
	total := 0
	for _, n := range counts {
		total += n
	}
	if err := b.reserveKeys(ctx, total); err != nil {
		return err
	}
	if b.prepared == nil {
		b.prepared = make(map[int64][]pathedKey, len(counts))
	}
	for _, user := range slices.Sorted(maps.Keys(counts)) {
		m, err := b.masterOf(ctx, user)
		if err != nil {
			return err
		}
		n := counts[user]
		idx := make([]uint32, n)
		for i, k := range b.keyIndexes[:n] {
			idx[i] = uint32(k)
		}
		b.keyIndexes = b.keyIndexes[n:]
		keys, err := m.TradedGGOKeys(idx)
		if err != nil {
			return fmt.Errorf("derive keys of user %d: %w", user, err)
		}
		for i, k := range keys {
			pk := pathedKey{key: k, path: tradedPath(idx[i])}
			if user == b.owner {
				b.remember(pk.path, k)
			}
			b.prepared[user] = append(b.prepared[user], pk)
		}
	}
	return nil
}

// prepareOwnKeys derives the owner's keys at paths ("m/a/.../i") at once, each group of
// siblings in one batch (ledger.Key.Children), for keyOf and ownKey to find.
func (b *builder) prepareOwnKeys(paths []string) error {
	siblings := map[string][]uint32{}
	for _, p := range paths {
		if _, ok := b.ownKeys[p]; ok {
			continue
		}
		up, n, ok := splitPath(p)
		if !ok {
			continue // not a plain path: ownKey explains it when it is asked for
		}
		siblings[up] = append(siblings[up], n)
	}
	for _, up := range slices.Sorted(maps.Keys(siblings)) {
		parent, err := b.ownKey(up)
		if err != nil {
			return err
		}
		idx := siblings[up]
		keys, err := parent.Children(idx)
		if err != nil {
			return fmt.Errorf("derive keys below %q: %w", up, err)
		}
		for i, k := range keys {
			b.remember(up+"/"+strconv.FormatUint(uint64(idx[i]), 10), k)
		}
	}
	return nil
}

// mpHour names the measurement key of a consumption point at an hour.
type mpHour struct {
	mp   int64
	hour int64 // Unix
}

// prepareHourKeys derives the measurement keys of the consumption points' hours at once
// (ledger.Key.MeasurementKeys), for retire to find.
func (b *builder) prepareHourKeys(ctx context.Context, hours map[int64][]time.Time) error {
	if b.hourKeys == nil {
		b.hourKeys = map[mpHour]*ledger.Key{}
	}
	for _, mp := range slices.Sorted(maps.Keys(hours)) {
		mpKey, err := b.meteringPointKey(ctx, mp)
		if err != nil {
			return fmt.Errorf("key of metering point %d: %w", mp, err)
		}
		keys, err := mpKey.MeasurementKeys(hours[mp])
		if err != nil {
			return err
		}
		for i, k := range keys {
			b.hourKeys[mpHour{mp, hours[mp][i].Unix()}] = k
		}
	}
	return nil
}

// ownKey derives path ("m/a/b/...", non-hardened) in the owner's wallet, remembering every
// key on the way: each derivation step costs a curve multiplication, and an operation that
// spends many GGOs spends many of one metering point (m/1/i/t) and retires the parts it
// made itself (m/0/k).
func (b *builder) ownKey(path string) (*ledger.Key, error) {
	if k, ok := b.ownKeys[path]; ok {
		return k, nil
	}
	up, n, ok := splitPath(path)
	if !ok {
		return b.master.DerivePath(path) // not a plain path: let it explain
	}
	var k *ledger.Key
	var err error
	if up == "m" {
		// One step below the master: DerivePath takes m/0 from the master key's own cache.
		k, err = b.master.DerivePath(path)
	} else {
		var parent *ledger.Key
		if parent, err = b.ownKey(up); err != nil {
			return nil, err
		}
		k, err = parent.Child(n)
	}
	if err != nil {
		return nil, fmt.Errorf("derive %q: %w", path, err)
	}
	b.remember(path, k)
	return k, nil
}

// splitPath splits "m/a/.../i" into its parent path and last (non-hardened) index.
func splitPath(path string) (up string, i uint32, ok bool) {
	at := strings.LastIndexByte(path, '/')
	n, err := strconv.ParseUint(path[at+1:], 10, 31)
	if at < 1 || err != nil {
		return "", 0, false
	}
	return path[:at], uint32(n), true
}

func (b *builder) remember(path string, k *ledger.Key) {
	if b.ownKeys == nil {
		b.ownKeys = map[string]*ledger.Key{}
	}
	b.ownKeys[path] = k
}

// meteringPointKey returns the key m/1/i of consumption point mpID, loaded once per
// operation: one that retires many hours retires to the same few points each hour, and
// loading a key costs two queries.
func (b *builder) meteringPointKey(ctx context.Context, mpID int64) (*ledger.Key, error) {
	if k, ok := b.mpKeys[mpID]; ok {
		return k, nil
	}
	k, err := b.s.wallets.MeteringPointKey(ctx, b.tx, mpID)
	if err != nil {
		return nil, err
	}
	if b.mpKeys == nil {
		b.mpKeys = map[int64]*ledger.Key{}
	}
	b.mpKeys[mpID] = k
	return k, nil
}

// part returns a new GGO derived from src for owner, copying provenance.
func part(src models.Ggo, owner int64, origin models.GgoOrigin, amount models.WattHours, key *ledger.Key, path string) models.Ggo {
	root := src.RootID
	if root == nil {
		id := src.ID
		root = &id
	}
	parent := src.ID
	p := src
	p.ID = 0
	p.UserID, p.Origin, p.AmountWh = owner, origin, amount
	p.ParentID, p.RootID = &parent, root
	p.Address, p.KeyPath = key.Address(ledger.PrefixGGO), path
	p.State, p.NextState, p.RetireMeteringPointID, p.RetiredAt = models.GgoPending, nil, nil, nil
	p.ReceivedFromUserID, p.AgreementID = nil, nil
	if origin == models.GgoReceived {
		from := src.UserID
		p.ReceivedFromUserID = &from
	}
	p.CreatedAt, p.UpdatedAt = time.Time{}, time.Time{}
	return p
}

// transferWhole moves all of g to recipient.
func (b *builder) transferWhole(ctx context.Context, g models.Ggo, recipient int64) error {
	gk, err := b.keyOf(g)
	if err != nil {
		return err
	}
	dk, path, err := b.newKey(ctx, recipient)
	if err != nil {
		return err
	}
	t, err := ledger.TransferGGO(gk, g.Address, dk.Address(ledger.PrefixGGO))
	if err != nil {
		return fmt.Errorf("transfer ggo %d: %w", g.ID, err)
	}
	b.txs = append(b.txs, t)
	b.parts = append(b.parts, part(g, recipient, models.GgoReceived, g.AmountWh, dk, path))
	b.spent = append(b.spent, spend{id: g.ID, next: models.GgoTransferred})
	return nil
}

// share is one part of a split: its owner, amount and, for a retire part, the consumption
// point it will be retired to.
type share struct {
	owner     int64
	amount    models.WattHours
	retireMP  *int64
	agreement *int64 // a transfer under this agreement
}

// split splits g into shares (which must sum to it) and returns the new parts' indexes in
// b.parts, in share order.
func (b *builder) split(ctx context.Context, g models.Ggo, shares []share) ([]int, error) {
	var sum models.WattHours
	for _, sh := range shares {
		if sh.amount <= 0 {
			return nil, fmt.Errorf("split of ggo %d: part of %d Wh", g.ID, sh.amount)
		}
		sum += sh.amount
	}
	if sum != g.AmountWh {
		return nil, fmt.Errorf("split of ggo %d: parts sum to %d Wh, want %d", g.ID, sum, g.AmountWh)
	}
	gk, err := b.keyOf(g)
	if err != nil {
		return nil, err
	}
	parts := make([]ledger.SplitPart, len(shares))
	idx := make([]int, len(shares))
	for i, sh := range shares {
		k, path, err := b.newKey(ctx, sh.owner)
		if err != nil {
			return nil, err
		}
		origin := models.GgoPart
		if sh.owner != g.UserID {
			origin = models.GgoReceived
		}
		p := part(g, sh.owner, origin, sh.amount, k, path)
		p.RetireMeteringPointID = sh.retireMP
		p.AgreementID = sh.agreement
		parts[i] = ledger.SplitPart{Address: p.Address, Amount: int64(sh.amount)}
		idx[i] = len(b.parts)
		b.parts = append(b.parts, p)
	}
	t, err := ledger.SplitGGO(gk, g.Address, parts)
	if err != nil {
		return nil, fmt.Errorf("split ggo %d: %w", g.ID, err)
	}
	b.txs = append(b.txs, t)
	b.spent = append(b.spent, spend{id: g.ID, next: models.GgoSplit})
	return idx, nil
}

// retirement is one GGO (stored, or a part of this operation) retired to a measurement.
type retirement struct {
	existing *models.Ggo // a stored GGO retired whole
	partIdx  int         // else: the index of a part in b.parts
}

// retire retires rs to the consumption measurement of mp at hour, with its settlement.
func (b *builder) retire(ctx context.Context, mp models.MeteringPoint, hour time.Time, measurementAddress string, rs []retirement) error {
	hourKey, ok := b.hourKeys[mpHour{mp.ID, hour.Unix()}]
	if !ok {
		mpKey, err := b.meteringPointKey(ctx, mp.ID)
		if err != nil {
			return fmt.Errorf("key of %s: %w", mp.GSRN, err)
		}
		if hourKey, err = mpKey.MeasurementKey(hour); err != nil {
			return err
		}
	}
	if hourKey.Address(ledger.PrefixMeasurement) != measurementAddress {
		return fmt.Errorf("measurement address of %s at %s does not match its key", mp.GSRN, hour.Format(time.RFC3339))
	}
	ggos := make([]ledger.RetiredGGO, len(rs))
	mpID := mp.ID
	for i, r := range rs {
		if r.existing != nil {
			k, err := b.keyOf(*r.existing)
			if err != nil {
				return err
			}
			ggos[i] = ledger.RetiredGGO{Key: k, Address: r.existing.Address}
			b.spent = append(b.spent, spend{id: r.existing.ID, next: models.GgoRetired, retireMP: &mpID})
			continue
		}
		p := b.parts[r.partIdx]
		k, err := b.ownKey(p.KeyPath)
		if err != nil {
			return err
		}
		ggos[i] = ledger.RetiredGGO{Key: k, Address: p.Address}
	}
	txs, err := ledger.RetireGGO(hourKey, measurementAddress, ggos)
	if err != nil {
		return fmt.Errorf("retire to %s at %s: %w", mp.GSRN, hour.Format(time.RFC3339), err)
	}
	b.txs = append(b.txs, txs...)
	return nil
}

// finish builds the batch and writes the operation, its outbox batch, the new parts and the
// consumed GGOs' locks, all in the builder's transaction.
func (b *builder) finish(ctx context.Context, op *models.GgoOperation) (string, error) {
	if len(b.txs) == 0 {
		return "", &InputError{Field: "input", Message: "nothing to do"}
	}
	batch, err := b.writeBatch(ctx)
	if err != nil {
		return "", err
	}
	op.BatchID = &batch.ID
	op.State = models.OperationPending
	opInsert := b.tx.NewInsert().Model(op).Returning("id, created_at")
	if len(b.parts) == 0 {
		if _, err := opInsert.Exec(ctx); err != nil {
			return "", fmt.Errorf("record operation: %w", err)
		}
	} else {
		// The operation and its parts in one statement (a round trip less while the
		// operation's GGOs are locked): the parts take the operation's id from the CTE.
		for i := range b.parts {
			b.parts[i].BatchID = &batch.ID
		}
		parts := b.tx.NewInsert().Model(&b.parts).Value("operation_id", "(SELECT id FROM op)").Returning("NULL")
		if err := b.tx.NewSelect().With("op", opInsert).With("parts", parts).TableExpr("op").
			Column("id", "created_at").Scan(ctx, &op.ID, &op.CreatedAt); err != nil {
			return "", fmt.Errorf("record operation and parts: %w", err)
		}
		for i := range b.parts {
			b.parts[i].OperationID = &op.ID
		}
	}
	if err := b.lockSpent(ctx, batch.ID, func(spend) int64 { return op.ID }); err != nil {
		return "", err
	}
	return batch.ID, nil
}

// writeBatch builds the batch of b's transactions, signed by the owner, and writes it to
// the outbox in b's transaction.
func (b *builder) writeBatch(ctx context.Context) (ledger.Batch, error) {
	batch, err := ledger.NewBatch(b.master, b.txs...)
	if err != nil {
		return batch, fmt.Errorf("build batch: %w", err)
	}
	if err := b.s.outbox.Write(ctx, b.tx, batch, b.owner, OperationKind); err != nil {
		return batch, err
	}
	return batch, nil
}

// lockSpent marks the consumed GGOs LOCKED for batchID, each with its next state and the
// operation opOf gives it, in one statement: each is a round trip, and each fires the
// rollup trigger.
func (b *builder) lockSpent(ctx context.Context, batchID string, opOf func(spend) int64) error {
	if len(b.spent) == 0 {
		return nil
	}
	ids, nexts, mps, ops := make([]int64, len(b.spent)), make([]string, len(b.spent)), make([]*int64, len(b.spent)), make([]int64, len(b.spent))
	for i, sp := range b.spent {
		ids[i], nexts[i], mps[i], ops[i] = sp.id, string(sp.next), sp.retireMP, opOf(sp)
	}
	res, err := b.tx.NewRaw(`UPDATE ggos g SET state = 'LOCKED', next_state = v.next, batch_id = ?, operation_id = v.op,
			retire_metering_point_id = v.mp, updated_at = now()
		FROM unnest(?::bigint[], ?::text[], ?::bigint[], ?::bigint[]) AS v(id, next, mp, op)
		WHERE g.id = v.id AND g.state = 'STORED'`,
		batchID, pgdialect.Array(ids), pgdialect.Array(nexts), pgdialect.Array(mps), pgdialect.Array(ops)).Exec(ctx)
	if err != nil {
		return fmt.Errorf("lock spent ggos: %w", err)
	}
	// The rows were locked when picked, so they must still be STORED.
	if n, _ := res.RowsAffected(); n != int64(len(b.spent)) {
		return fmt.Errorf("lock spent ggos: %d of %d: %w", n, len(b.spent), ErrConflict)
	}
	return nil
}
