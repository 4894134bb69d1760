package tasks_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/originhub/originhub/tasks"
)

// TestLedgerPayloadsRejectedWithoutRetry sends malformed payloads to the ledger handlers:
// each fails with SkipRetry before touching a service.
func TestLedgerPayloadsRejectedWithoutRetry(t *testing.T) {
	h := &tasks.Handlers{}
	tests := []struct {
		name    string
		handler func(context.Context, *asynq.Task) error
		typ     string
		payload string
	}{
		{"submit not json", h.HandleLedgerSubmit, tasks.TypeLedgerSubmit, "{"},
		{"submit without id", h.HandleLedgerSubmit, tasks.TypeLedgerSubmit, `{}`},
		{"poll without id", h.HandleLedgerPoll, tasks.TypeLedgerPoll, `{"batchId":""}`},
		{"publish without point", h.HandlePublishMeasurements, tasks.TypePublishMeasurements, `{"from":"2026-01-01T00:00:00Z","to":"2026-01-02T00:00:00Z"}`},
		{"publish reversed window", h.HandlePublishMeasurements, tasks.TypePublishMeasurements, `{"meteringPointId":1,"from":"2026-01-02T00:00:00Z","to":"2026-01-01T00:00:00Z"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.handler(t.Context(), asynq.NewTask(tc.typ, []byte(tc.payload)))
			if !errors.Is(err, asynq.SkipRetry) {
				t.Fatalf("handler(%s) = %v, want SkipRetry", tc.payload, err)
			}
		})
	}
}

// TestLedgerTaskIDs checks that task ids come from the business key, so enqueueing the same
// work twice is harmless, while poll rounds stay distinct.
func TestLedgerTaskIDs(t *testing.T) {
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a, _ := tasks.NewPublishMeasurementsTask(7, from, from.Add(24*time.Hour))
	b, _ := tasks.NewPublishMeasurementsTask(7, from, from.Add(24*time.Hour))
	if a.Type() != tasks.TypePublishMeasurements || string(a.Payload()) != string(b.Payload()) {
		t.Fatalf("NewPublishMeasurementsTask() = %s %s, want equal payloads", a.Payload(), b.Payload())
	}
	if want := `{"meteringPointId":7,"from":"2026-01-01T00:00:00Z","to":"2026-01-02T00:00:00Z"}`; string(a.Payload()) != want {
		t.Fatalf("payload = %s, want %s", a.Payload(), want)
	}
	s, _ := tasks.NewLedgerSubmitTask("ab")
	if s.Type() != tasks.TypeLedgerSubmit || string(s.Payload()) != `{"batchId":"ab"}` {
		t.Fatalf("NewLedgerSubmitTask() = %s %s", s.Type(), s.Payload())
	}
}
