package forecast_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/originhub/originhub/internal/forecast"
	"github.com/originhub/originhub/internal/relay"
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
		{"resolution zero", func(in *forecast.SubmitInput) { in.Resolution = 0 }, "input.resolutionSeconds"},
		{"resolution fraction", func(in *forecast.SubmitInput) { in.Resolution = 90*time.Second + time.Millisecond }, "input.resolutionSeconds"},
		{"no values", func(in *forecast.SubmitInput) { in.Values = nil }, "input.values"},
		{"negative value", func(in *forecast.SubmitInput) { in.Values = []int64{1, -1} }, "input.values.1"},
		{"no reference", func(in *forecast.SubmitInput) { in.Reference = " " }, "input.reference"},
		{"unknown account", func(in *forecast.SubmitInput) { in.RecipientReference = "OH-NOPE" }, "input.recipient"},
		{"own account", func(in *forecast.SubmitInput) { in.RecipientReference = u[0].AccountReference }, "input.recipient"},
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
		page, err := s.Page(ctx, who, forecast.Filter{}, relay.Args{})
		if err != nil || len(page.Edges) != 2 || page.Edges[0].Node.Reference != "solar" {
			t.Fatalf("Page(party %d) = %+v (%v), want 2, newest (solar) first", who, page, err)
		}
		if got, err := s.Newest(ctx, who, "", nil); err != nil || got.Reference != "solar" {
			t.Fatalf("Newest() = %+v, %v, want solar", got, err)
		}
		at := begin.Add(90 * time.Minute)
		got, err := s.Newest(ctx, who, "", &at)
		if err != nil || got.Reference != "wind" {
			t.Fatalf("Newest(at) = %+v, %v, want wind", got, err)
		}
		if got, err := s.Newest(ctx, who, "wind", nil); err != nil || got.ID != first.ID {
			t.Fatalf("Newest(wind) = %+v, %v, want the first", got, err)
		}
		if _, err := s.Newest(ctx, who, "solar", &at); !errors.Is(err, forecast.ErrNotFound) {
			t.Fatalf("Newest(solar, at) = %v, want ErrNotFound (solar starts a day later)", err)
		}
		if got, err := s.Get(ctx, who, first.PublicID); err != nil || got.ID != first.ID {
			t.Fatalf("Get(id) = %+v, %v", got, err)
		}
	}
	if page, err := s.Page(ctx, u[2].ID, forecast.Filter{}, relay.Args{}); err != nil || len(page.Edges) != 0 {
		t.Fatalf("stranger Page() = %+v, %v, want none", page, err)
	}
	if _, err := s.Get(ctx, u[2].ID, first.PublicID); !errors.Is(err, forecast.ErrNotFound) {
		t.Fatalf("stranger Get(id) = %v, want ErrNotFound", err)
	}
	if _, err := s.Newest(ctx, u[2].ID, "", nil); !errors.Is(err, forecast.ErrNotFound) {
		t.Fatalf("stranger Newest() = %v, want ErrNotFound", err)
	}
	for _, bad := range []string{"", "not-a-uuid", first.PublicID + "0"} {
		if _, err := s.Get(ctx, u[0].ID, bad); !errors.Is(err, forecast.ErrNotFound) {
			t.Fatalf("Get(%q) = %v, want ErrNotFound", bad, err)
		}
	}
	sent, received, err := s.Series(ctx, u[0].ID)
	if err != nil || len(sent) != 2 || len(received) != 0 {
		t.Fatalf("Series() = %v, %v, %v", sent, received, err)
	}
}

func TestPageFiltersAndScopes(t *testing.T) {
	db := testkit.DB(t)
	ctx := t.Context()
	s := forecast.NewService(db, nil, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	us := user.NewService(db)
	var u [3]models.User
	for i := range u {
		var err error
		if u[i], err = us.Ensure(ctx, testkit.Subject(t)); err != nil {
			t.Fatal(err)
		}
	}
	day := time.Date(2027, 6, 1, 0, 0, 0, 0, time.UTC)
	send := func(from, to models.User, ref string, begin time.Time) {
		t.Helper()
		if _, err := s.Submit(ctx, from.ID, forecast.SubmitInput{RecipientReference: to.AccountReference, Reference: ref,
			Sector: models.SectorDK2, Begin: begin, Resolution: time.Hour, Values: []int64{5}}); err != nil {
			t.Fatal(err)
		}
	}
	send(u[0], u[1], "wind", day)                   // oldest
	send(u[1], u[0], "load", day.Add(24*time.Hour)) // u[0] receives
	send(u[0], u[1], "wind", day.Add(48*time.Hour)) // newest
	sent, received := forecast.Sent, forecast.Received
	from, until := day.Add(time.Hour), day.Add(72*time.Hour)
	one := 1
	tests := []struct {
		name string
		user models.User
		f    forecast.Filter
		want []string // references, newest first
	}{
		{"all", u[0], forecast.Filter{}, []string{"wind", "load", "wind"}},
		{"sent", u[0], forecast.Filter{Direction: &sent}, []string{"wind", "wind"}},
		{"received", u[0], forecast.Filter{Direction: &received}, []string{"load"}},
		{"reference", u[1], forecast.Filter{Reference: "wind"}, []string{"wind", "wind"}},
		{"begin range", u[0], forecast.Filter{BeginFrom: &from, BeginUntil: &until}, []string{"wind", "load"}},
		{"stranger", u[2], forecast.Filter{}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := s.Page(ctx, tc.user.ID, tc.f, relay.Args{})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range conn.Nodes() {
				got = append(got, f.Reference)
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("Page(%+v) = %v, want %v", tc.f, got, tc.want)
			}
		})
	}
	first, err := s.Page(ctx, u[0].ID, forecast.Filter{}, relay.Args{First: &one})
	if err != nil || len(first.Edges) != 1 || !first.PageInfo.HasNextPage || !first.Edges[0].Node.BeginAt.Equal(day.Add(48*time.Hour)) {
		t.Fatalf("Page(first 1) = %+v, %v, want the newest", first, err)
	}
	next, err := s.Page(ctx, u[0].ID, forecast.Filter{}, relay.Args{First: &one, After: first.PageInfo.EndCursor})
	if err != nil || len(next.Edges) != 1 || next.Edges[0].Node.Reference != "load" {
		t.Fatalf("Page(after the newest) = %+v, %v, want load", next, err)
	}
	if _, err := s.Page(ctx, u[0].ID, forecast.Filter{BeginFrom: &until, BeginUntil: &from}, relay.Args{}); !errors.Is(err, forecast.ErrInvalidInput) {
		t.Fatalf("Page(reversed range) = %v, want ErrInvalidInput", err)
	}
}
