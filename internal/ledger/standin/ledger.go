// Package standin is a local stand-in for the Project Origin ledger
// (Hyperledger Sawtooth 1.2 with the datahub transaction processor). It
// serves the same REST API (POST /batches, GET /batch_statuses,
// GET /state/{address}), verifies batches as the validator does, executes
// the six transaction families with the processor's rules and error texts,
// and keeps its state and batch statuses in Postgres under its own schema.
//
// Batches are applied first-in first-out, each all or nothing, CommitDelay
// after their submission, by CommitDue (called by Run in a loop). Statuses
// move PENDING → COMMITTED | INVALID.
package standin

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"regexp"
	"time"

	"github.com/uptrace/bun"
)

// Mode selects how faithful the stand-in is to the reference processor.
type Mode int

const (
	// Strict (the default) also rejects what the real processor lets
	// through (spec section 12): non-positive or repeated split parts, a
	// retire without its settlement in the same batch, non-UTC or unaligned
	// hours, addresses in the wrong namespace or with a bad checksum, and a
	// measurement issued to another key's GGO address (re-issue). Cases the
	// real ledger would leave PENDING forever become INVALID. Every such
	// message starts with "stand-in: ".
	Strict Mode = iota
	// Compatible reproduces the reference exactly, gaps included.
	Compatible
)

// String returns "strict" or "compatible".
func (m Mode) String() string {
	if m == Compatible {
		return "compatible"
	}
	return "strict"
}

// ParseMode parses "strict" or "compatible".
func ParseMode(s string) (Mode, error) {
	switch s {
	case "strict", "":
		return Strict, nil
	case "compatible":
		return Compatible, nil
	}
	return Strict, fmt.Errorf("ledger stand-in mode %q: want strict or compatible", s)
}

// Options configure a Ledger. The zero value is usable.
type Options struct {
	// Schema is the Postgres schema holding the stand-in's tables
	// (default "standin"): lowercase letters, digits and underscores.
	Schema string
	// Mode is Strict (default) or Compatible.
	Mode Mode
	// CommitDelay is how long a batch stays PENDING before it is applied.
	CommitDelay time.Duration
	// PollInterval bounds how long Run sleeps between looks for due
	// batches submitted through another process (default 1 s).
	PollInterval time.Duration
	// MaxBatchesPerRound bounds the batches applied in one database
	// transaction (default 500).
	MaxBatchesPerRound int
	// MaxPending, when positive, makes POST /batches answer 429 (code 31,
	// queue full) while that many batches are pending, as the validator
	// does under back-pressure. Zero means no limit.
	MaxPending int
	// MaxBodyBytes bounds a POST /batches body (default 16 MiB).
	MaxBodyBytes int64
	// Clock returns the current time (default time.Now().UTC()).
	Clock func() time.Time
	// Logger receives lifecycle and problem reports (default: discarded).
	Logger *slog.Logger
}

// Ledger is the stand-in. It is safe for concurrent use, and several
// processes may share one schema: rounds are serialised by an advisory lock.
type Ledger struct {
	db      *bun.DB
	opts    Options
	schema  string
	lockKey int64
	wake    chan struct{}
}

var schemaRe = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// New returns a stand-in on db. Call Migrate before serving.
func New(db *bun.DB, opts Options) (*Ledger, error) {
	if db == nil {
		return nil, errors.New("ledger stand-in: nil db")
	}
	if opts.Schema == "" {
		opts.Schema = "standin"
	}
	if !schemaRe.MatchString(opts.Schema) {
		return nil, fmt.Errorf("ledger stand-in: schema %q is not a plain lowercase identifier", opts.Schema)
	}
	if opts.Mode != Strict && opts.Mode != Compatible {
		return nil, fmt.Errorf("ledger stand-in: unknown mode %d", opts.Mode)
	}
	if opts.CommitDelay < 0 {
		return nil, errors.New("ledger stand-in: negative commit delay")
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = time.Second
	}
	if opts.MaxBatchesPerRound <= 0 {
		opts.MaxBatchesPerRound = 500
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = 16 << 20
	}
	if opts.Clock == nil {
		opts.Clock = func() time.Time { return time.Now().UTC() }
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	h := fnv.New64a()
	h.Write([]byte("originhub ledger stand-in " + opts.Schema))
	return &Ledger{db: db, opts: opts, schema: opts.Schema, lockKey: int64(h.Sum64()), wake: make(chan struct{}, 1)}, nil
}

// Mode returns the mode the stand-in runs in.
func (l *Ledger) Mode() Mode { return l.opts.Mode }

// Run applies due batches until ctx is cancelled, waking when a batch is
// submitted through this Ledger, when the next pending batch falls due, or
// every PollInterval. It returns nil on cancellation. Database errors are
// logged and retried after PollInterval.
func (l *Ledger) Run(ctx context.Context) error {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		case <-l.wake:
		}
		wait := l.opts.PollInterval
		if _, err := l.CommitDue(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			l.opts.Logger.Warn("ledger stand-in commit round failed", "error", err)
		} else if next, ok, err := l.nextDue(ctx); err == nil && ok {
			if d := next.Sub(l.opts.Clock()); d < wait {
				wait = max(d, time.Millisecond)
			}
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(wait)
	}
}

func (l *Ledger) signal() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}
