package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/originhub/originhub/internal/bench"
)

// runBench runs one named benchmark and prints its figures as one JSON line on stdout.
func runBench(ctx context.Context, env cmdEnv, args []string) error {
	fs := newFlags(env, "bench", "bench ledger [flags]")
	clients := fs.Int("clients", 100, "parallel clients of the end-to-end part")
	redisDB := fs.Int("redis-db", 15, "Redis DB index the benchmarked platform uses (flushed before and after)")
	// The name may come before the flags (bench ledger --clients 10) or after them.
	var name string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if name == "" && fs.NArg() == 1 {
		name = fs.Arg(0)
	}
	if name != "ledger" {
		fs.Usage()
		return errors.New("bench needs a benchmark name: ledger")
	}
	// Progress and problems go to stderr; stdout carries only the result line.
	log := slog.New(slog.NewTextHandler(env.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	res, err := bench.Ledger(ctx, env.lookup, log, bench.LedgerOptions{Clients: *clients, RedisDB: *redisDB})
	if err != nil {
		return fmt.Errorf("bench ledger: %w", err)
	}
	b, err := json.Marshal(res)
	if err != nil {
		return err
	}
	fmt.Fprintln(env.stdout, string(b))
	return nil
}
