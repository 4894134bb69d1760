// Package migrations holds OriginHub's SQL migrations, embedded in the binary and applied
// with bun/migrate.
package migrations

import (
	"context"
	"embed"
	"fmt"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/migrate"
)

//go:embed *.sql
var files embed.FS

// New returns a migrator over the embedded SQL files.
func New(db *bun.DB) (*migrate.Migrator, error) {
	ms := migrate.NewMigrations()
	if err := ms.Discover(files); err != nil {
		return nil, fmt.Errorf("discover migrations: %w", err)
	}
	// Mark applied only on success, so a failed step is retried instead of skipped.
	return migrate.NewMigrator(db, ms, migrate.WithMarkAppliedOnSuccess(true)), nil
}

// Up applies every pending migration as one group and returns the names applied.
func Up(ctx context.Context, db *bun.DB) ([]string, error) {
	return locked(ctx, db, "migrate up", func(m *migrate.Migrator) (*migrate.MigrationGroup, error) {
		return m.Migrate(ctx)
	})
}

// Down rolls back the last applied group and returns the names rolled back.
func Down(ctx context.Context, db *bun.DB) ([]string, error) {
	return locked(ctx, db, "migrate down", func(m *migrate.Migrator) (*migrate.MigrationGroup, error) {
		return m.Rollback(ctx)
	})
}

// locked runs step while holding bun's migration lock, so that two processes starting
// together do not apply the same migration twice.
func locked(ctx context.Context, db *bun.DB, what string, step func(*migrate.Migrator) (*migrate.MigrationGroup, error)) (applied []string, err error) {
	m, err := New(db)
	if err != nil {
		return nil, err
	}
	if err := m.Init(ctx); err != nil {
		return nil, fmt.Errorf("init migration tables: %w", err)
	}
	if err := lockWait(ctx, m); err != nil {
		return nil, err
	}
	defer func() {
		if uerr := m.Unlock(context.WithoutCancel(ctx)); uerr != nil && err == nil {
			err = fmt.Errorf("unlock migrations: %w", uerr)
		}
	}()
	group, err := step(m)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return names(group), nil
}

// lockWait takes the migration lock, waiting while another process holds it. bun's Lock
// fails at once when the lock row exists, which would make a second replica crash on start.
func lockWait(ctx context.Context, m *migrate.Migrator) error {
	for wait := 50 * time.Millisecond; ; wait = min(2*wait, time.Second) {
		err := m.Lock(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("lock migrations: %w (last error: %v)", ctx.Err(), err)
		case <-time.After(wait):
		}
	}
}

// Status lists every known migration with whether it is applied.
func Status(ctx context.Context, db *bun.DB) (migrate.MigrationSlice, error) {
	m, err := New(db)
	if err != nil {
		return nil, err
	}
	if err := m.Init(ctx); err != nil {
		return nil, fmt.Errorf("init migration tables: %w", err)
	}
	return m.MigrationsWithStatus(ctx)
}

func names(g *migrate.MigrationGroup) []string {
	if g == nil {
		return nil
	}
	out := make([]string, 0, len(g.Migrations))
	for _, m := range g.Migrations {
		out = append(out, m.Name)
	}
	return out
}
