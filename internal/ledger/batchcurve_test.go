package ledger

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math/rand/v2"
	"testing"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/decred/dcrd/dcrec/secp256k1/v4/ecdsa"
)

// TestChildrenMatchOneAtATime derives batches of children and checks each against go-bip32's
// NewChildKey and the decred library's own public key: same extended key, public key and
// addresses, whatever the batch size.
func TestChildrenMatchOneAtATime(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for s, n := range []int{1, 2, 3, 17, 64} {
		seed := sha256.Sum256([]byte{byte(s), 'c'})
		parent, err := NewMasterKey(seed[:])
		if err != nil {
			t.Fatal(err)
		}
		idx := make([]uint32, n)
		for i := range idx {
			idx[i] = rng.Uint32N(1 << 31)
		}
		if n > 2 {
			idx[1] = idx[0] // the same child twice in one batch
		}
		got, err := parent.Children(idx)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != n {
			t.Fatalf("Children(%d indexes) gave %d keys", n, len(got))
		}
		for i, k := range got {
			ext, err := parent.ext.NewChildKey(idx[i])
			if err != nil {
				t.Fatal(err)
			}
			if k.ExtendedKey() != ext.B58Serialize() {
				t.Fatalf("batch of %d, child %d (%d): key %s, want %s", n, i, idx[i], k.ExtendedKey(), ext.B58Serialize())
			}
			pub := secp256k1.PrivKeyFromBytes(ext.Key).PubKey().SerializeCompressed()
			if k.PublicKeyHex() != hex.EncodeToString(pub) {
				t.Fatalf("batch of %d, child %d: public key %s, want %x", n, i, k.PublicKeyHex(), pub)
			}
			for _, p := range []Prefix{PrefixGGO, PrefixMeasurement, PrefixSettlement} {
				if k.Address(p) != AddressOf(p, pub) {
					t.Fatalf("batch of %d, child %d: %s address %s, want %s", n, i, p, k.Address(p), AddressOf(p, pub))
				}
			}
		}
	}
	seed := sha256.Sum256([]byte("hardened"))
	m, err := NewMasterKey(seed[:])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Children([]uint32{1, 1 << 31}); err == nil {
		t.Fatal("Children with a hardened index: nil error")
	}
	if ks, err := m.Children(nil); err != nil || len(ks) != 0 {
		t.Fatalf("Children(nil) = %d keys, %v", len(ks), err)
	}
}

// TestSignDigestsMatchesECDSA signs batches of digests with random keys (some repeated) and
// checks every signature against ecdsa.Sign's, byte for byte.
func TestSignDigestsMatchesECDSA(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{1, 2, 5, 64, 301} {
		privs := make([]*secp256k1.PrivateKey, n)
		digests := make([][32]byte, n)
		for i := range privs {
			var kb [32]byte
			for j := 0; j < 32; j += 8 {
				binary.LittleEndian.PutUint64(kb[j:], rng.Uint64())
			}
			privs[i] = secp256k1.PrivKeyFromBytes(kb[:])
			if i%3 == 2 {
				privs[i] = privs[i-1] // one key signing several transactions
			}
			digests[i] = sha256.Sum256(kb[:8])
		}
		got := signDigests(privs, digests)
		for i := range privs {
			sig := ecdsa.Sign(privs[i], digests[i][:])
			r, s := sig.R(), sig.S()
			var want [64]byte
			r.PutBytesUnchecked(want[:32])
			s.PutBytesUnchecked(want[32:])
			if got[i] != want {
				t.Fatalf("batch of %d, signature %d = %x, want %x", n, i, got[i], want)
			}
		}
	}
	if got := signDigests(nil, nil); len(got) != 0 {
		t.Fatalf("signDigests(nil) = %d signatures", len(got))
	}
}

// TestInvertFields checks each inverse of a batch against the library's single inversion.
func TestInvertFields(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	zs := make([]secp256k1.FieldVal, 50)
	want := make([]secp256k1.FieldVal, len(zs))
	for i := range zs {
		zs[i].SetInt(uint16(1 + rng.UintN(65535)))
		if i%2 == 0 {
			zs[i].Mul(&zs[max(i-1, 0)]).Mul(&zs[i]) // large values too
		}
		want[i].Set(&zs[i]).Inverse().Normalize()
	}
	invertFields(zs)
	for i := range zs {
		if !zs[i].Normalize().Equals(&want[i]) {
			t.Fatalf("inverse %d wrong", i)
		}
	}
}
