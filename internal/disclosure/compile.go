package disclosure

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/originhub/originhub/models"
)

// CompileStats counts what a compilation changed.
type CompileStats struct {
	Version                        int
	HoursWritten, HoursDeleted     int64
	RetiredWritten, RetiredDeleted int64
}

// failureReason is what the owner reads about a failed compilation: the step that failed,
// never the database's own message (that goes to the logs with the returned error).
func failureReason(err error) string {
	step, _, _ := strings.Cut(err.Error(), ":")
	return "compilation failed at " + step + "; it is retried automatically"
}

// Compile brings the stored data of disclosure id up to date with its definition, the
// measurements of its points and the GGOs retired to them (state RETIRED; the amounts of
// the retired parts). It is incremental and idempotent: rows whose values did not change
// are not rewritten, and rows that no longer have a source are deleted.
//
// The state goes to PROCESSING first (its own statement, so the owner sees it), the data
// and the final AVAILABLE are one transaction that holds the disclosure's row lock (an
// edit waits for it, and a compilation always matches one version). On failure the state
// is FAILED with the reason, never left in PROCESSING by an error; a worker that dies
// mid-way leaves PROCESSING, which the sweep re-queues.
//
// Errors: ErrNotFound when the disclosure was deleted (nothing to do); the compile error
// otherwise, after recording it.
func (s *Service) Compile(ctx context.Context, id int64) (CompileStats, error) {
	res, err := s.db.NewRaw("UPDATE disclosures SET state = 'PROCESSING', error = NULL, updated_at = ? WHERE id = ?", s.clock(), id).Exec(ctx)
	if err != nil {
		return CompileStats{}, fmt.Errorf("mark disclosure %d processing: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return CompileStats{}, ErrNotFound
	}
	var st CompileStats
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var err error
		st, err = s.compileTx(ctx, tx, id)
		return err
	})
	if errors.Is(err, ErrNotFound) {
		return st, err
	}
	if err != nil {
		reason := failureReason(err)
		// A fresh context: the failure must be recorded even when ctx was cancelled.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if _, ferr := s.db.NewRaw("UPDATE disclosures SET state = 'FAILED', error = ?, updated_at = ? WHERE id = ?", reason, s.clock(), id).Exec(fctx); ferr != nil {
			return st, errors.Join(err, fmt.Errorf("record disclosure %d failure: %w", id, ferr))
		}
		return st, fmt.Errorf("compile disclosure %d: %w", id, err)
	}
	return st, nil
}

