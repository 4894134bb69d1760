package standin

import (
	"context"
	"crypto/sha512"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// The schema is the stand-in's own; the platform's migrations never touch
// it. Statuses live here too, so a restart keeps them.
const ddl = `
CREATE SCHEMA IF NOT EXISTS {s};
CREATE TABLE IF NOT EXISTS {s}.batches (
	seq bigserial PRIMARY KEY,
	id text NOT NULL UNIQUE,
	body bytea NOT NULL,
	status text NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'COMMITTED', 'INVALID')),
	invalid_transaction_id text,
	message text,
	stuck_reason text,
	submitted_at timestamptz NOT NULL,
	resolved_at timestamptz
);
CREATE INDEX IF NOT EXISTS batches_pending_idx ON {s}.batches (seq) WHERE status = 'PENDING' AND stuck_reason IS NULL;
CREATE TABLE IF NOT EXISTS {s}.state (
	address text PRIMARY KEY,
	data bytea NOT NULL
);
CREATE TABLE IF NOT EXISTS {s}.transactions (
	id text PRIMARY KEY,
	batch_id text NOT NULL
);
CREATE TABLE IF NOT EXISTS {s}.blocks (
	num bigint PRIMARY KEY,
	id text NOT NULL UNIQUE,
	created_at timestamptz NOT NULL
);
`

// Queries go through the database/sql handles under bun (l.db.DB, tx.Tx)
// rather than bun's own formatting: pgx then sends $n parameters natively,
// including the text[] and bytea[] arrays the bulk statements unnest.

func (l *Ledger) sql(q string) string { return strings.ReplaceAll(q, "{s}", l.schema) }

// Migrate creates the stand-in's schema and tables if they do not exist,
// and its genesis block. It is idempotent and safe to run concurrently.
func (l *Ledger) Migrate(ctx context.Context) error {
	err := l.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.Tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", l.lockKey); err != nil {
			return err
		}
		if _, err := tx.Tx.ExecContext(ctx, l.sql(ddl)); err != nil {
			return err
		}
		genesis := sha512.Sum512([]byte("originhub ledger stand-in genesis " + l.schema))
		_, err := tx.Tx.ExecContext(ctx, l.sql(`INSERT INTO {s}.blocks (num, id, created_at) VALUES (0, $1, $2) ON CONFLICT DO NOTHING`),
			hex.EncodeToString(genesis[:]), l.opts.Clock())
		return err
	})
	if err != nil {
		return fmt.Errorf("migrate ledger stand-in schema %s: %w", l.schema, err)
	}
	return nil
}

// batchStatus is one row of /batch_statuses.
type batchStatus struct {
	status, txID, message string
}

func (l *Ledger) statuses(ctx context.Context, ids []string) (map[string]batchStatus, error) {
	rows, err := l.db.DB.QueryContext(ctx, l.sql(`SELECT b.id, b.status, coalesce(b.invalid_transaction_id, ''), coalesce(b.message, '')
		FROM unnest($1::text[]) AS k(id) JOIN {s}.batches b ON b.id = k.id`), ids)
	if err != nil {
		return nil, fmt.Errorf("read batch statuses: %w", err)
	}
	defer rows.Close()
	out := make(map[string]batchStatus, len(ids))
	for rows.Next() {
		var id string
		var s batchStatus
		if err := rows.Scan(&id, &s.status, &s.txID, &s.message); err != nil {
			return nil, fmt.Errorf("read batch statuses: %w", err)
		}
		out[id] = s
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read batch statuses: %w", err)
	}
	return out, nil
}

// insertBatches queues accepted batches; a batch id seen before is ignored
// (spec 9.4: never executed twice).
func (l *Ledger) insertBatches(ctx context.Context, ids []string, bodies [][]byte) error {
	_, err := l.db.DB.ExecContext(ctx, l.sql(`INSERT INTO {s}.batches (id, body, submitted_at)
		SELECT id, body, $3 FROM unnest($1::text[], $2::bytea[]) WITH ORDINALITY AS u(id, body, n) ORDER BY n
		ON CONFLICT (id) DO NOTHING`), ids, bodies, l.opts.Clock())
	if err != nil {
		return fmt.Errorf("queue batches: %w", err)
	}
	return nil
}

// head returns the id of the newest block.
func (l *Ledger) head(ctx context.Context) (string, error) {
	var id string
	err := l.db.DB.QueryRowContext(ctx, l.sql(`SELECT id FROM {s}.blocks ORDER BY num DESC LIMIT 1`)).Scan(&id)
	if err != nil {
		return "", fmt.Errorf("read chain head: %w", err)
	}
	return id, nil
}

func (l *Ledger) blockExists(ctx context.Context, id string) (bool, error) {
	var ok bool
	err := l.db.DB.QueryRowContext(ctx, l.sql(`SELECT EXISTS (SELECT 1 FROM {s}.blocks WHERE id = $1)`), id).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("look up block: %w", err)
	}
	return ok, nil
}

// readState returns the committed bytes at addr, nil when empty.
func (l *Ledger) readState(ctx context.Context, addr string) ([]byte, error) {
	var data []byte
	err := l.db.DB.QueryRowContext(ctx, l.sql(`SELECT data FROM {s}.state WHERE address = $1`), addr).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read state %s: %w", addr, err)
	}
	return data, nil
}

// nextDue returns when the oldest pending batch falls due.
func (l *Ledger) nextDue(ctx context.Context) (time.Time, bool, error) {
	var t sql.NullTime
	err := l.db.DB.QueryRowContext(ctx, l.sql(`SELECT min(submitted_at) FROM {s}.batches WHERE status = 'PENDING' AND stuck_reason IS NULL`)).Scan(&t)
	if err != nil || !t.Valid {
		return time.Time{}, false, err
	}
	return t.Time.Add(l.opts.CommitDelay), true, nil
}

func (l *Ledger) pendingCount(ctx context.Context) (int, error) {
	var n int
	err := l.db.DB.QueryRowContext(ctx, l.sql(`SELECT count(*) FROM {s}.batches WHERE status = 'PENDING' AND stuck_reason IS NULL`)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count pending batches: %w", err)
	}
	return n, nil
}
