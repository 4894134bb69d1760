package ledger

import (
	"bytes"
	"errors"
	"testing"
)

func TestSealer(t *testing.T) {
	s, err := NewSealer([]byte("dev secret"))
	if err != nil {
		t.Fatal(err)
	}
	seed, err := NewUserSeed("alice")
	if err != nil || len(seed) != 261 || !bytes.HasSuffix(seed, []byte("alice")) {
		t.Fatalf("NewUserSeed() = %d bytes, %v", len(seed), err)
	}
	m, err := NewMasterKey(seed)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := s.SealKey(m, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte(m.ExtendedKey())) {
		t.Fatal("sealed value holds the plaintext")
	}
	back, err := s.OpenKey(sealed, "alice")
	if err != nil || back.ExtendedKey() != m.ExtendedKey() {
		t.Fatalf("OpenKey() = %v", err)
	}
	other, _ := NewSealer([]byte("other secret"))
	tampered := bytes.Clone(sealed)
	tampered[len(tampered)-1] ^= 1
	tests := []struct {
		name   string
		s      *Sealer
		sealed []byte
		owner  string
	}{
		{"wrong owner", s, sealed, "bob"},
		{"wrong secret", other, sealed, "alice"},
		{"tampered", s, tampered, "alice"},
		{"truncated", s, sealed[:10], "alice"},
	}
	for _, tc := range tests {
		if _, err := tc.s.OpenKey(tc.sealed, tc.owner); !errors.Is(err, ErrSealed) {
			t.Errorf("%s: OpenKey() = %v, want ErrSealed", tc.name, err)
		}
	}
	if _, err := NewSealer(nil); err == nil {
		t.Error("NewSealer(nil) accepted")
	}
	if _, err := NewMasterKey(make([]byte, 15)); err == nil {
		t.Error("NewMasterKey(15 bytes) accepted")
	}
}
