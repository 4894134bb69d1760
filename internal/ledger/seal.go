package ledger

import (
	"crypto/rand"
	"fmt"

	"github.com/originhub/originhub/internal/seal"
)

// sealPurpose labels the derived key, so the same SECRET can feed other sealers without
// their keys ever coinciding.
const sealPurpose = "originhub ledger key seal v1"

// ErrSealed is returned when a sealed key cannot be opened: wrong secret, wrong owner, or
// tampered bytes.
var ErrSealed = seal.ErrSealed

// Sealer encrypts wallet keys at rest (internal/seal with the ledger's purpose).
type Sealer struct{ *seal.Sealer }

// NewSealer derives the sealing key from secret (the SECRET setting).
func NewSealer(secret []byte) (*Sealer, error) {
	s, err := seal.New(secret, sealPurpose)
	if err != nil {
		return nil, err
	}
	return &Sealer{s}, nil
}

// SealKey seals k's extended private key for owner.
func (s *Sealer) SealKey(k *Key, owner string) ([]byte, error) {
	return s.Seal([]byte(k.ExtendedKey()), []byte(owner))
}

// OpenKey opens a key sealed by SealKey for owner.
func (s *Sealer) OpenKey(sealed []byte, owner string) (*Key, error) {
	pt, err := s.Open(sealed, []byte(owner))
	if err != nil {
		return nil, fmt.Errorf("open key: %w", err)
	}
	return ParseExtendedKey(string(pt))
}

// NewUserSeed returns a fresh seed as the account service made them: 256
// random bytes followed by the UTF-8 subject id.
func NewUserSeed(subject string) ([]byte, error) {
	seed := make([]byte, 256, 256+len(subject))
	if _, err := rand.Read(seed); err != nil {
		return nil, fmt.Errorf("new user seed: %w", err)
	}
	return append(seed, subject...), nil
}
