package residualmix

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/uptrace/bun"

	"github.com/originhub/originhub/internal/db"
)

// SumTolerancePPM is how far the shares of one sector-hour may sum from one whole: 0.1 %,
// room for published shares rounded to a few decimals. Declarations split amounts in
// proportion to the shares, so a sum slightly off one never loses or adds energy.
const SumTolerancePPM = 1_000

// Store reads and writes the energy mix tables.
type Store struct{ db *bun.DB }

// NewStore returns a Store on db.
func NewStore(db *bun.DB) *Store { return &Store{db: db} }

// ImportOptions configure Import.
type ImportOptions struct {
	Kind   Kind   // which mix the file holds
	Source string // recorded on every row, e.g. the dataset name; required
	// ReplaceRange also deletes the stored hours of the file's kind and sectors between the
	// file's first and last hour that the file does not contain. Without it, only the hours
	// in the file are replaced.
	ReplaceRange bool
}

// ImportResult counts what an import did.
type ImportResult struct {
	Kind      Kind
	Rows      int64     // rows in the file
	Hours     int64     // distinct sector-hours in the file
	Sectors   []string  // sectors in the file, sorted
	From, To  time.Time // the file's hours span [From, To)
	Inserted  int64
	Updated   int64
	Unchanged int64
	Deleted   int64 // stored rows removed: technologies absent from a replaced hour, or hours absent from a replaced range
}

// String is the one-line summary the CLI prints.
func (r ImportResult) String() string {
	return fmt.Sprintf("imported %s mix: %d rows, %d sector-hours (%s) %s..%s: %d inserted, %d updated, %d unchanged, %d deleted",
		r.Kind, r.Rows, r.Hours, strings.Join(r.Sectors, ","), r.From.Format(time.RFC3339), r.To.Format(time.RFC3339),
		r.Inserted, r.Updated, r.Unchanged, r.Deleted)
}

// Import loads a mix CSV (see Columns) in one transaction: the rows stream through COPY into
// a staging table, duplicates and share sums are checked there with set-based queries, and
// one upsert moves them into energy_mix, replacing each sector-hour in the file as a whole.
// Either everything is imported or nothing is.
//
// Errors: a *ValidationError when the file does not validate (every problem row is
// reported, up to a limit); otherwise database errors, wrapped.
func (s *Store) Import(ctx context.Context, r io.Reader, opt ImportOptions) (ImportResult, error) {
	if _, err := ParseKind(string(opt.Kind)); err != nil {
		return ImportResult{}, err
	}
	if opt.Source = strings.TrimSpace(opt.Source); opt.Source == "" || len(opt.Source) > 200 {
		return ImportResult{}, errors.New("import mix: source must have 1 to 200 characters")
	}
	rd, err := NewReader(r)
	if err != nil {
		return ImportResult{}, err
	}
	var res ImportResult
	err = db.WithPgx(ctx, s.db.DB, func(conn *pgx.Conn) error {
		var err error
		res, err = importTx(ctx, conn, rd, opt)
		return err
	})
	var verr *ValidationError
	if err != nil && !errors.As(err, &verr) {
		return res, fmt.Errorf("import mix: %w", err)
	}
	return res, err
}

