package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/originhub/originhub/internal/bench"
)

// runBenchLedger runs `bench ledger` and prints its figures as one JSON line on stdout.
func runBenchLedger(ctx context.Context, env cmdEnv, args []string) error {
	fs := newFlags(env, "bench ledger", "bench ledger [--clients N] [--redis-db N]")
	clients := fs.Int("clients", 100, "parallel clients of the end-to-end part")
	redisDB := fs.Int("redis-db", 15, "Redis DB index the benchmarked platform uses (flushed before and after)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	// Progress and problems go to stderr; stdout carries only the result line.
	log := slog.New(slog.NewTextHandler(env.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	res, err := bench.Ledger(ctx, env.lookup, log, bench.LedgerOptions{Clients: *clients, RedisDB: *redisDB})
	if err != nil {
		return fmt.Errorf("bench ledger: %w", err)
	}
	return json.NewEncoder(env.stdout).Encode(res)
}

// runBenchConsume runs `bench consume` and prints its figures as one JSON line on stdout.
func runBenchConsume(ctx context.Context, env cmdEnv, args []string) error {
	fs := newFlags(env, "bench consume", "bench consume [--hours N] [--workers N] [--redis-db N]")
	hours := fs.Int("hours", 31*24, "hours of production to consume")
	workers := fs.Int("workers", 8, "hours consumed at once")
	redisDB := fs.Int("redis-db", 14, "Redis DB index the benchmarked platform uses (flushed before and after)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(env.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	res, err := bench.Consume(ctx, env.lookup, log, bench.ConsumeOptions{Hours: *hours, Workers: *workers, RedisDB: *redisDB})
	if err != nil {
		return fmt.Errorf("bench consume: %w", err)
	}
	return json.NewEncoder(env.stdout).Encode(res)
}
