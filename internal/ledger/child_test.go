package ledger

import (
	"crypto/sha256"
	"strconv"
	"strings"
	"testing"
)

// TestChildMatchesGoBIP32 checks the decred-based Child against go-bip32's NewChildKey
// (which DerivePath uses) on every non-hardened vector path and on many seeds and
// indices, including the measurement-hour range: same key, chain code and xprv.
func TestChildMatchesGoBIP32(t *testing.T) {
	var v struct {
		Keys []keyVector `json:"keys"`
	}
	loadVectors(t, "keys.json", &v)
	m := seedMaster(t)
	for _, kv := range v.Keys {
		if strings.ContainsAny(kv.Path, "H'") || kv.Path == "m" {
			continue
		}
		var path []uint32
		for _, p := range strings.Split(kv.Path, "/")[1:] {
			n, err := strconv.ParseUint(p, 10, 32)
			if err != nil {
				t.Fatal(err)
			}
			path = append(path, uint32(n))
		}
		k, err := m.Derive(path...)
		if err != nil {
			t.Fatal(err)
		}
		checkKey(t, k, kv)
	}
	for s := range 20 {
		seed := sha256.Sum256([]byte{byte(s)})
		parent, err := NewMasterKey(seed[:])
		if err != nil {
			t.Fatal(err)
		}
		for _, idx := range []uint32{0, 1, uint32(s) * 7919, 1577836800 + uint32(s)*3600, 1<<31 - 1} {
			got, err := parent.Child(idx)
			if err != nil {
				t.Fatal(err)
			}
			ext, err := parent.ext.NewChildKey(idx)
			if err != nil {
				t.Fatal(err)
			}
			if got.ExtendedKey() != ext.B58Serialize() {
				t.Fatalf("seed %d: Child(%d) = %s, want %s", s, idx, got.ExtendedKey(), ext.B58Serialize())
			}
			parent = got // go one level deeper each time
		}
	}
	if _, err := m.Child(1 << 31); err == nil {
		t.Fatal("Child(2^31) = nil error, want ErrHardenedIndex")
	}
}

// TestTradedBranchCached: m/0/k through the cached m/0 branch, through DerivePath and
// through two plain Child steps are one key.
func TestTradedBranchCached(t *testing.T) {
	m := seedMaster(t)
	for _, k := range []uint32{0, 1, 7919, 1<<31 - 1} {
		a, err := m.TradedGGOKey(k)
		if err != nil {
			t.Fatal(err)
		}
		b, err := m.DerivePath("m/0/" + strconv.FormatUint(uint64(k), 10))
		if err != nil {
			t.Fatal(err)
		}
		branch, err := m.Child(BranchTradedGGO)
		if err != nil {
			t.Fatal(err)
		}
		c, err := branch.Child(k)
		if err != nil {
			t.Fatal(err)
		}
		if a.ExtendedKey() != c.ExtendedKey() || b.ExtendedKey() != c.ExtendedKey() {
			t.Fatalf("m/0/%d: TradedGGOKey %s, DerivePath %s, Child.Child %s", k, a.ExtendedKey(), b.ExtendedKey(), c.ExtendedKey())
		}
	}
}
