// Command originhub runs the OriginHub platform. One binary, several roles:
//
//	originhub serve            API + worker + scheduler (+ dev services), migrating first
//	originhub api              HTTP API only
//	originhub worker           asynq worker only
//	originhub scheduler        periodic task scheduler only (run exactly one)
//	originhub migrate up|down|status
//	originhub token --sub NAME a dev token for the built-in issuer
//	originhub residual-mix import --file F   load mix data for declarations
//	originhub bench ingest|ledger|account  one JSON line of figures (own database, dropped after)
//
// Run `originhub <role> --help` for each role's flags and the environment it reads.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"golang.org/x/term"

	"github.com/originhub/originhub/internal/app"
	"github.com/originhub/originhub/internal/bench"
	"github.com/originhub/originhub/internal/config"
	"github.com/originhub/originhub/internal/db"
	"github.com/originhub/originhub/internal/residualmix"
	"github.com/originhub/originhub/migrations"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.LookupEnv, os.Stdout, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "originhub:", err)
		os.Exit(1)
	}
}

type role struct {
	name, summary string
	run           func(ctx context.Context, env cmdEnv, args []string) error
}

var roles = []role{
	{"serve", "run everything in one process: API, worker, scheduler and, unless real endpoints are configured, the ElOverblik simulator, the stand-in ledger and the dev token issuer; creates and migrates the database first", runServe},
	{"api", "run the HTTP API only (stateless; run N replicas)", runRole(app.Roles{API: true})},
	{"worker", "run the asynq worker only", runRole(app.Roles{Worker: true})},
	{"scheduler", "run the periodic task scheduler only (run exactly one)", runRole(app.Roles{Scheduler: true})},
	{"migrate", "apply (up), roll back the last group of (down) or list (status) database migrations", runMigrate},
	{"token", "print a dev JWT for a subject, accepted by a server in dev-auth mode", runToken},
	{"bench", "run a benchmark and print one JSON line of figures: bench ingest [--rows N] | bench ledger [--clients N] | bench account [--clients N] [--ggos N] [--transfers N] | bench consume [--hours N]", runBench},
	{"residual-mix", "load hourly residual or grid mix data for declarations from a CSV file: residual-mix import --file F", runResidualMix},
}

type cmdEnv struct {
	lookup config.Lookup
	stdout io.Writer
	stderr io.Writer
}

func run(ctx context.Context, args []string, lookup config.Lookup, stdout, stderr io.Writer) error {
	env := cmdEnv{lookup: lookup, stdout: stdout, stderr: stderr}
	name := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	} else if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
		usage(stdout)
		return flag.ErrHelp
	}
	for _, r := range roles {
		if r.name == name {
			return r.run(ctx, env, args)
		}
	}
	usage(stderr)
	return fmt.Errorf("unknown role %q", name)
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: originhub <role> [flags]   (default role: serve)")
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, r := range roles {
		fmt.Fprintf(tw, "  %s\t%s\n", r.name, r.summary)
	}
	_ = tw.Flush()
	fmt.Fprintln(w, "\nRun 'originhub <role> --help' for the role's flags and environment variables.")
}

// newFlags returns a flag set whose --help also lists the environment variables.
func newFlags(env cmdEnv, name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "usage: originhub %s\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
		fmt.Fprintln(w, "\nEnvironment:")
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		for _, v := range config.Variables {
			def := v.Default
			if def == "" {
				def = "(empty)"
			}
			fmt.Fprintf(tw, "  %s\t%s\tdefault %s\n", v.Name, v.Doc, def)
		}
		_ = tw.Flush()
	}
	return fs
}

// load reads the configuration and builds the logger.
func load(env cmdEnv) (config.Config, *slog.Logger, error) {
	cfg, err := config.Load(env.lookup)
	if err != nil {
		return config.Config{}, nil, fmt.Errorf("configuration: %w", err)
	}
	return cfg, newLogger(env.stderr, cfg.Debug), nil
}

