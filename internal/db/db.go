// Package db opens OriginHub's Postgres connection pool (bun on the pgx stdlib driver) and
// creates the database when it is missing.
package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/extra/bundebug"
)

// Options configure Open.
type Options struct {
	URI      string
	PoolSize int
	Debug    bool // log every query
	Logger   *slog.Logger
}

// Open connects to the database named in opts.URI and checks that it answers.
func Open(ctx context.Context, opts Options) (*bun.DB, error) {
	cfg, err := pgx.ParseConfig(opts.URI)
	if err != nil {
		return nil, fmt.Errorf("parse DATABASE_URI: %w", err)
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = 5 * time.Second
	}
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	// Every timestamp we read or write is UTC.
	cfg.RuntimeParams["timezone"] = "UTC"
	// bun writes values into the SQL text, so nearly every statement is new: pgx's default
	// (prepare and cache each statement) would add a round trip and a server-side prepared
	// statement to each, only to evict it. One round trip, no prepared statement; the few
	// queries with bind parameters get their types from the Go values.
	if !strings.Contains(opts.URI, "default_query_exec_mode") {
		cfg.DefaultQueryExecMode = pgx.QueryExecModeExec
	}
	sqldb := stdlib.OpenDB(*cfg)
	size := max(opts.PoolSize, 1)
	sqldb.SetMaxOpenConns(size)
	sqldb.SetMaxIdleConns(size)
	sqldb.SetConnMaxIdleTime(5 * time.Minute)
	db := bun.NewDB(sqldb, pgdialect.New())
	if opts.Debug {
		db.AddQueryHook(bundebug.NewQueryHook(bundebug.WithVerbose(true)))
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.PingContext(pingCtx); err != nil {
		_ = db.Close() // the ping error is the one that matters
		return nil, fmt.Errorf("connect to postgres: %w", err)
	}
	return db, nil
}

// EnsureDatabase creates the database named in uri if it does not exist, connecting to the
// server's maintenance database "postgres" to do so.
func EnsureDatabase(ctx context.Context, uri string) (created bool, err error) {
	u, err := url.Parse(uri)
	if err != nil {
		return false, fmt.Errorf("parse DATABASE_URI: %w", err)
	}
	name := strings.Trim(u.Path, "/")
	if name == "" {
		return false, errors.New("DATABASE_URI names no database")
	}
	admin := *u
	admin.Path = "/postgres"
	conn, err := pgx.Connect(ctx, admin.String())
	if err != nil {
		return false, fmt.Errorf("connect to maintenance database: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return false, fmt.Errorf("look up database %s: %w", name, err)
	}
	if exists {
		return false, nil
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42P04" { // created meanwhile by another process
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("create database %s: %w", name, err)
	}
	return true, nil
}

// DropDatabase drops the database named in uri, closing its other sessions first. Tests use it.
func DropDatabase(ctx context.Context, uri string) error {
	u, err := url.Parse(uri)
	if err != nil {
		return fmt.Errorf("parse uri: %w", err)
	}
	name := strings.Trim(u.Path, "/")
	admin := *u
	admin.Path = "/postgres"
	conn, err := pgx.Connect(ctx, admin.String())
	if err != nil {
		return fmt.Errorf("connect to maintenance database: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("drop database %s: %w", name, err)
	}
	return nil
}

// Ping checks that the database answers within d.
func Ping(ctx context.Context, db *sql.DB, d time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	return db.PingContext(ctx)
}

// WithPgx runs fn on one pooled connection as a native pgx connection, for what the
// database/sql interface cannot do (COPY). The connection returns to the pool afterwards.
func WithPgx(ctx context.Context, sqlDB *sql.DB, fn func(*pgx.Conn) error) error {
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		return fmt.Errorf("acquire connection: %w", err)
	}
	defer conn.Close()
	return conn.Raw(func(driverConn any) error {
		pc, ok := driverConn.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("driver connection is %T, want pgx stdlib", driverConn)
		}
		return fn(pc.Conn())
	})
}

// Keyed indexes rows by key, for loaders that answer a set of keys from one query.
func Keyed[K comparable, T any](rows []T, key func(*T) K) map[K]T {
	out := make(map[K]T, len(rows))
	for i := range rows {
		out[key(&rows[i])] = rows[i]
	}
	return out
}
