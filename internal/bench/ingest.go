// Package bench runs OriginHub's benchmarks against a real Postgres, each printing one JSON
// line of figures. They are commands (`originhub bench ...`), not tests: speed targets are
// measured here, never asserted in unit tests.
package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/uptrace/bun"
	"golang.org/x/sync/errgroup"

	"github.com/originhub/originhub/internal/datahub"
	"github.com/originhub/originhub/internal/db"
	"github.com/originhub/originhub/internal/eloverblik"
	"github.com/originhub/originhub/internal/eloverblik/sim"
	"github.com/originhub/originhub/migrations"
	"github.com/originhub/originhub/models"
)

// IngestResult is the figures of one ingest benchmark.
type IngestResult struct {
	Rows           int64   `json:"rows"`
	Workers        int     `json:"workers"`
	CopyRowsPerS   float64 `json:"copy_rows_per_s"`
	ImportRowsPerS float64 `json:"import_rows_per_s"`
	Ratio          float64 `json:"ratio"`
	// ReimportRowsPerS re-reads every window once more (as the trailing-window re-read
	// does): staged, compared and upserted, with nothing changed.
	ReimportRowsPerS float64 `json:"reimport_rows_per_s"`
	PeakRSSMB        float64 `json:"peak_rss_mb"`
}

// hoursPerPoint is one year of hourly readings: each metering point is one import window.
const hoursPerPoint = 8760

var benchStart = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// Ingest compares, on the same generated rows in the same run, a plain binary COPY into a
// fresh table with the measurements' primary key (the baseline) with the full import path:
// the simulator's JSON, streamed through the ElOverblik parser, validated, COPYed into
// staging and upserted into the partitioned measurements table, one window per metering
// point. It creates a database of its own under serverURI and drops it afterwards.
func Ingest(ctx context.Context, serverURI string, rows int64, workers int) (IngestResult, error) {
	if rows < 1 {
		return IngestResult{}, fmt.Errorf("rows must be positive")
	}
	// Whole years of readings per metering point, as an import of a year would see them.
	rows = (rows + hoursPerPoint - 1) / hoursPerPoint * hoursPerPoint
	d, uri, err := freshDatabase(ctx, serverURI)
	if err != nil {
		return IngestResult{}, err
	}
	defer func() {
		d.Close()
		_ = db.DropDatabase(context.WithoutCancel(ctx), uri)
	}()
	simulator := sim.New(sim.Options{Seed: 42, Clock: func() time.Time { return benchStart.AddDate(2, 0, 0) }})
	points, err := benchPoints(ctx, d, simulator, rows)
	if err != nil {
		return IngestResult{}, err
	}
	if _, err := datahub.EnsurePartitions(ctx, d, benchStart, benchStart.Add(hoursPerPoint*time.Hour)); err != nil {
		return IngestResult{}, err
	}
	res := IngestResult{Rows: rows, Workers: workers}

	// Baseline: the same values, generated in Go, in one binary COPY.
	if _, err := d.ExecContext(ctx, `CREATE TABLE bench_copy (metering_point_id bigint, begin_at timestamptz, amount_wh bigint NOT NULL,
		quality text NOT NULL, PRIMARY KEY (metering_point_id, begin_at))`); err != nil {
		return res, fmt.Errorf("create baseline table: %w", err)
	}
	start := time.Now()
	if err := copyBaseline(ctx, uri, simulator, points, rows); err != nil {
		return res, err
	}
	res.CopyRowsPerS = float64(rows) / time.Since(start).Seconds()

	// The import path, then the same windows re-read.
	for pass, rate := range []*float64{&res.ImportRowsPerS, &res.ReimportRowsPerS} {
		start = time.Now()
		if err := importAll(ctx, d, simulator, points, pass == 0, workers); err != nil {
			return res, err
		}
		*rate = float64(rows) / time.Since(start).Seconds()
	}
	res.Ratio = res.ImportRowsPerS / res.CopyRowsPerS
	res.PeakRSSMB = peakRSSMB()
	return res, nil
}

// importAll imports every point's year through the real import path, as the import jobs
// do: calendar month by month, up to 50 points per request and transaction, the simulator's
// JSON streamed through the parser, validated and COPYed — straight into measurements the
// first time, through staging and the upsert when the rows exist (again).
func importAll(ctx context.Context, d *bun.DB, simulator *sim.Simulator, points []models.MeteringPoint, first bool, workers int) error {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(workers)
	const perBatch = 50
	for month := benchStart; month.Before(benchStart.Add(hoursPerPoint * time.Hour)); month = month.AddDate(0, 1, 0) {
		for i := 0; i < len(points); i += perBatch {
			var ws []datahub.Window
			var want int64
			to := month.AddDate(0, 1, 0)
			if end := benchStart.Add(hoursPerPoint * time.Hour); to.After(end) {
				to = end
			}
			for _, p := range points[i:min(i+perBatch, len(points))] {
				ws = append(ws, datahub.Window{MeteringPointID: p.ID, GSRN: p.GSRN, From: month, To: to})
				want += int64(to.Sub(month) / time.Hour)
			}
			g.Go(func() error { return importBatch(ctx, d, simulator, ws, want, first) })
		}
	}
	return g.Wait()
}

