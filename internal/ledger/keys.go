package ledger

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/tyler-smith/go-bip32"
	"golang.org/x/crypto/ripemd160"
)

// MinSeedLen is the shortest seed accepted for a master key; bip32utils,
// which the reference services used, refuses shorter seeds.
const MinSeedLen = 16

// ErrHardenedIndex is returned when a derivation would use a hardened index.
// Every Project Origin path is non-hardened (spec section 13); a Unix time
// index reaches the hardened range on 2038-01-19T03:14:08Z.
var ErrHardenedIndex = errors.New("hardened key index")

// Key is a BIP32 extended private key together with its secp256k1 signing
// key. A Key is immutable and safe for concurrent use.
type Key struct {
	ext  *bip32.Key
	priv *secp256k1.PrivateKey
	pub  []byte // 33-byte compressed SEC1 public key
	hex  string // lowercase hex of pub
	// Addresses of the key in the three namespaces, computed once: they
	// are needed for every transaction the key signs or owns.
	ggo, measurement, settlement string

	// traded is m/0 below this key, derived once: every traded GGO key (m/0/k) goes
	// through it, on every transfer.
	tradedOnce sync.Once
	traded     *Key
	tradedErr  error
}

// tradedBranch returns the child m/0, derived on first use.
func (k *Key) tradedBranch() (*Key, error) {
	k.tradedOnce.Do(func() { k.traded, k.tradedErr = k.Child(BranchTradedGGO) })
	return k.traded, k.tradedErr
}

func newKey(ext *bip32.Key) (*Key, error) {
	if !ext.IsPrivate || len(ext.Key) != 32 {
		return nil, errors.New("not an extended private key")
	}
	priv := secp256k1.PrivKeyFromBytes(ext.Key)
	return assembleKey(ext, priv, priv.PubKey().SerializeCompressed()), nil
}

// assembleKey makes the Key of ext, whose private key is priv and compressed public key pub.
func assembleKey(ext *bip32.Key, priv *secp256k1.PrivateKey, pub []byte) *Key {
	ggo, measurement, settlement := addressesOf(pub)
	return &Key{ext: ext, priv: priv, pub: pub, hex: hex.EncodeToString(pub), ggo: ggo, measurement: measurement, settlement: settlement}
}

// NewMasterKey derives the BIP32 master key of seed (HMAC-SHA512 keyed with
// "Bitcoin seed"). Seeds shorter than MinSeedLen bytes are refused.
func NewMasterKey(seed []byte) (*Key, error) {
	if len(seed) < MinSeedLen {
		return nil, fmt.Errorf("master key: seed of %d bytes is shorter than %d", len(seed), MinSeedLen)
	}
	ext, err := bip32.NewMasterKey(seed)
	if err != nil {
		return nil, fmt.Errorf("master key: %w", err)
	}
	return newKey(ext)
}

// ParseExtendedKey parses a Base58Check extended private key ("xprv…").
func ParseExtendedKey(xprv string) (*Key, error) {
	ext, err := bip32.B58Deserialize(xprv)
	if err != nil {
		return nil, fmt.Errorf("parse extended key: %w", err)
	}
	k, err := newKey(ext)
	if err != nil {
		return nil, fmt.Errorf("parse extended key: %w", err)
	}
	return k, nil
}

// ExtendedKey returns the Base58Check extended private key ("xprv…", 111
// characters). It is a secret: store it sealed (see Sealer).
func (k *Key) ExtendedKey() string { return k.ext.B58Serialize() }

// ExtendedPublicKey returns the Base58Check extended public key ("xpub…").
func (k *Key) ExtendedPublicKey() string { return k.ext.PublicKey().B58Serialize() }

// Child derives the non-hardened child key at index i (CKDpriv).
//
// It computes what bip32.Key.NewChildKey computes, with the decred curve and the parent's
// cached public key: go-bip32's own curve arithmetic takes ~2.5 ms per child, which made
// every measurement hour cost that much. As in go-bip32 (and bip32utils), IL is added
// modulo n without the IL >= n check; only a zero child key is refused.
func (k *Key) Child(i uint32) (*Key, error) { return one(k.Children([]uint32{i})) }

