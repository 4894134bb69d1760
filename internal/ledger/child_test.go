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