// newLogger logs JSON, or text when writing to a terminal.
func newLogger(w io.Writer, debug bool) *slog.Logger {
	opts := &slog.HandlerOptions{Level: slog.LevelInfo}
	if debug {
		opts.Level = slog.LevelDebug
	}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

func runServe(ctx context.Context, env cmdEnv, args []string) error {
	fs := newFlags(env, "serve", "serve [flags]")
	addr := fs.String("addr", "", "listen address (overrides HTTP_ADDR)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, log, err := load(env)
	if err != nil {
		return err
	}
	if *addr != "" {
		cfg.HTTP.Addr = *addr
	}
	if err := prepareDatabase(ctx, cfg, log); err != nil {
		return err
	}
	a, err := app.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	return listenAndRun(ctx, a, app.Roles{API: true, Worker: true, Scheduler: true})
}

// prepareDatabase creates the database if it is missing and applies pending migrations.
func prepareDatabase(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	created, err := db.EnsureDatabase(ctx, cfg.Database.URI)
	if err != nil {
		return err
	}
	if created {
		log.Info("database created", "database", cfg.Database.DatabaseName())
	}
	d, err := db.Open(ctx, db.Options{URI: cfg.Database.URI, PoolSize: 2})
	if err != nil {
		return err
	}
	defer d.Close()
	applied, err := migrations.Up(ctx, d)
	if err != nil {
		return err
	}
	if len(applied) > 0 {
		log.Info("migrations applied", "count", len(applied), "last", applied[len(applied)-1])
	}
	return nil
}

func runRole(r app.Roles) func(context.Context, cmdEnv, []string) error {
	return func(ctx context.Context, env cmdEnv, args []string) error {
		fs := newFlags(env, "role", "api|worker|scheduler")
		if err := fs.Parse(args); err != nil {
			return err
		}
		cfg, log, err := load(env)
		if err != nil {
			return err
		}
		a, err := app.New(ctx, cfg, log)
		if err != nil {
			return err
		}
		defer a.Close()
		return listenAndRun(ctx, a, r)
	}
}

func listenAndRun(ctx context.Context, a *app.App, r app.Roles) error {
	var ln net.Listener
	if r.API {
		var err error
		if ln, err = net.Listen("tcp", a.Config.HTTP.Addr); err != nil {
			return fmt.Errorf("listen on HTTP_ADDR %s: %w", a.Config.HTTP.Addr, err)
		}
		a.Log.Info("originhub ready", "graphql", a.Config.ProjectURL.String()+"/graphql", "graphiql", a.Config.ProjectURL.String()+"/graphiql/", "dev_auth", a.DevIssuer != nil)
	}
	return a.RunRoles(ctx, r, ln)
}

func runMigrate(ctx context.Context, env cmdEnv, args []string) error {
	fs := newFlags(env, "migrate", "migrate up|down|status")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errors.New("migrate needs one of up, down, status")
	}
	cfg, _, err := load(env)
	if err != nil {
		return err
	}
	if fs.Arg(0) == "up" {
		if _, err := db.EnsureDatabase(ctx, cfg.Database.URI); err != nil {
			return err
		}
	}
	d, err := db.Open(ctx, db.Options{URI: cfg.Database.URI, PoolSize: 2})
	if err != nil {
		return err
	}
	defer d.Close()
	switch fs.Arg(0) {
	case "up", "down":
		step := migrations.Up
		if fs.Arg(0) == "down" {
			step = migrations.Down
		}
		names, err := step(ctx, d)
		if err != nil {
			return err
		}
		if len(names) == 0 {
			fmt.Fprintln(env.stdout, "nothing to do")
		}
		for _, n := range names {
			fmt.Fprintf(env.stdout, "%s %s\n", fs.Arg(0), n)
		}
		return nil
	case "status":
		ms, err := migrations.Status(ctx, d)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
		for _, m := range ms {
			state := "pending"
			if m.IsApplied() {
				state = fmt.Sprintf("applied (group %d, %s)", m.GroupID, m.MigratedAt.UTC().Format(time.RFC3339))
			}
			fmt.Fprintf(tw, "%s\t%s\n", m.Name, state)
		}
		return tw.Flush()
	}
	fs.Usage()
	return fmt.Errorf("unknown migrate command %q", fs.Arg(0))
}

func runToken(ctx context.Context, env cmdEnv, args []string) error {
	fs := newFlags(env, "token", "token --sub NAME [--ttl 24h]")
	sub := fs.String("sub", "", "subject (user) the token is for")
	ttl := fs.Duration("ttl", 24*time.Hour, "token lifetime")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if strings.TrimSpace(*sub) == "" {
		fs.Usage()
		return errors.New("token needs --sub NAME")
	}
	cfg, log, err := load(env)
	if err != nil {
		return err
	}
	if !cfg.Auth.DevMode() {
		return errors.New("token works only in dev-auth mode (AUTH_JWKS_URL is set: get tokens from your issuer)")
	}
	// The dev key lives in the database; a token asked for before the first serve still works.
	if err := prepareDatabase(ctx, cfg, log); err != nil {
		return err
	}
	a, err := app.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	tok, err := a.DevIssuer.Mint(*sub, *ttl)
	if err != nil {
		return fmt.Errorf("mint token: %w", err)
	}
	fmt.Fprintln(env.stdout, tok)
	return nil
}

func runBench(ctx context.Context, env cmdEnv, args []string) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fs := newFlags(env, "bench", "bench ingest [--rows N]")
		if err := fs.Parse(args); err != nil {
			return err
		}
		fs.Usage()
		return errors.New("bench needs a benchmark name: ingest, ledger, account or consume")
	}
	name, args := args[0], args[1:]
	cfg, _, err := load(env)
	if err != nil {
		return err
	}
	switch name {
	case "ingest":
		fs := newFlags(env, "bench ingest", "bench ingest [--rows N]")
		rows := fs.Int64("rows", 5_000_000, "hourly readings to import")
		workers := fs.Int("workers", 2, "windows imported at once (the worker runs CONCURRENCY tasks in parallel)")
		if err := fs.Parse(args); err != nil {
			return err
		}
		if *workers < 1 {
			return errors.New("--workers must be at least 1")
		}
		res, err := bench.Ingest(ctx, cfg.Database.URI, *rows, *workers)
		if err != nil {
			return err
		}
		return json.NewEncoder(env.stdout).Encode(res)
	case "ledger":
		return runBenchLedger(ctx, env, args)
	case "consume":
		return runBenchConsume(ctx, env, args)
	case "account":
		return runBenchAccount(ctx, env, args)
	}
	return fmt.Errorf("unknown benchmark %q", name)
}

