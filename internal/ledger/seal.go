package ledger

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
)

// sealInfo labels the purpose of the derived key, so the same SECRET can
// feed other derivations without their keys ever coinciding.
const sealInfo = "originhub ledger key seal v1"

// sealVersion is the first byte of every sealed value.
const sealVersion = 1

// ErrSealed is returned when a sealed value cannot be opened: wrong secret,
// wrong associated data, or tampered bytes.
var ErrSealed = errors.New("sealed key does not open")

// Sealer encrypts key material at rest with AES-256-GCM. The AES key is
// HKDF-SHA256(secret, no salt, info "originhub ledger key seal v1").
type Sealer struct {
	aead cipher.AEAD
}

// NewSealer derives the sealing key from secret (the SECRET setting).
func NewSealer(secret []byte) (*Sealer, error) {
	if len(secret) == 0 {
		return nil, errors.New("new sealer: empty secret")
	}
	key, err := hkdf.Key(sha256.New, secret, nil, sealInfo, 32)
	if err != nil {
		return nil, fmt.Errorf("new sealer: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("new sealer: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("new sealer: %w", err)
	}
	return &Sealer{aead: aead}, nil
}

// Seal encrypts plaintext bound to ad (e.g. the owner's subject, so a
// sealed key cannot be moved to another user's row). Output: version byte,
// 12-byte random nonce, ciphertext with tag.
func (s *Sealer) Seal(plaintext, ad []byte) ([]byte, error) {
	out := make([]byte, 1+s.aead.NonceSize(), 1+s.aead.NonceSize()+len(plaintext)+s.aead.Overhead())
	out[0] = sealVersion
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	return s.aead.Seal(out, out[1:], plaintext, ad), nil
}

// Open decrypts what Seal produced with the same ad. Errors: ErrSealed.
func (s *Sealer) Open(sealed, ad []byte) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(sealed) < 1+n+s.aead.Overhead() || sealed[0] != sealVersion {
		return nil, ErrSealed
	}
	pt, err := s.aead.Open(nil, sealed[1:1+n], sealed[1+n:], ad)
	if err != nil {
		return nil, ErrSealed
	}
	return pt, nil
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