// one is the single key of a batch derivation of one.
func one(ks []*Key, err error) (*Key, error) {
	if err != nil {
		return nil, err
	}
	return ks[0], nil
}

// Children derives the non-hardened children at indexes idx, as Child does each, sharing
// the work of bringing their public keys to affine coordinates (see batchcurve.go): an
// operation that makes hundreds of keys derives them at once.
func (k *Key) Children(idx []uint32) ([]*Key, error) {
	h := ripemd160.New()
	sha := sha256.Sum256(k.pub)
	h.Write(sha[:])
	fp := h.Sum(nil)[:4]
	var parent secp256k1.ModNScalar
	parent.SetByteSlice(k.ext.Key)
	scalars := make([]secp256k1.ModNScalar, len(idx))
	exts := make([]*bip32.Key, len(idx))
	var data [37]byte
	copy(data[:33], k.pub)
	for n, i := range idx {
		if i >= bip32.FirstHardenedChild {
			return nil, fmt.Errorf("derive child %d: %w", i, ErrHardenedIndex)
		}
		binary.BigEndian.PutUint32(data[33:], i)
		mac := hmac.New(sha512.New, k.ext.ChainCode)
		mac.Write(data[:])
		sum := mac.Sum(nil)
		child := &scalars[n]
		child.SetByteSlice(sum[:32]) // reduced mod n, as go-bip32's big.Int addition does
		child.Add(&parent)
		if child.IsZero() {
			return nil, fmt.Errorf("derive child %d: invalid child key", i)
		}
		key := child.Bytes()
		exts[n] = &bip32.Key{
			Version:     bip32.PrivateWalletVersion,
			Depth:       k.ext.Depth + 1,
			ChildNumber: binary.BigEndian.AppendUint32(nil, i),
			FingerPrint: fp,
			ChainCode:   sum[32:],
			Key:         key[:],
			IsPrivate:   true,
		}
	}
	pubs := baseMults(scalars)
	out := make([]*Key, len(idx))
	for n := range idx {
		pub := secp256k1.NewPublicKey(&pubs[n].X, &pubs[n].Y).SerializeCompressed()
		out[n] = assembleKey(exts[n], secp256k1.NewPrivateKey(&scalars[n]), pub)
	}
	return out, nil
}

// Derive walks a path of non-hardened indices below k.
func (k *Key) Derive(path ...uint32) (*Key, error) {
	cur := k
	for _, i := range path {
		next, err := cur.Child(i)
		if err != nil {
			return nil, err
		}
		cur = next
	}
	return cur, nil
}

// DerivePath derives a textual path such as "m/1/0/1577836800" from k,
// which is taken to be the "m" of the path. Hardened steps ("0H", "0'") are
// accepted here, for cross-checking published BIP32 vectors, but no Project
// Origin path uses them.
func (k *Key) DerivePath(path string) (*Key, error) {
	parts := strings.Split(path, "/")
	if parts[0] != "m" {
		return nil, fmt.Errorf("derive %q: path must start with m", path)
	}
	cur := k
	for _, p := range parts[1:] {
		hardened := strings.HasSuffix(p, "H") || strings.HasSuffix(p, "'")
		if hardened {
			p = p[:len(p)-1]
		}
		n, err := strconv.ParseUint(p, 10, 31)
		if err != nil {
			return nil, fmt.Errorf("derive %q: bad index %q", path, p)
		}
		if !hardened {
			// The fast derivation: every Project Origin path (GGO keys are spent through
			// this on every transfer) is non-hardened, and m/0 is derived once per key.
			if cur == k && uint32(n) == BranchTradedGGO {
				if cur, err = k.tradedBranch(); err != nil {
					return nil, fmt.Errorf("derive %q: %w", path, err)
				}
				continue
			}
			if cur, err = cur.Child(uint32(n)); err != nil {
				return nil, fmt.Errorf("derive %q: %w", path, err)
			}
			continue
		}
		ext, err := cur.ext.NewChildKey(uint32(n) + bip32.FirstHardenedChild)
		if err != nil {
			return nil, fmt.Errorf("derive %q: %w", path, err)
		}
		if cur, err = newKey(ext); err != nil {
			return nil, fmt.Errorf("derive %q: %w", path, err)
		}
	}
	return cur, nil
}

