package app

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/uptrace/bun"
)

// dbKeyStore keeps the dev issuer's key in Postgres, so `serve`, its replicas and the
// `token` command share one key.
type dbKeyStore struct{ db *bun.DB }

const devKeyName = "dev-issuer"

// LoadOrCreate inserts a new key unless one exists, then reads the one that won: two
// processes racing at first start agree on it.
func (s dbKeyStore) LoadOrCreate(ctx context.Context, create func() ([]byte, error)) ([]byte, error) {
	var key []byte
	err := s.db.NewRaw("SELECT key FROM dev_signing_keys WHERE name = ?", devKeyName).Scan(ctx, &key)
	if err == nil {
		return key, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("load dev key: %w", err)
	}
	fresh, err := create()
	if err != nil {
		return nil, fmt.Errorf("create dev key: %w", err)
	}
	if _, err := s.db.ExecContext(ctx, "INSERT INTO dev_signing_keys (name, key) VALUES (?, ?) ON CONFLICT (name) DO NOTHING", devKeyName, fresh); err != nil {
		return nil, fmt.Errorf("store dev key: %w", err)
	}
	if err := s.db.NewRaw("SELECT key FROM dev_signing_keys WHERE name = ?", devKeyName).Scan(ctx, &key); err != nil {
		return nil, fmt.Errorf("load dev key: %w", err)
	}
	return key, nil
}
