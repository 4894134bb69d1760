package datahub

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/originhub/originhub/internal/db"
	"github.com/originhub/originhub/internal/eloverblik"
)

// Window is one metering point's span of hours to import, [From, To).
type Window struct {
	MeteringPointID int64
	GSRN            string
	From, To        time.Time
}

// Fetch delivers a batch's readings into sink; eloverblik.Client.TimeSeries for real
// imports, a parser over a generated body in the benchmark.
type Fetch func(ctx context.Context, sink eloverblik.Sink) error

// Result counts what one batch's import did.
type Result struct {
	Read     int64    // readings received
	Written  int64    // rows inserted or changed
	Revised  int64    // rows whose amount changed (each recorded in measurement_revisions)
	Rejected int64    // readings refused (unknown point, outside its window, misaligned, duplicate, negative) or reported by the parser
	Problems []string // the first few reasons for rejections
}

const maxProblems = 10

func (r *Result) reject(format string, args ...any) {
	r.Rejected++
	if len(r.Problems) < maxProblems {
		r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
	}
}

// copyBatch is how many readings cross from the fetching goroutine to COPY at once.
const copyBatch = 2048

// IngestWindow imports one metering point's window; see IngestWindows.
func IngestWindow(ctx context.Context, sqlDB *sql.DB, w Window, fetch Fetch) (Result, error) {
	return IngestWindows(ctx, sqlDB, []Window{w}, fetch)
}

// IngestWindows imports the windows of several metering points in one transaction: the
// readings stream from fetch (running in its own goroutine, so parsing overlaps with
// Postgres work) through one COPY. When no window holds rows yet they go straight into the
// partitioned measurements table; otherwise into a session-local staging table followed by
// one set-based upsert, and a reading whose amount changed is recorded as a revision. Either
// the whole batch commits or nothing does: a fetch error, a cancelled context or a database
// error rolls everything back, and a retry starts clean.
//
// Grouping many points per batch, with windows inside one calendar month, is what keeps
// ingestion near COPY speed: each COPY into a monthly partition has a fixed set-up cost, so
// one COPY should carry many rows into few partitions.
//
// Imports of the same metering point are serialised by advisory locks, taken in id order
// so that concurrent batches cannot deadlock. The windows' partitions must exist
// (EnsurePartitions).
func IngestWindows(ctx context.Context, sqlDB *sql.DB, ws []Window, fetch Fetch) (Result, error) {
	if len(ws) == 0 {
		return Result{}, nil
	}
	for _, w := range ws {
		if !w.From.Before(w.To) || w.From != w.From.Truncate(time.Hour) || w.To != w.To.Truncate(time.Hour) {
			return Result{}, fmt.Errorf("ingest %s: window %s..%s is not a non-empty span of whole hours", w.GSRN, w.From, w.To)
		}
	}
	var res Result
	err := db.WithPgx(ctx, sqlDB, func(conn *pgx.Conn) error {
		var err error
		res, err = ingest(ctx, conn, ws, fetch)
		return err
	})
	if err != nil {
		return res, fmt.Errorf("ingest %d metering points from %s: %w", len(ws), ws[0].From.Format(time.RFC3339), err)
	}
	return res, nil
}

