package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"runtime/pprof"

	"github.com/originhub/originhub/internal/bench"
)

// runBenchLedger runs `bench ledger` and prints its figures as one JSON line on stdout.
func runBenchLedger(ctx context.Context, env cmdEnv, args []string) error {
	fs := newFlags(env, "bench ledger", "bench ledger [--clients N] [--redis-db N]")
	clients := fs.Int("clients", 100, "parallel clients of the end-to-end part")
	redisDB := fs.Int("redis-db", -1, "Redis DB index the benchmarked platform uses, flushed before and after (-1: lease a free one as tests do)")
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
	fs := newFlags(env, "bench consume", "bench consume [--hours N] [--workers N] [--redis-db N] [--cpuprofile F] [--cpu] [--ledger-live]")
	hours := fs.Int("hours", 31*24, "hours of production to consume")
	workers := fs.Int("workers", 1, "concurrent ConsumePeriod calls, each over its share of the hours")
	redisDB := fs.Int("redis-db", -1, "Redis DB index the benchmarked platform uses, flushed before and after (-1: lease a free one as tests do)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the timed part to this file")
	cpu := fs.Bool("cpu", false, "say on stderr how busy the cores were while timed, and how much of it was this process")
	ledgerLive := fs.Bool("ledger-live", false, "keep submitting batches to the in-process ledger stand-in while consumption is timed")
	if err := fs.Parse(args); err != nil {
		return err
	}
	o := bench.ConsumeOptions{Hours: *hours, Workers: *workers, RedisDB: *redisDB, LedgerLive: *ledgerLive}
	if *cpu {
		o.CPUReport = env.stderr
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		o.CPUProfile = f
	}
	log := slog.New(slog.NewTextHandler(env.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	res, err := bench.Consume(ctx, env.lookup, log, o)
	if err != nil {
		return fmt.Errorf("bench consume: %w", err)
	}
	return json.NewEncoder(env.stdout).Encode(res)
}

// runBenchAccount runs `bench account` and prints its figures as one JSON line on stdout.
func runBenchAccount(ctx context.Context, env cmdEnv, args []string) error {
	fs := newFlags(env, "bench account", "bench account [--clients 50] [--ggos 1000000] [--transfers N] [--summaries N] [--redis-db N]")
	clients := fs.Int("clients", 50, "concurrent clients transferring from one account")
	ggos := fs.Int("ggos", 1_000_000, "GGOs of the summarised account (one year)")
	transfers := fs.Int("transfers", 2000, "transfers requested in all")
	summaries := fs.Int("summaries", 50, "timed ggoSummary requests")
	redisDB := fs.Int("redis-db", -1, "Redis DB index the benchmarked platform uses, flushed before and after (-1: lease a free one as tests do)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	log := slog.New(slog.NewTextHandler(env.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	res, err := bench.Account(ctx, env.lookup, log, bench.AccountOptions{
		Clients: *clients, GGOs: *ggos, Transfers: *transfers, Summaries: *summaries, RedisDB: *redisDB,
	})
	if err != nil {
		return fmt.Errorf("bench account: %w", err)
	}
	return json.NewEncoder(env.stdout).Encode(res)
}
