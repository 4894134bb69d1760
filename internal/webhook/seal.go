package webhook

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"strconv"
)

// sealer keeps subscription secrets encrypted at rest with AES-256-GCM under a key derived
// from SECRET, bound to the owner, so a database dump alone does not let anyone forge
// deliveries.
type sealer struct{ aead cipher.AEAD }

func newSealer(secret string) (*sealer, error) {
	if secret == "" {
		return nil, errors.New("webhook: sealing secret is empty")
	}
	key, err := hkdf.Key(sha256.New, []byte(secret), nil, "originhub webhook secret seal v1", 32)
	if err != nil {
		return nil, fmt.Errorf("derive seal key: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("seal cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("seal cipher: %w", err)
	}
	return &sealer{aead: aead}, nil
}

func ownerAD(userID int64) []byte {
	return []byte("webhook-subscription-owner:" + strconv.FormatInt(userID, 10))
}

func (s *sealer) seal(plain string, userID int64) []byte {
	nonce := make([]byte, s.aead.NonceSize())
	_, _ = rand.Read(nonce) // crypto/rand.Read never fails (Go 1.24+)
	return s.aead.Seal(nonce, nonce, []byte(plain), ownerAD(userID))
}

func (s *sealer) open(sealed []byte, userID int64) (string, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n {
		return "", errors.New("open webhook secret: too short")
	}
	plain, err := s.aead.Open(nil, sealed[:n], sealed[n:], ownerAD(userID))
	if err != nil {
		return "", fmt.Errorf("open webhook secret: %w", err)
	}
	return string(plain), nil
}
