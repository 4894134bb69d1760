package tasks

import (
	"log/slog"
	"time"

	"github.com/hibiken/asynq"
	"github.com/uptrace/bun"
)

// Handlers holds what task handlers need.
type Handlers struct {
	DB    *bun.DB
	Log   *slog.Logger
	Clock func() time.Time
}

func (h *Handlers) register(mux *asynq.ServeMux) {
	mux.HandleFunc(TypeEnsurePartitions, h.HandleEnsurePartitions)
}
