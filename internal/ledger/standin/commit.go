package standin

import (
	"context"
	"crypto/sha512"
	"encoding/hex"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/originhub/originhub/internal/ledger"
)

// CommitDue applies, in submission order, every pending batch submitted at
// least CommitDelay ago (up to MaxBatchesPerRound), and returns how many
// were resolved (COMMITTED or INVALID). One round is one database
// transaction: each batch is all or nothing inside it, and if the round
// fails nothing of it is kept and the batches stay PENDING. Rounds are
// serialised across processes by an advisory lock on the schema.
func (l *Ledger) CommitDue(ctx context.Context) (int, error) {
	var resolved int
	err := l.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		n, err := l.round(ctx, tx)
		resolved = n
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("commit due batches: %w", err)
	}
	return resolved, nil
}

func (l *Ledger) round(ctx context.Context, tx bun.Tx) (int, error) {
	if _, err := tx.Tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", l.lockKey); err != nil {
		return 0, err
	}
	now := l.opts.Clock()
	rows, err := tx.Tx.QueryContext(ctx, l.sql(`SELECT id, body FROM {s}.batches
		WHERE status = 'PENDING' AND stuck_reason IS NULL AND submitted_at <= $1
		ORDER BY seq LIMIT $2`), now.Add(-l.opts.CommitDelay), l.opts.MaxBatchesPerRound)
	if err != nil {
		return 0, err
	}
	var batches []decodedBatch
	for rows.Next() {
		var id string
		var body []byte
		if err := rows.Scan(&id, &body); err != nil {
			rows.Close()
			return 0, err
		}
		b, err := decodeStoredBatch(id, body)
		if err != nil {
			rows.Close()
			return 0, err
		}
		batches = append(batches, b)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	if len(batches) == 0 {
		return 0, nil
	}

	// Load in bulk what the round will read: committed transaction ids and
	// the state at every full address the batches name.
	var txIDs, addrs []string
	for _, b := range batches {
		txIDs = append(txIDs, b.txIDs...)
		for _, h := range b.headers {
			txIDs = append(txIDs, h.Dependencies...)
			for _, a := range h.Inputs {
				if ledger.IsAddressFormat(a) {
					addrs = append(addrs, a)
				}
			}
		}
	}
	committedTx, err := l.committedTxs(ctx, tx, txIDs)
	if err != nil {
		return 0, err
	}
	st := &overlay{base: make(map[string][]byte, len(addrs)), round: map[string][]byte{}}
	st.load = func(addr string) ([]byte, error) {
		var data []byte
		err := tx.Tx.QueryRowContext(ctx, l.sql(`SELECT coalesce((SELECT data FROM {s}.state WHERE address = $1), ''::bytea)`), addr).Scan(&data)
		return data, err
	}
	if err := l.preload(ctx, tx, st, addrs); err != nil {
		return 0, err
	}

	var (
		ids, statuses, failedTx, msgs, stuck []string
		newTx, newTxBatch                    []string
		committedIDs                         []string
	)
	for _, b := range batches {
		out, err := execute(st, b, l.opts.Mode == Strict, func(id string) bool { return committedTx[id] })
		if err != nil {
			return 0, err
		}
		ids = append(ids, b.id)
		switch {
		case out.committed:
			for a, v := range st.writes {
				st.round[a] = v
			}
			for _, id := range b.txIDs {
				committedTx[id] = true
				newTx, newTxBatch = append(newTx, id), append(newTxBatch, b.id)
			}
			committedIDs = append(committedIDs, b.id)
			statuses, failedTx, msgs, stuck = append(statuses, "COMMITTED"), append(failedTx, ""), append(msgs, ""), append(stuck, "")
			l.opts.Logger.Info("ledger stand-in batch committed", "batch_id", b.id, "transactions", len(b.txIDs))
		case out.stuck != "":
			statuses, failedTx, msgs, stuck = append(statuses, "PENDING"), append(failedTx, ""), append(msgs, ""), append(stuck, out.stuck)
			l.opts.Logger.Error("ledger stand-in batch can never resolve; the real ledger would keep it PENDING forever", "batch_id", b.id, "reason", out.stuck)
		default:
			statuses, failedTx, msgs, stuck = append(statuses, "INVALID"), append(failedTx, out.txID), append(msgs, out.msg), append(stuck, "")
			l.opts.Logger.Info("ledger stand-in batch invalid", "batch_id", b.id, "transaction_id", out.txID, "message", out.msg)
		}
		st.writes = nil
	}

	if len(st.round) > 0 {
		wa := make([]string, 0, len(st.round))
		wd := make([][]byte, 0, len(st.round))
		for a, v := range st.round {
			wa, wd = append(wa, a), append(wd, v)
		}
		if _, err := tx.Tx.ExecContext(ctx, l.sql(`INSERT INTO {s}.state (address, data)
			SELECT * FROM unnest($1::text[], $2::bytea[]) ON CONFLICT (address) DO UPDATE SET data = EXCLUDED.data`), wa, wd); err != nil {
			return 0, err
		}
	}
	if len(newTx) > 0 {
		if _, err := tx.Tx.ExecContext(ctx, l.sql(`INSERT INTO {s}.transactions (id, batch_id)
			SELECT * FROM unnest($1::text[], $2::text[])`), newTx, newTxBatch); err != nil {
			return 0, err
		}
	}
	if _, err := tx.Tx.ExecContext(ctx, l.sql(`UPDATE {s}.batches b SET status = u.status,
			invalid_transaction_id = nullif(u.txid, ''), message = nullif(u.msg, ''), stuck_reason = nullif(u.stuck, ''),
			resolved_at = CASE WHEN u.status = 'PENDING' THEN NULL ELSE $6::timestamptz END
		FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) AS u(id, status, txid, msg, stuck)
		WHERE b.id = u.id`), ids, statuses, failedTx, msgs, stuck, now); err != nil {
		return 0, err
	}
	if len(committedIDs) > 0 {
		if err := l.appendBlock(ctx, tx, committedIDs); err != nil {
			return 0, err
		}
	}
	resolved := 0
	for _, s := range statuses {
		if s != "PENDING" {
			resolved++
		}
	}
	return resolved, nil
}

