// Package standintest starts a ledger stand-in for tests: a fresh Postgres
// database of its own, migrated, served over httptest, dropped at cleanup.
package standintest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"github.com/originhub/originhub/internal/ledger/standin"
)

// AdminDSN is the server the test databases are created on; override with
// ORIGINHUB_TEST_PG.
func AdminDSN() string {
	if v := os.Getenv("ORIGINHUB_TEST_PG"); v != "" {
		return v
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// DB creates a uniquely named database and returns a bun handle on it; the
// database is dropped when the test ends.
func DB(t testing.TB) *bun.DB {
	t.Helper()
	ctx := context.Background()
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	name := "originhub_standin_" + hex.EncodeToString(rnd[:])

	admin, err := sql.Open("pgx", AdminDSN())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		admin.Close()
		t.Fatalf("create test database: %v", err)
	}
	cfg, err := pgx.ParseConfig(AdminDSN())
	if err != nil {
		t.Fatal(err)
	}
	cfg.Database = name
	sqldb := stdlib.OpenDB(*cfg)
	db := bun.NewDB(sqldb, pgdialect.New())
	t.Cleanup(func() {
		db.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop test database %s: %v", name, err)
		}
		admin.Close()
	})
	return db
}

// Prefix is where Server mounts the stand-in, as the platform does.
const Prefix = "/sim/ledger"

// Server returns a migrated stand-in on its own database and an httptest
// server with it mounted at Prefix. The base URL for clients is
// srv.URL + Prefix.
func Server(t testing.TB, opts standin.Options) (*standin.Ledger, *httptest.Server) {
	t.Helper()
	l := Ledger(t, opts)
	mux := http.NewServeMux()
	mux.Handle(Prefix+"/", http.StripPrefix(Prefix, l.Handler()))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return l, srv
}

// Ledger returns a migrated stand-in on its own database, not served.
func Ledger(t testing.TB, opts standin.Options) *standin.Ledger {
	t.Helper()
	l, err := standin.New(DB(t), opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return l
}
