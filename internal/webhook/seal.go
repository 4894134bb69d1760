package webhook

import (
	"fmt"
	"strconv"

	"github.com/originhub/originhub/internal/seal"
)

// sealer keeps subscription secrets encrypted at rest (internal/seal), bound to the owner,
// so a database dump alone does not let anyone forge deliveries.
type sealer struct{ s *seal.Sealer }

func newSealer(secret string) (*sealer, error) {
	s, err := seal.New([]byte(secret), "originhub webhook secret seal v1")
	if err != nil {
		return nil, fmt.Errorf("webhook secrets: %w", err)
	}
	return &sealer{s}, nil
}

func ownerAD(userID int64) []byte {
	return []byte("webhook-subscription-owner:" + strconv.FormatInt(userID, 10))
}

func (s *sealer) seal(plain string, userID int64) ([]byte, error) {
	out, err := s.s.Seal([]byte(plain), ownerAD(userID))
	if err != nil {
		return nil, fmt.Errorf("seal webhook secret: %w", err)
	}
	return out, nil
}

func (s *sealer) open(sealed []byte, userID int64) (string, error) {
	plain, err := s.s.Open(sealed, ownerAD(userID))
	if err != nil {
		return "", fmt.Errorf("open webhook secret: %w", err)
	}
	return string(plain), nil
}
