package eloverblik_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/originhub/originhub/internal/eloverblik"
	"github.com/originhub/originhub/internal/eloverblik/sim"
)

// Example shows the wiring `serve` uses when ELOVERBLIK_SERVICE_URL is not
// set: the simulator mounted under /sim/eloverblik and the real client
// pointed at it.
func Example() {
	now := func() time.Time { return time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC) }
	simulator := sim.New(sim.Options{Seed: 1, Clock: now})
	mux := http.NewServeMux()
	mux.Handle("/sim/eloverblik/", http.StripPrefix("/sim/eloverblik", simulator.Handler()))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	client, err := eloverblik.New(eloverblik.Config{
		BaseURL:      srv.URL + "/sim/eloverblik",
		RefreshToken: "dev-refresh-token", // any non-empty token when the simulator has none configured
		Clock:        now,
		Logger:       slog.New(slog.DiscardHandler),
	})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	simulator.Grant("subject-1") // what the onboarding page's "Grant access" does

	points, err := client.MeteringPoints(ctx, "subject-1")
	if err != nil {
		panic(err)
	}
	var gsrns []string
	for _, p := range points {
		gsrns = append(gsrns, p.GSRN)
	}
	from := time.Date(2024, 4, 1, 0, 0, 0, 0, time.UTC)
	stats, err := client.TimeSeries(ctx, gsrns, from, from.Add(24*time.Hour), eloverblik.Sink{
		Reading: func(r eloverblik.Reading) error { return nil }, // e.g. append to a COPY batch
		Problem: func(e *eloverblik.ReadingError) error { return nil },
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(stats.Readings == int64(24*len(gsrns)), stats.Problems)
	// Output: true 0
}
