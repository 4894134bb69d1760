// Package seal encrypts secrets at rest (wallet keys, webhook secrets) with AES-256-GCM
// under a key derived from the SECRET setting, one derived key per purpose.
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
)

// version is the first byte of every sealed value, so the format can change later.
const version = 1

// ErrSealed is returned when a sealed value cannot be opened: wrong secret, wrong
// associated data, or tampered bytes.
var ErrSealed = errors.New("sealed value does not open")

// Sealer seals and opens values for one purpose.
type Sealer struct {
	aead cipher.AEAD
}

// New derives the sealing key HKDF-SHA256(secret, no salt, info = purpose). Different
// purposes get unrelated keys from the same secret.
func New(secret []byte, purpose string) (*Sealer, error) {
	if len(secret) == 0 {
		return nil, errors.New("new sealer: empty secret")
	}
	key, err := hkdf.Key(sha256.New, secret, nil, purpose, 32)
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

// Seal encrypts plaintext bound to ad (e.g. the owner, so a sealed value cannot be moved to
// another user's row). Output: version byte, 12-byte random nonce, ciphertext with tag.
func (s *Sealer) Seal(plaintext, ad []byte) ([]byte, error) {
	out := make([]byte, 1+s.aead.NonceSize(), 1+s.aead.NonceSize()+len(plaintext)+s.aead.Overhead())
	out[0] = version
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	return s.aead.Seal(out, out[1:], plaintext, ad), nil
}

// Open decrypts what Seal produced with the same ad. Errors: ErrSealed.
func (s *Sealer) Open(sealed, ad []byte) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(sealed) < 1+n+s.aead.Overhead() || sealed[0] != version {
		return nil, ErrSealed
	}
	pt, err := s.aead.Open(nil, sealed[1:1+n], sealed[1+n:], ad)
	if err != nil {
		return nil, ErrSealed
	}
	return pt, nil
}
