// Package testkit is the one home of test helpers: a real Postgres database and a real Redis
// DB index per test package, fresh subjects, and waiting on conditions.
//
// A test package that uses DB or Redis runs through Main:
//
//	func TestMain(m *testing.M) { testkit.Main(m) }
package testkit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/uptrace/bun"

	"github.com/originhub/originhub/internal/db"
	"github.com/originhub/originhub/migrations"
)

// Server addresses; overridable for machines where they differ.
var (
	postgresBase = envOr("TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432")
	redisAddr    = envOr("TEST_REDIS_ADDR", "127.0.0.1:6379")
)

// The per-package resources live for the whole test binary (one binary per package), created
// on first use and released by Main.
var pkg struct {
	mu        sync.Mutex
	inMain    bool
	dbURI     string
	db        *bun.DB
	redisDB   int
	redisHeld bool
}

// Main runs the package's tests and then drops the database and frees the Redis DB index
// that the tests used.
func Main(m *testing.M) {
	pkg.inMain = true
	code := m.Run()
	if err := release(); err != nil {
		fmt.Fprintln(os.Stderr, "testkit:", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

// DatabaseURI returns the URI of the package's migrated test database, creating it on first use.
func DatabaseURI(t testing.TB) string {
	t.Helper()
	DB(t)
	return pkg.dbURI
}

// DB returns the package's migrated test database, creating it on first use.
func DB(t testing.TB) *bun.DB {
	t.Helper()
	pkg.mu.Lock()
	defer pkg.mu.Unlock()
	if !pkg.inMain {
		t.Fatal("testkit.DB needs func TestMain(m *testing.M) { testkit.Main(m) } in the package")
	}
	if pkg.db != nil {
		return pkg.db
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	uri := fmt.Sprintf("%s/originhub_test_%s?sslmode=disable", postgresBase, randomHex(6))
	if _, err := db.EnsureDatabase(ctx, uri); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	pkg.dbURI = uri
	d, err := db.Open(ctx, db.Options{URI: uri, PoolSize: 20})
	if err != nil {
		t.Fatalf("open test database: %v", err)
	}
	if _, err := migrations.Up(ctx, d); err != nil {
		t.Fatalf("migrate test database: %v", err)
	}
	pkg.db = d
	return d
}

// FreshDatabase creates an empty database for one test and drops it at the end of the test.
func FreshDatabase(t testing.TB) string {
	t.Helper()
	uri := fmt.Sprintf("%s/originhub_test_%s?sslmode=disable", postgresBase, randomHex(6))
	if _, err := db.EnsureDatabase(t.Context(), uri); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		if err := db.DropDatabase(context.Background(), uri); err != nil {
			t.Errorf("drop database: %v", err)
		}
	})
	return uri
}

// Redis DB indexes 0-2 are the dev defaults (cache, broker, backend); tests take 3-15.
const firstTestRedisDB, lastTestRedisDB = 3, 15

// RedisOptions returns connection options for the package's own Redis DB index, reserving
// and flushing it on first use.
func RedisOptions(t testing.TB) *redis.Options {
	t.Helper()
	pkg.mu.Lock()
	defer pkg.mu.Unlock()
	if !pkg.inMain {
		t.Fatal("testkit.Redis needs func TestMain(m *testing.M) { testkit.Main(m) } in the package")
	}
	if !pkg.redisHeld {
		n, err := reserveRedisDB()
		if err != nil {
			t.Fatalf("reserve redis db: %v", err)
		}
		pkg.redisDB, pkg.redisHeld = n, true
	}
	return &redis.Options{Addr: redisAddr, DB: pkg.redisDB}
}

// Redis returns a client on the package's own Redis DB index; it is closed after the test.
func Redis(t testing.TB) *redis.Client {
	t.Helper()
	c := redis.NewClient(RedisOptions(t))
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// reserveRedisDB claims a free index with a lease key in DB 0, so that test packages
// running in parallel never share a database. The lease expires if a test binary dies.
func reserveRedisDB() (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := redis.NewClient(&redis.Options{Addr: redisAddr})
	defer c.Close()
	owner := fmt.Sprintf("%d-%s", os.Getpid(), randomHex(4))
	for {
		for n := firstTestRedisDB; n <= lastTestRedisDB; n++ {
			ok, err := c.SetNX(ctx, leaseKey(n), owner, 30*time.Minute).Result()
			if err != nil {
				return 0, err
			}
			if ok {
				flush := redis.NewClient(&redis.Options{Addr: redisAddr, DB: n})
				defer flush.Close()
				return n, flush.FlushDB(ctx).Err()
			}
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("no free redis db index in %d..%d", firstTestRedisDB, lastTestRedisDB)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func leaseKey(n int) string { return fmt.Sprintf("originhub:testkit:redis-db:%d", n) }

func release() error {
	pkg.mu.Lock()
	defer pkg.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var errs []string
	if pkg.db != nil {
		if err := pkg.db.Close(); err != nil {
			errs = append(errs, "close db: "+err.Error())
		}
	}
	if pkg.dbURI != "" {
		if err := db.DropDatabase(ctx, pkg.dbURI); err != nil {
			errs = append(errs, err.Error())
		}
	}
	if pkg.redisHeld {
		c := redis.NewClient(&redis.Options{Addr: redisAddr, DB: pkg.redisDB})
		if err := c.FlushDB(ctx).Err(); err != nil {
			errs = append(errs, "flush redis: "+err.Error())
		}
		_ = c.Close()
		c0 := redis.NewClient(&redis.Options{Addr: redisAddr})
		if err := c0.Del(ctx, leaseKey(pkg.redisDB)).Err(); err != nil {
			errs = append(errs, "free redis db: "+err.Error())
		}
		_ = c0.Close()
	}
	if len(errs) > 0 {
		return fmt.Errorf("release: %s", strings.Join(errs, "; "))
	}
	return nil
}

// Subject returns a subject id no other test uses, so tests can share the package database.
func Subject(t testing.TB) string {
	t.Helper()
	name := strings.NewReplacer("/", "-", " ", "-").Replace(t.Name())
	if len(name) > 40 {
		name = name[:40]
	}
	return name + "-" + randomHex(4)
}

// Eventually waits until cond holds, failing the test after timeout.
func Eventually(t testing.TB, timeout time.Duration, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for wait := 5 * time.Millisecond; ; wait = min(2*wait, 200*time.Millisecond) {
		if cond() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(wait)
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b)
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
