package forecast_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/originhub/originhub/internal/forecast"
	"github.com/originhub/originhub/internal/testkit"
	"github.com/originhub/originhub/internal/user"
	"github.com/originhub/originhub/internal/webhook"
	"github.com/originhub/originhub/models"
)

func TestMain(m *testing.M) { testkit.Main(m) }

// recorder is a Publisher that keeps what was published.
type recorder struct {
	mu     sync.Mutex
	topics []string
}

func (r *recorder) Publish(_ context.Context, topic string, _ []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.topics = append(r.topics, topic)
	return nil
}

type noQueue struct{}

func (noQueue) EnqueueWebhookDelivery(context.Context, int64) error { return nil }

func TestSubmitListAndVisibility(t *testing.T) {
	db := testkit.DB(t)
	ctx := t.Context()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	wh, err := webhook.NewService(db, webhook.Config{DefaultSecret: "s", SealSecret: "seal", AllowPrivateTargets: true}, noQueue{}, log, func() time.Time { return time.Now().UTC() })
	if err != nil {
		t.Fatal(err)
	}
	bus := &recorder{}
	s := forecast.NewService(db, wh, bus, log)
	us := user.NewService(db)
	var u [3]models.User
	for i := range u {
		if u[i], err = us.Ensure(ctx, testkit.Subject(t)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := wh.Subscribe(ctx, u[1].ID, webhook.SubscribeInput{Event: models.WebhookForecastReceived, URL: "http://127.0.0.1:9/hook"}); err != nil {
		t.Fatal(err)
	}
	begin := time.Date(2027, 5, 1, 0, 0, 0, 0, time.UTC)
	ok := forecast.SubmitInput{RecipientReference: u[1].AccountReference, Reference: "wind", Sector: models.SectorDK1, Begin: begin, Resolution: time.Hour, Values: []int64{1, 2, 3}}
	tests := []struct {
		name  string
		edit  func(*forecast.SubmitInput)
		field string
	}{
		{"sector", func(in *forecast.SubmitInput) { in.Sector = "DK3" }, "input.sector"},
		{"resolution zero", func(in *forecast.SubmitInput) { in.Resolution = 0 }, "input.resolution"},
		{"resolution fraction", func(in *forecast.SubmitInput) { in.Resolution = 90*time.Second + time.Millisecond }, "input.resolution"},
		{"no values", func(in *forecast.SubmitInput) { in.Values = nil }, "input.values"},
		{"negative value", func(in *forecast.SubmitInput) { in.Values = []int64{1, -1} }, "input.values.1"},
		{"no reference", func(in *forecast.SubmitInput) { in.Reference = " " }, "input.reference"},
		{"unknown account", func(in *forecast.SubmitInput) { in.RecipientReference = "OH-NOPE" }, "input.account"},
		{"own account", func(in *forecast.SubmitInput) { in.RecipientReference = u[0].AccountReference }, "input.account"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := ok
			tc.edit(&in)
			_, err := s.Submit(ctx, u[0].ID, in)
			var ie *forecast.InputError
			if !errors.As(err, &ie) || ie.Field != tc.field {
				t.Fatalf("Submit() = %v, want InputError on %s", err, tc.field)
			}
		})
	}
	first, err := s.Submit(ctx, u[0].ID, ok)
	if err != nil {
		t.Fatal(err)
	}
	if !first.EndAt.Equal(begin.Add(3*time.Hour)) || first.PublicID == "" {
		t.Fatalf("Submit() = %+v, want end at begin + 3 h and a public id", first)
	}
	second := ok
	second.Reference, second.Begin = "solar", begin.Add(24*time.Hour)
	if _, err := s.Submit(ctx, u[0].ID, second); err != nil {
		t.Fatal(err)
	}
	if len(bus.topics) != 2 || bus.topics[0] != forecast.Topic(u[1].ID) {
		t.Fatalf("published to %v, want the recipient's topic twice", bus.topics)
	}
	var hooks int
	if err := db.NewRaw("SELECT count(*) FROM webhook_deliveries WHERE user_id = ? AND event = 'FORECAST_RECEIVED'", u[1].ID).Scan(ctx, &hooks); err != nil || hooks != 2 {
		t.Fatalf("%d FORECAST_RECEIVED deliveries (%v), want 2", hooks, err)
	}
	for _, who := range []int64{u[0].ID, u[1].ID} {
		fs, total, err := s.List(ctx, who, forecast.Query{})
		if err != nil || total != 2 || fs[0].Reference != "solar" {
			t.Fatalf("List(party %d) = %d (%v), want 2, newest (solar) first", who, total, err)
		}
		at := begin.Add(90 * time.Minute)
		got, err := s.Newest(ctx, who, forecast.Query{At: &at})
		if err != nil || got.Reference != "wind" {
			t.Fatalf("Newest(at) = %+v, %v, want wind", got, err)
		}
		if got, err := s.Newest(ctx, who, forecast.Query{PublicID: first.PublicID}); err != nil || got.ID != first.ID {
			t.Fatalf("Newest(id) = %+v, %v", got, err)
		}
	}
	if fs, total, err := s.List(ctx, u[2].ID, forecast.Query{}); err != nil || total != 0 || len(fs) != 0 {
		t.Fatalf("stranger List() = %d, %v, want none", total, err)
	}
	if _, err := s.Newest(ctx, u[2].ID, forecast.Query{PublicID: first.PublicID}); !errors.Is(err, forecast.ErrNotFound) {
		t.Fatalf("stranger Newest(id) = %v, want ErrNotFound", err)
	}
	sent, received, err := s.Series(ctx, u[0].ID)
	if err != nil || len(sent) != 2 || len(received) != 0 {
		t.Fatalf("Series() = %v, %v, %v", sent, received, err)
	}
}