func importBatch(ctx context.Context, d *bun.DB, simulator *sim.Simulator, ws []datahub.Window, n int64, first bool) error {
	gsrns := make([]string, len(ws))
	for i, w := range ws {
		gsrns[i] = w.GSRN
	}
	from, to := ws[0].From, ws[0].To
	r, err := datahub.IngestWindows(ctx, d.DB, ws, func(ctx context.Context, sink eloverblik.Sink) error {
		pr, pw := io.Pipe()
		go func() { pw.CloseWithError(simulator.WriteTimeSeries(pw, gsrns, from, to)) }()
		defer pr.Close()
		_, err := eloverblik.ParseTimeSeries(pr, sink)
		return err
	})
	if err != nil {
		return err
	}
	want := n
	if !first {
		want = 0 // nothing changed
	}
	if r.Read != n || r.Written != want || r.Rejected != 0 {
		return fmt.Errorf("batch from %s: %+v, want %d read and %d written", from, r, n, want)
	}
	return nil
}

func copyBaseline(ctx context.Context, uri string, s *sim.Simulator, points []models.MeteringPoint, rows int64) error {
	conn, err := pgx.Connect(ctx, uri)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var i int64
	row := make([]any, 4)
	src := pgx.CopyFromFunc(func() ([]any, error) {
		if i >= rows {
			return nil, nil
		}
		p := points[i/hoursPerPoint]
		begin := benchStart.Add(time.Duration(i%hoursPerPoint) * time.Hour)
		wh, q := s.Reading(p.GSRN, begin)
		row[0], row[1], row[2], row[3] = p.ID, begin, wh, q
		i++
		return row, nil
	})
	n, err := conn.CopyFrom(ctx, pgx.Identifier{"bench_copy"}, []string{"metering_point_id", "begin_at", "amount_wh", "quality"}, src)
	if err != nil {
		return fmt.Errorf("baseline copy: %w", err)
	}
	if n != rows {
		return fmt.Errorf("baseline copied %d rows, want %d", n, rows)
	}
	return nil
}

// benchPoints stores enough of the simulator's metering points for rows readings.
func benchPoints(ctx context.Context, d *bun.DB, s *sim.Simulator, rows int64) ([]models.MeteringPoint, error) {
	u := models.User{Subject: "bench"}
	if _, err := d.NewInsert().Model(&u).Exec(ctx); err != nil {
		return nil, fmt.Errorf("create bench user: %w", err)
	}
	n := int((rows + hoursPerPoint - 1) / hoursPerPoint)
	points := make([]models.MeteringPoint, 0, n)
	for c := 0; len(points) < n; c++ {
		for _, p := range s.Points("bench-customer-" + strconv.Itoa(c)) {
			if len(points) < n {
				points = append(points, models.MeteringPoint{UserID: u.ID, GSRN: p.GSRN, Type: models.MeteringPointProduction, Sector: models.SectorDK1})
			}
		}
	}
	for i := 0; i < n; i += 1000 {
		chunk := points[i:min(i+1000, n)]
		if _, err := d.NewInsert().Model(&chunk).Exec(ctx); err != nil {
			return nil, fmt.Errorf("create metering points: %w", err)
		}
	}
	return points, nil
}

// freshDatabase creates and migrates a database named originhub_bench_<random> on the
// server of serverURI.
func freshDatabase(ctx context.Context, serverURI string) (*bun.DB, string, error) {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	u, err := url.Parse(serverURI)
	if err != nil {
		return nil, "", fmt.Errorf("parse database uri: %w", err)
	}
	u.Path = "/originhub_bench_" + hex.EncodeToString(b)
	uri := u.String()
	if _, err := db.EnsureDatabase(ctx, uri); err != nil {
		return nil, "", err
	}
	d, err := db.Open(ctx, db.Options{URI: uri, PoolSize: 8})
	if err != nil {
		return nil, "", err
	}
	if _, err := migrations.Up(ctx, d); err != nil {
		d.Close()
		return nil, "", err
	}
	return d, uri, nil
}

// peakRSSMB reads the process's peak resident set size (VmHWM) from /proc.
func peakRSSMB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}