func (s *Service) compileTx(ctx context.Context, tx bun.Tx, id int64) (CompileStats, error) {
	var st CompileStats
	var d models.Disclosure
	err := tx.NewSelect().Model(&d).Where("d.id = ?", id).For("UPDATE").Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return st, ErrNotFound
	}
	if err != nil {
		return st, fmt.Errorf("lock disclosure: %w", err)
	}
	st.Version = d.Version
	// The sources, computed once into temporary tables that vanish at commit.
	if _, err := tx.NewRaw(`CREATE TEMP TABLE disclosure_src_hours ON COMMIT DROP AS
		SELECT mp AS metering_point_id, begin_at, coalesce(c.consumed, 0)::bigint AS consumed_wh, coalesce(r.retired, 0)::bigint AS retired_wh
		FROM (SELECT m.metering_point_id AS mp, m.begin_at, m.amount_wh AS consumed
		      FROM measurements m JOIN disclosure_metering_points dm ON dm.metering_point_id = m.metering_point_id AND dm.disclosure_id = ?0
		      WHERE m.begin_at >= ?1 AND m.begin_at < ?2) c
		FULL JOIN (SELECT g.retire_metering_point_id AS mp, g.begin_at, sum(g.amount_wh)::bigint AS retired
		      FROM ggos g JOIN disclosure_metering_points dm ON dm.metering_point_id = g.retire_metering_point_id AND dm.disclosure_id = ?0
		      WHERE g.state = 'RETIRED' AND g.begin_at >= ?1 AND g.begin_at < ?2
		      GROUP BY g.retire_metering_point_id, g.begin_at) r USING (mp, begin_at)`, id, d.Begin, d.End).Exec(ctx); err != nil {
		return st, fmt.Errorf("collect hours: %w", err)
	}
	if _, err := tx.NewRaw(`CREATE TEMP TABLE disclosure_src_retired ON COMMIT DROP AS
		SELECT g.retire_metering_point_id AS metering_point_id, g.begin_at, coalesce(t.label, 'Unknown') AS technology, sum(g.amount_wh)::bigint AS amount_wh
		FROM ggos g
		JOIN disclosure_metering_points dm ON dm.metering_point_id = g.retire_metering_point_id AND dm.disclosure_id = ?
		LEFT JOIN technologies t ON t.technology_code = g.technology_code AND t.fuel_code = g.fuel_code
		WHERE g.state = 'RETIRED' AND g.begin_at >= ? AND g.begin_at < ?
		GROUP BY 1, 2, 3`, id, d.Begin, d.End).Exec(ctx); err != nil {
		return st, fmt.Errorf("collect retired ggos: %w", err)
	}
	// Temporary tables have no statistics until analysed; without them the planner guesses
	// a few rows and picks nested loops for the anti-joins below.
	if _, err := tx.ExecContext(ctx, "ANALYZE disclosure_src_hours, disclosure_src_retired"); err != nil {
		return st, fmt.Errorf("analyze sources: %w", err)
	}
	steps := []struct {
		dst   *int64
		what  string
		query string
	}{
		{&st.HoursWritten, "write hours", `INSERT INTO disclosure_hours (disclosure_id, metering_point_id, begin_at, consumed_wh, retired_wh, matched_wh)
			SELECT ?, metering_point_id, begin_at, consumed_wh, retired_wh, least(consumed_wh, retired_wh) FROM disclosure_src_hours
			ON CONFLICT (disclosure_id, metering_point_id, begin_at) DO UPDATE
			SET consumed_wh = EXCLUDED.consumed_wh, retired_wh = EXCLUDED.retired_wh, matched_wh = EXCLUDED.matched_wh
			WHERE (disclosure_hours.consumed_wh, disclosure_hours.retired_wh) IS DISTINCT FROM (EXCLUDED.consumed_wh, EXCLUDED.retired_wh)`},
		{&st.HoursDeleted, "delete hours", `DELETE FROM disclosure_hours h WHERE h.disclosure_id = ? AND NOT EXISTS (
			SELECT 1 FROM disclosure_src_hours s WHERE s.metering_point_id = h.metering_point_id AND s.begin_at = h.begin_at)`},
		{&st.RetiredWritten, "write retired", `INSERT INTO disclosure_retired (disclosure_id, metering_point_id, begin_at, technology, amount_wh)
			SELECT ?, metering_point_id, begin_at, technology, amount_wh FROM disclosure_src_retired
			ON CONFLICT (disclosure_id, metering_point_id, begin_at, technology) DO UPDATE SET amount_wh = EXCLUDED.amount_wh
			WHERE disclosure_retired.amount_wh <> EXCLUDED.amount_wh`},
		{&st.RetiredDeleted, "delete retired", `DELETE FROM disclosure_retired r WHERE r.disclosure_id = ? AND NOT EXISTS (
			SELECT 1 FROM disclosure_src_retired s WHERE s.metering_point_id = r.metering_point_id AND s.begin_at = r.begin_at AND s.technology = r.technology)`},
	}
	for _, step := range steps {
		res, err := tx.NewRaw(step.query, id).Exec(ctx)
		if err != nil {
			return st, fmt.Errorf("%s: %w", step.what, err)
		}
		*step.dst, _ = res.RowsAffected()
	}
	if _, err := tx.NewRaw(`UPDATE disclosures SET state = 'AVAILABLE', error = NULL, compiled_version = version, compiled_at = ?, updated_at = ?
		WHERE id = ?`, s.clock(), s.clock(), id).Exec(ctx); err != nil {
		return st, fmt.Errorf("mark disclosure available: %w", err)
	}
	return st, nil
}

// Sweep queues the compilations that are due: disclosures still PENDING a minute after
// their last change (their task was lost), PROCESSING for 15 minutes (a worker died),
// FAILED for 10 minutes (retries exhausted), and AVAILABLE ones compiled more than a day
// ago (new retirements and measurement revisions reach them nightly). It returns how many
// it queued, at most limit.
func (s *Service) Sweep(ctx context.Context, limit int) (int, error) {
	now := s.clock()
	var ids []int64
	if err := s.db.NewRaw(`SELECT id FROM disclosures
		WHERE (state = 'PENDING' AND updated_at < ?)
		   OR (state = 'PROCESSING' AND updated_at < ?)
		   OR (state = 'FAILED' AND updated_at < ?)
		   OR (state = 'AVAILABLE' AND compiled_at < ?)
		ORDER BY id LIMIT ?`, now.Add(-time.Minute), now.Add(-15*time.Minute), now.Add(-10*time.Minute), now.Add(-24*time.Hour), limit).Scan(ctx, &ids); err != nil {
		return 0, fmt.Errorf("find due disclosures: %w", err)
	}
	for i, id := range ids {
		if err := s.queue.EnqueueDisclosureCompile(ctx, id); err != nil {
			return i, err
		}
	}
	return len(ids), nil
}