func importTx(ctx context.Context, conn *pgx.Conn, rd *Reader, opt ImportOptions) (res ImportResult, err error) {
	res.Kind = opt.Kind
	tx, err := conn.Begin(ctx)
	if err != nil {
		return res, fmt.Errorf("begin: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback(context.WithoutCancel(ctx)) // the error that got us here is the one to report
		}
	}()
	if _, err := tx.Exec(ctx, `CREATE TEMP TABLE energy_mix_staging (
		sector text NOT NULL, begin_at timestamptz NOT NULL, technology text NOT NULL,
		share_ppm integer NOT NULL, co2eq_mg_per_kwh bigint NOT NULL, line integer NOT NULL
	) ON COMMIT DROP`); err != nil {
		return res, fmt.Errorf("create staging table: %w", err)
	}
	src := &rowSource{rd: rd, verr: &ValidationError{}}
	res.Rows, err = tx.CopyFrom(ctx, pgx.Identifier{"energy_mix_staging"},
		[]string{"sector", "begin_at", "technology", "share_ppm", "co2eq_mg_per_kwh", "line"}, src)
	if err != nil {
		if src.err != nil {
			return res, src.err
		}
		return res, fmt.Errorf("copy rows: %w", err)
	}
	if err := check(ctx, tx, src.verr); err != nil {
		return res, err
	}
	if src.verr.Count > 0 {
		return res, src.verr
	}
	if res.Rows == 0 {
		return res, &ValidationError{Problems: []string{"the file has no rows"}, Count: 1}
	}
	if err := tx.QueryRow(ctx, `SELECT count(DISTINCT (sector, begin_at)), array_agg(DISTINCT sector ORDER BY sector),
		min(begin_at), max(begin_at) + interval '1 hour' FROM energy_mix_staging`).Scan(&res.Hours, &res.Sectors, &res.From, &res.To); err != nil {
		return res, fmt.Errorf("summarise staged rows: %w", err)
	}
	res.From, res.To = res.From.UTC(), res.To.UTC()

	// Each sector-hour in the file replaces the stored one as a whole: technologies it does
	// not list are removed, so a mix never mixes two imports.
	tag, err := tx.Exec(ctx, `DELETE FROM energy_mix m
		USING (SELECT DISTINCT sector, begin_at FROM energy_mix_staging) h
		WHERE m.kind = $1 AND m.sector = h.sector AND m.begin_at = h.begin_at
		AND NOT EXISTS (SELECT 1 FROM energy_mix_staging s
			WHERE s.sector = m.sector AND s.begin_at = m.begin_at AND s.technology = m.technology)`, string(opt.Kind))
	if err != nil {
		return res, fmt.Errorf("remove replaced technologies: %w", err)
	}
	res.Deleted = tag.RowsAffected()
	if opt.ReplaceRange {
		tag, err := tx.Exec(ctx, `DELETE FROM energy_mix m
			WHERE m.kind = $1 AND m.sector = ANY($2) AND m.begin_at >= $3 AND m.begin_at < $4
			AND NOT EXISTS (SELECT 1 FROM energy_mix_staging s WHERE s.sector = m.sector AND s.begin_at = m.begin_at)`,
			string(opt.Kind), res.Sectors, res.From, res.To)
		if err != nil {
			return res, fmt.Errorf("remove hours outside the file: %w", err)
		}
		res.Deleted += tag.RowsAffected()
	}
	// xmax = 0 on a returned row means it was inserted, not updated (a Postgres idiom that
	// holds for INSERT ... ON CONFLICT DO UPDATE); identical rows are not touched.
	if err := tx.QueryRow(ctx, `WITH up AS (
		INSERT INTO energy_mix AS m (kind, sector, begin_at, technology, share_ppm, co2eq_mg_per_kwh, source)
		SELECT $1, sector, begin_at, technology, share_ppm, co2eq_mg_per_kwh, $2 FROM energy_mix_staging
		ON CONFLICT (kind, sector, begin_at, technology) DO UPDATE
		SET share_ppm = EXCLUDED.share_ppm, co2eq_mg_per_kwh = EXCLUDED.co2eq_mg_per_kwh, source = EXCLUDED.source, imported_at = now()
		WHERE (m.share_ppm, m.co2eq_mg_per_kwh, m.source) IS DISTINCT FROM (EXCLUDED.share_ppm, EXCLUDED.co2eq_mg_per_kwh, EXCLUDED.source)
		RETURNING (xmax = 0) AS inserted)
		SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM up`,
		string(opt.Kind), opt.Source).Scan(&res.Inserted, &res.Updated); err != nil {
		return res, fmt.Errorf("upsert mix: %w", err)
	}
	res.Unchanged = res.Rows - res.Inserted - res.Updated
	if err := tx.Commit(ctx); err != nil {
		return res, fmt.Errorf("commit: %w", err)
	}
	return res, nil
}

// check finds what only the whole file shows: a technology given twice for one
// sector-hour, and sector-hours whose shares do not sum to one whole.
func check(ctx context.Context, tx pgx.Tx, verr *ValidationError) error {
	rows, err := tx.Query(ctx, `
		SELECT msg FROM (
			SELECT min(line) AS line, format('line %s: %s %s %s given %s times', min(line), sector,
				to_char(begin_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI"Z"'), technology, count(*)) AS msg
			FROM energy_mix_staging GROUP BY sector, begin_at, technology HAVING count(*) > 1
			UNION ALL
			SELECT min(line), format('line %s: shares of %s %s sum to %s, want 1 (±%s)', min(line), sector,
				to_char(begin_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI"Z"'),
				trim_scale(sum(share_ppm) / 1000000.0), trim_scale($1::numeric / 1000000))
			FROM energy_mix_staging GROUP BY sector, begin_at HAVING abs(sum(share_ppm) - 1000000) > $1
		) p ORDER BY line, msg`, SumTolerancePPM)
	if err != nil {
		return fmt.Errorf("check staged rows: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var msg string
		if err := rows.Scan(&msg); err != nil {
			return fmt.Errorf("check staged rows: %w", err)
		}
		verr.add(msg)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("check staged rows: %w", err)
	}
	return nil
}

// rowSource feeds validated CSV rows to COPY, collecting invalid rows instead of stopping
// at the first, so one run reports every problem.
type rowSource struct {
	rd   *Reader
	row  Row
	verr *ValidationError
	err  error // a read error that ends the file
}

func (s *rowSource) Next() bool {
	for {
		row, err := s.rd.Next()
		var rerr *RowError
		switch {
		case err == io.EOF:
			return false
		case errors.As(err, &rerr):
			s.verr.add(rerr.Error())
			continue
		case err != nil:
			s.err = err
			return false
		}
		s.row = row
		return true
	}
}

func (s *rowSource) Values() ([]any, error) {
	return []any{s.row.Sector, s.row.Hour, s.row.Technology, s.row.SharePPM, s.row.CO2eqMgPerKWh, s.row.Line}, nil
}

func (s *rowSource) Err() error { return s.err }
