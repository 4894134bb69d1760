// Package tasks holds OriginHub's asynq task types, their handlers, the worker's queue
// configuration and the periodic schedule.
package tasks

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/hibiken/asynq"
)

// Queues and their priorities: ledger work keeps balances moving, so it goes first; imports
// are bulk and may wait.
var Queues = map[string]int{
	QueueLedger:  6,
	QueueDefault: 3,
	QueueImport:  2,
	QueueWebhook: 1,
}

// Queue names.
const (
	QueueLedger  = "ledger"
	QueueDefault = "default"
	QueueImport  = "import"
	QueueWebhook = "webhook"
)

// ServerConfig configures the worker.
type ServerConfig struct {
	Concurrency     int
	ShutdownTimeout time.Duration
	Queues          map[string]int // nil: all queues
}

// NewServer returns an asynq worker on redisOpt.
func NewServer(redisOpt asynq.RedisClientOpt, cfg ServerConfig, log *slog.Logger) *asynq.Server {
	queues := cfg.Queues
	if queues == nil {
		queues = Queues
	}
	return asynq.NewServer(redisOpt, asynq.Config{
		Concurrency:     cfg.Concurrency,
		Queues:          queues,
		ShutdownTimeout: cfg.ShutdownTimeout,
		RetryDelayFunc:  retryDelay,
		Logger:          slogAdapter{log.With("component", "asynq")},
		LogLevel:        asynq.WarnLevel,
		ErrorHandler: asynq.ErrorHandlerFunc(func(ctx context.Context, t *asynq.Task, err error) {
			retried, _ := asynq.GetRetryCount(ctx)
			maxRetry, _ := asynq.GetMaxRetry(ctx)
			id, _ := asynq.GetTaskID(ctx)
			level := slog.LevelWarn
			if retried >= maxRetry || errors.Is(err, asynq.SkipRetry) {
				level = slog.LevelError // no more tries: an operator should look
			}
			log.Log(ctx, level, "task failed", "task_type", t.Type(), "task_id", id, "retry", retried, "max_retry", maxRetry, "err", err)
		}),
		// Ledger polls are scheduled a few hundred ms ahead; asynq's default 5 s check
		// would add seconds to every batch's way to COMMITTED.
		DelayedTaskCheckInterval: 100 * time.Millisecond,
		// Likewise an idle worker looks for new tasks every 1 s by default.
		TaskCheckInterval: 50 * time.Millisecond,
	})
}

// retryDelay backs off exponentially from 2 s to 10 min, with jitter so that a burst of
// failures does not retry in lockstep. An error that names its own delay (RetryAfter, as
// webhook deliveries do, whose log shows the next attempt time) gets exactly that.
func retryDelay(n int, err error, _ *asynq.Task) time.Duration {
	var ra interface{ RetryAfter() time.Duration }
	if errors.As(err, &ra) && ra.RetryAfter() > 0 {
		return ra.RetryAfter()
	}
	d := 2 * time.Second << min(n, 9)
	d = min(d, 10*time.Minute)
	return d/2 + rand.N(d/2+1)
}

// NewMux returns a mux with every handler registered and the logging middleware.
func NewMux(h *Handlers) *asynq.ServeMux {
	mux := asynq.NewServeMux()
	mux.Use(func(next asynq.Handler) asynq.Handler {
		return asynq.HandlerFunc(func(ctx context.Context, t *asynq.Task) error {
			start := time.Now()
			err := next.ProcessTask(ctx, t)
			id, _ := asynq.GetTaskID(ctx)
			h.Log.DebugContext(ctx, "task processed", "task_type", t.Type(), "task_id", id, "duration_ms", time.Since(start).Milliseconds(), "ok", err == nil)
			return err
		})
	})
	h.register(mux)
	return mux
}

// slogAdapter lets asynq log through slog.
type slogAdapter struct{ log *slog.Logger }

func (a slogAdapter) Debug(args ...any) { a.log.Debug(fmt.Sprint(args...)) }
func (a slogAdapter) Info(args ...any)  { a.log.Info(fmt.Sprint(args...)) }
func (a slogAdapter) Warn(args ...any)  { a.log.Warn(fmt.Sprint(args...)) }
func (a slogAdapter) Error(args ...any) { a.log.Error(fmt.Sprint(args...)) }
func (a slogAdapter) Fatal(args ...any) { a.log.Error(fmt.Sprint(args...)) }
