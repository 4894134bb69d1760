package tasks

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"
)

// Periodic is one entry of the schedule.
type Periodic struct {
	Cron string
	Task func() *asynq.Task
}

// Schedule lists the periodic tasks (cron in UTC). Each is enqueued with Unique, so that a
// second scheduler started by mistake does not double the work.
func Schedule() []Periodic {
	return []Periodic{
		{Cron: "@every 1h", Task: NewEnsurePartitionsTask},
		// DataHub publishes readings with a delay of a day or more; hourly keeps us current.
		{Cron: "17 * * * *", Task: NewImportAllTask},
		// Expired GGOs must never count as stored; expiry is checked at use time as well.
		{Cron: "@every 5m", Task: NewExpireGgosTask},
		// Summaries read rollup base + deltas; folding the deltas keeps them fast.
		{Cron: "@every 1m", Task: NewCompactGgoRollupTask},
		{Cron: "@every 1m", Task: NewWebhookSweepTask},
		// Recovers ledger batches whose tasks were lost (crash between commit and enqueue).
		{Cron: "@every 1m", Task: NewLedgerSweepTask},
		// Lost, stuck, failed and day-old disclosure compilations.
		{Cron: "@every 5m", Task: NewDisclosureSweepTask},
	}
}

// NewScheduler returns an asynq scheduler with the schedule registered. Run exactly one.
func NewScheduler(redisOpt asynq.RedisClientOpt, log *slog.Logger) (*asynq.Scheduler, error) {
	s := asynq.NewScheduler(redisOpt, &asynq.SchedulerOpts{
		Location: time.UTC,
		Logger:   slogAdapter{log.With("component", "scheduler")},
		LogLevel: asynq.WarnLevel,
		PostEnqueueFunc: func(info *asynq.TaskInfo, err error) {
			if err != nil && err != asynq.ErrDuplicateTask && err != asynq.ErrTaskIDConflict {
				log.Warn("periodic task not enqueued", "err", err)
			}
		},
	})
	for _, p := range Schedule() {
		if _, err := s.Register(p.Cron, p.Task(), asynq.Unique(30*time.Minute)); err != nil {
			return nil, fmt.Errorf("schedule %s: %w", p.Task().Type(), err)
		}
	}
	return s, nil
}