func ingest(ctx context.Context, conn *pgx.Conn, ws []Window, fetch Fetch) (res Result, err error) {
	ids := make([]int64, len(ws))
	froms := make([]time.Time, len(ws))
	tos := make([]time.Time, len(ws))
	for i, w := range ws {
		ids[i], froms[i], tos[i] = w.MeteringPointID, w.From, w.To
	}
	locks := make([]int64, len(ws))
	for i, id := range ids {
		locks[i] = importLockKey(id)
	}
	slices.Sort(locks)

	tx, err := conn.Begin(ctx)
	if err != nil {
		return res, fmt.Errorf("begin: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback(context.WithoutCancel(ctx)) // the error that got us here is the one to report
		}
	}()
	// One round trip: take the points' import locks (in order), skip waiting for the WAL
	// flush at commit (an import is re-readable from DataHub and records its progress,
	// imported_until, in the same transaction, so a server crash only means reading the last
	// windows again), and look for rows already in the windows (only those can be revised or
	// conflict).
	var existing bool
	if err := tx.QueryRow(ctx, `SELECT (SELECT count(pg_advisory_xact_lock(k)) FROM unnest($1::bigint[]) AS k) >= 0
		AND set_config('synchronous_commit', 'off', true) IS NOT NULL
		AND EXISTS (SELECT 1 FROM unnest($2::bigint[], $3::timestamptz[], $4::timestamptz[]) AS w(id, f, t)
			WHERE EXISTS (SELECT 1 FROM measurements m WHERE m.metering_point_id = w.id AND m.begin_at >= w.f AND m.begin_at < w.t))`,
		locks, ids, froms, tos).Scan(&existing); err != nil {
		return res, fmt.Errorf("lock metering points: %w", err)
	}
	target := pgx.Identifier{"measurements"}
	if existing {
		// Temp and ON COMMIT DELETE ROWS: created once per pooled session, never WAL-logged,
		// emptied by every commit or rollback.
		if _, err := tx.Exec(ctx, `CREATE TEMP TABLE IF NOT EXISTS measurement_staging (
			metering_point_id bigint NOT NULL, begin_at timestamptz NOT NULL, amount_wh bigint NOT NULL, quality text NOT NULL
		) ON COMMIT DELETE ROWS`); err != nil {
			return res, fmt.Errorf("create staging table: %w", err)
		}
		target = pgx.Identifier{"measurement_staging"}
	}

	src := newReadingSource(ctx, ws, fetch, &res)
	copied, err := tx.CopyFrom(ctx, target, []string{"metering_point_id", "begin_at", "amount_wh", "quality"}, src)
	if err != nil {
		src.stop()
		if ferr := src.fetchErr(); ferr != nil {
			return res, fmt.Errorf("fetch readings: %w", ferr)
		}
		return res, fmt.Errorf("copy readings: %w", err)
	}
	if ferr := src.wait(); ferr != nil {
		return res, fmt.Errorf("fetch readings: %w", ferr)
	}
	if existing {
		if res.Revised, res.Written, err = upsertStaged(ctx, tx, ids, froms, tos); err != nil {
			return res, err
		}
	} else {
		res.Written = copied
	}
	// Progress per point: the end of its newest accepted reading. GREATEST ignores NULLs.
	lastIDs, lastEnds := src.lastEnds()
	if len(lastIDs) > 0 {
		if _, err := tx.Exec(ctx, `
			UPDATE metering_points mp
			SET imported_until = GREATEST(mp.imported_until, l.end_at), last_import_error = NULL, updated_at = now()
			FROM unnest($1::bigint[], $2::timestamptz[]) AS l(id, end_at)
			WHERE mp.id = l.id`, lastIDs, lastEnds); err != nil {
			return res, fmt.Errorf("advance imported_until: %w", err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return res, fmt.Errorf("commit: %w", err)
	}
	return res, nil
}

// upsertStaged moves the staged readings into measurements: rows whose amount changed are
// recorded as revisions first (after the upsert the old values are gone: Postgres 15 has
// no OLD in RETURNING), then one INSERT ... ON CONFLICT updates what changed and adds what
// is new. The windows' range conditions let the planner prune partitions.
func upsertStaged(ctx context.Context, tx pgx.Tx, ids []int64, froms, tos []time.Time) (revised, written int64, err error) {
	tag, err := tx.Exec(ctx, `
		INSERT INTO measurement_revisions (metering_point_id, begin_at, old_amount_wh, new_amount_wh)
		SELECT m.metering_point_id, m.begin_at, m.amount_wh, s.amount_wh
		FROM measurement_staging s
		JOIN measurements m ON m.metering_point_id = s.metering_point_id AND m.begin_at = s.begin_at
		WHERE m.begin_at >= (SELECT min(f) FROM unnest($2::timestamptz[]) f)
		  AND m.begin_at < (SELECT max(t) FROM unnest($3::timestamptz[]) t)
		  AND m.metering_point_id = ANY($1::bigint[])
		  AND m.amount_wh <> s.amount_wh`,
		ids, froms, tos)
	if err != nil {
		return 0, 0, fmt.Errorf("record revisions: %w", err)
	}
	revised = tag.RowsAffected()
	tag, err = tx.Exec(ctx, `
		INSERT INTO measurements AS m (metering_point_id, begin_at, amount_wh, quality)
		SELECT metering_point_id, begin_at, amount_wh, quality FROM measurement_staging
		ON CONFLICT (metering_point_id, begin_at) DO UPDATE
		SET amount_wh = EXCLUDED.amount_wh, quality = EXCLUDED.quality, revised_at = now()
		WHERE m.amount_wh <> EXCLUDED.amount_wh OR m.quality <> EXCLUDED.quality`)
	if err != nil {
		return 0, 0, fmt.Errorf("upsert measurements: %w", err)
	}
	return revised, tag.RowsAffected(), nil
}

// importLockKey is the advisory lock of one metering point's imports, in a key space of
// its own (high bits) so it cannot collide with other advisory locks.
func importLockKey(meteringPointID int64) int64 {
	const namespace = int64(0x4448) << 48 // "DH"
	return namespace | (meteringPointID & (1<<48 - 1))
}

// pointState validates one point's readings within its window.
type pointState struct {
	w    Window
	seen []uint64 // one bit per hour of the window: duplicates are refused
	last time.Time
}

// readingSource adapts the push-style fetch to pgx's pull-style CopyFromSource. fetch runs
// in a goroutine and hands over validated batches through a channel.
type readingSource struct {
	batches chan [][]any
	done    chan struct{} // closed when fetch returned
	cancel  context.CancelFunc
	err     error // fetch's error, readable after done
	points  map[string]*pointState
	cur     [][]any
	i       int
}

var errStopped = errors.New("ingest stopped")

func newReadingSource(ctx context.Context, ws []Window, fetch Fetch, res *Result) *readingSource {
	ctx, cancel := context.WithCancel(ctx)
	s := &readingSource{batches: make(chan [][]any, 4), done: make(chan struct{}), cancel: cancel, points: make(map[string]*pointState, len(ws))}
	for _, w := range ws {
		hours := int(w.To.Sub(w.From) / time.Hour)
		s.points[w.GSRN] = &pointState{w: w, seen: make([]uint64, (hours+63)/64)}
	}
	batch := make([][]any, 0, copyBatch)
	send := func() error {
		if len(batch) == 0 {
			return nil
		}
		select {
		case s.batches <- batch:
			batch = make([][]any, 0, copyBatch)
			return nil
		case <-ctx.Done():
			return errStopped
		}
	}
	go func() {
		defer close(s.done)
		defer close(s.batches)
		err := fetch(ctx, eloverblik.Sink{
			Reading: func(r eloverblik.Reading) error {
				res.Read++
				b := r.Begin.UTC()
				p := s.points[r.GSRN]
				switch {
				case p == nil:
					res.reject("%s: reading for metering point %s, not asked for", b.Format(time.RFC3339), r.GSRN)
				case b.Before(p.w.From) || !b.Before(p.w.To):
					res.reject("%s %s: outside the window", r.GSRN, b.Format(time.RFC3339))
				case b != b.Truncate(time.Hour):
					res.reject("%s %s: not on a whole hour", r.GSRN, b.Format(time.RFC3339))
				case r.Wh < 0:
					res.reject("%s %s: negative amount %d Wh", r.GSRN, b.Format(time.RFC3339), r.Wh)
				default:
					h := int(b.Sub(p.w.From) / time.Hour)
					if p.seen[h/64]&(1<<(h%64)) != 0 {
						res.reject("%s %s: duplicate reading", r.GSRN, b.Format(time.RFC3339))
						return nil
					}
					p.seen[h/64] |= 1 << (h % 64)
					q := r.Quality
					if q == "" {
						q = eloverblik.QualityMeasured
					}
					batch = append(batch, []any{p.w.MeteringPointID, b, r.Wh, q})
					if end := b.Add(time.Hour); end.After(p.last) {
						p.last = end
					}
					if len(batch) == copyBatch {
						return send()
					}
				}
				return nil
			},
			Problem: func(pe *eloverblik.ReadingError) error {
				res.Read++
				res.reject("%s", strings.TrimSpace(pe.Error()))
				return nil
			},
		})
		if err == nil {
			err = send()
		}
		s.err = err
	}()
	return s
}

func (s *readingSource) Next() bool {
	s.i++
	if s.i < len(s.cur) {
		return true
	}
	b, ok := <-s.batches
	if !ok {
		return false
	}
	s.cur, s.i = b, 0
	return len(b) > 0
}

func (s *readingSource) Values() ([]any, error) { return s.cur[s.i], nil }

// Err reports a fetch failure to COPY, which then aborts.
func (s *readingSource) Err() error {
	select {
	case <-s.done:
		return s.err
	default:
		return nil
	}
}

// stop cancels the fetch and waits for its goroutine.
func (s *readingSource) stop() {
	s.cancel()
	for range s.batches { // unblock a sender
	}
	<-s.done
}

// wait waits for the fetch to end and returns its error.
func (s *readingSource) wait() error {
	<-s.done
	s.cancel()
	return s.err
}

func (s *readingSource) fetchErr() error {
	<-s.done
	if errors.Is(s.err, errStopped) {
		return nil
	}
	return s.err
}

// lastEnds returns, for each point that got readings, the end of its newest one.
func (s *readingSource) lastEnds() ([]int64, []time.Time) {
	<-s.done
	var ids []int64
	var ends []time.Time
	for _, p := range s.points {
		if !p.last.IsZero() {
			ids = append(ids, p.w.MeteringPointID)
			ends = append(ends, p.last)
		}
	}
	return ids, ends
}