func (l *Ledger) committedTxs(ctx context.Context, tx bun.Tx, ids []string) (map[string]bool, error) {
	rows, err := tx.Tx.QueryContext(ctx, l.sql(`SELECT t.id FROM unnest($1::text[]) AS k(id) JOIN {s}.transactions t ON t.id = k.id`), ids)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out[id] = true
	}
	return out, rows.Err()
}

func (l *Ledger) preload(ctx context.Context, tx bun.Tx, st *overlay, addrs []string) error {
	for _, a := range addrs {
		st.base[a] = nil
	}
	rows, err := tx.Tx.QueryContext(ctx, l.sql(`SELECT s.address, s.data FROM unnest($1::text[]) AS k(address) JOIN {s}.state s ON s.address = k.address`), addrs)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var a string
		var d []byte
		if err := rows.Scan(&a, &d); err != nil {
			return err
		}
		st.base[a] = d
	}
	return rows.Err()
}

// appendBlock records a block for the batches committed in this round; its
// id chains the previous head with the batch ids, so /state can name it.
func (l *Ledger) appendBlock(ctx context.Context, tx bun.Tx, batchIDs []string) error {
	var num int64
	var prev string
	if err := tx.Tx.QueryRowContext(ctx, l.sql(`SELECT num, id FROM {s}.blocks ORDER BY num DESC LIMIT 1`)).Scan(&num, &prev); err != nil {
		return err
	}
	h := sha512.New()
	h.Write([]byte(prev))
	for _, id := range batchIDs {
		h.Write([]byte(id))
	}
	_, err := tx.Tx.ExecContext(ctx, l.sql(`INSERT INTO {s}.blocks (num, id, created_at) VALUES ($1, $2, $3)`),
		num+1, hex.EncodeToString(h.Sum(nil)), l.opts.Clock())
	return err
}