// Path indices used by Project Origin below a user's master key m.
const (
	// BranchTradedGGO is m/0: keys of GGOs received by transfer or split.
	BranchTradedGGO uint32 = 0
	// BranchMeteringPoint is m/1: one key per metering point.
	BranchMeteringPoint uint32 = 1
)

// TradedGGOKey derives m/0/n, the key of the user's n-th traded GGO.
func (k *Key) TradedGGOKey(n uint32) (*Key, error) { return one(k.TradedGGOKeys([]uint32{n})) }

// TradedGGOKeys derives m/0/n for each of ns at once (see Children).
func (k *Key) TradedGGOKeys(ns []uint32) ([]*Key, error) {
	b, err := k.tradedBranch()
	if err != nil {
		return nil, err
	}
	return b.Children(ns)
}

// MeteringPointKey derives m/1/i, the key of the user's i-th metering point.
// Its extended key is what the DataHub side signs publish/issue batches with.
func (k *Key) MeteringPointKey(i uint32) (*Key, error) {
	return k.Derive(BranchMeteringPoint, i)
}

// MeasurementIndex is the derivation index of the hour starting at begin:
// its Unix time in seconds, truncated to the minute. It fails from
// 2038-01-19T03:14:08Z on, where the index would be hardened.
func MeasurementIndex(begin time.Time) (uint32, error) {
	t := begin.Unix()
	t -= t % 60
	if t < 0 || t >= int64(bip32.FirstHardenedChild) {
		return 0, fmt.Errorf("measurement index of %s: %w", begin.UTC().Format(time.RFC3339), ErrHardenedIndex)
	}
	return uint32(t), nil
}

// MeasurementKey derives, from a metering point key m/1/i, the key m/1/i/t of
// the hour starting at begin. That one key owns the hour's MEASUREMENT
// address, its issued GGO's address and its SETTLEMENT address.
func (k *Key) MeasurementKey(begin time.Time) (*Key, error) {
	return one(k.MeasurementKeys([]time.Time{begin}))
}

// MeasurementKeys derives MeasurementKey for each of begins at once (see Children).
func (k *Key) MeasurementKeys(begins []time.Time) ([]*Key, error) {
	idx := make([]uint32, len(begins))
	for i, b := range begins {
		t, err := MeasurementIndex(b)
		if err != nil {
			return nil, err
		}
		idx[i] = t
	}
	return k.Children(idx)
}

// PublicKey returns the 33-byte compressed public key.
func (k *Key) PublicKey() []byte { return append([]byte(nil), k.pub...) }

// PublicKeyHex returns the compressed public key as 66 lowercase hex chars,
// the form used on the wire.
func (k *Key) PublicKeyHex() string { return k.hex }

// PrivateKey returns a copy of the 32-byte private key.
func (k *Key) PrivateKey() []byte { return append([]byte(nil), k.ext.Key...) }

// ChainCode returns a copy of the 32-byte chain code.
func (k *Key) ChainCode() []byte { return append([]byte(nil), k.ext.ChainCode...) }

// Address returns the address of this key in the namespace of prefix.
func (k *Key) Address(prefix Prefix) string {
	switch prefix {
	case PrefixGGO:
		return k.ggo
	case PrefixMeasurement:
		return k.measurement
	case PrefixSettlement:
		return k.settlement
	}
	return addressOf(prefix, k.pub)
}

// Sign signs msg as the Sawtooth signer does: ECDSA over SHA-256(msg) with
// an RFC 6979 nonce, low-S, encoded as 64 bytes r||s.
func (k *Key) Sign(msg []byte) []byte {
	sig := signDigests([]*secp256k1.PrivateKey{k.priv}, [][32]byte{sha256.Sum256(msg)})
	return sig[0][:]
}

// SignHex is Sign with the signature as 128 lowercase hex characters.
func (k *Key) SignHex(msg []byte) string { return hex.EncodeToString(k.Sign(msg)) }