func runResidualMix(ctx context.Context, env cmdEnv, args []string) error {
	const synopsis = "residual-mix import --file F [--kind residual|grid] [--source NAME] [--replace-range]"
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fs := newFlags(env, "residual-mix", synopsis)
		if err := fs.Parse(args); err != nil {
			return err
		}
		fs.Usage()
		return errors.New("residual-mix needs a command: import")
	}
	if args[0] != "import" {
		return fmt.Errorf("unknown residual-mix command %q (want import)", args[0])
	}
	fs := newFlags(env, "residual-mix import", synopsis)
	file := fs.String("file", "", "CSV file with columns "+strings.Join(residualmix.Columns, ",")+" (docs/residual-mix.md)")
	kind := fs.String("kind", string(residualmix.Residual), "which mix the file holds: residual (for the uncovered consumption) or grid (general declaration)")
	source := fs.String("source", "", "dataset name stored with every row (default: the file's name)")
	replace := fs.Bool("replace-range", false, "also delete stored hours between the file's first and last hour that the file lacks")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *file == "" {
		fs.Usage()
		return errors.New("residual-mix import needs --file F")
	}
	k, err := residualmix.ParseKind(*kind)
	if err != nil {
		return fmt.Errorf("--kind: %w", err)
	}
	if *source == "" {
		*source = filepath.Base(*file)
	}
	f, err := os.Open(*file)
	if err != nil {
		return fmt.Errorf("open mix file: %w", err)
	}
	defer f.Close()
	cfg, log, err := load(env)
	if err != nil {
		return err
	}
	if err := prepareDatabase(ctx, cfg, log); err != nil {
		return err
	}
	d, err := db.Open(ctx, db.Options{URI: cfg.Database.URI, PoolSize: 2})
	if err != nil {
		return err
	}
	defer d.Close()
	res, err := residualmix.NewStore(d).Import(ctx, bufio.NewReaderSize(f, 1<<20), residualmix.ImportOptions{Kind: k, Source: *source, ReplaceRange: *replace})
	if err != nil {
		return err
	}
	fmt.Fprintln(env.stdout, res)
	return nil
}
