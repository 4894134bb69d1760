package eloverblik_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/originhub/originhub/internal/eloverblik"
	"github.com/originhub/originhub/internal/eloverblik/sim"
)

// clock is a settable clock shared by the simulator and the client.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// sleeps records the client's backoff delays instead of sleeping.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) Sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.d = append(s.d, d)
	return ctx.Err()
}

func (s *sleeps) All() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.d)
}

type fixture struct {
	sim    *sim.Simulator
	srv    *httptest.Server
	client *eloverblik.Client
	clock  *clock
	sleeps *sleeps
}

const refreshToken = "refresh-secret"

func newFixture(t *testing.T, mutate func(*eloverblik.Config)) *fixture {
	t.Helper()
	clk := &clock{t: time.Date(2024, 4, 15, 10, 0, 0, 0, time.UTC)}
	s := sim.New(sim.Options{Seed: 42, Clock: clk.Now, TokenTTL: time.Hour, RefreshToken: refreshToken})
	mux := http.NewServeMux()
	mux.Handle("/sim/eloverblik/", http.StripPrefix("/sim/eloverblik", s.Handler()))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	sl := &sleeps{}
	cfg := eloverblik.Config{
		BaseURL:      srv.URL + "/sim/eloverblik",
		RefreshToken: refreshToken,
		Clock:        clk.Now,
		MaxRetries:   3,
		Sleep:        sl.Sleep,
		Timeout:      5 * time.Second,
	}
	if mutate != nil {
		mutate(&cfg)
	}
	c, err := eloverblik.New(cfg)
	if err != nil {
		t.Fatalf("New() error = %v", err)
	}
	return &fixture{sim: s, srv: srv, client: c, clock: clk, sleeps: sl}
}

func TestNewValidates(t *testing.T) {
	tests := []struct {
		name string
		cfg  eloverblik.Config
	}{
		{"no url", eloverblik.Config{RefreshToken: "x"}},
		{"relative url", eloverblik.Config{BaseURL: "/sim", RefreshToken: "x"}},
		{"no token", eloverblik.Config{BaseURL: "http://localhost"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := eloverblik.New(tc.cfg); err == nil {
				t.Errorf("New(%+v) error = nil, want an error", tc.cfg)
			}
		})
	}
}

func TestTokenCachedAndRefreshedOnExpiry(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	t1, err := f.client.DataAccessToken(ctx)
	if err != nil {
		t.Fatalf("DataAccessToken() error = %v", err)
	}
	t2, err := f.client.DataAccessToken(ctx)
	if err != nil || t2 != t1 {
		t.Fatalf("second DataAccessToken() = %q, %v; want the cached token", t2, err)
	}
	if n := f.sim.Requests("/api/Token"); n != 1 {
		t.Errorf("token requests = %d, want 1", n)
	}
	// The sim's tokens live 1 h; the client renews 6 min early (a tenth).
	f.clock.Advance(55 * time.Minute)
	t3, err := f.client.DataAccessToken(ctx)
	if err != nil {
		t.Fatalf("DataAccessToken() after expiry error = %v", err)
	}
	if t3 == t1 || f.sim.Requests("/api/Token") != 2 {
		t.Errorf("after expiry: same token %v, token requests %d; want a new token and 2 requests", t3 == t1, f.sim.Requests("/api/Token"))
	}
}

func TestTokenConcurrentCallersShareOneFetch(t *testing.T) {
	f := newFixture(t, nil)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Go(func() {
			if _, err := f.client.DataAccessToken(context.Background()); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("DataAccessToken() error = %v", err)
	}
	if n := f.sim.Requests("/api/Token"); n != 1 {
		t.Errorf("token requests = %d, want 1", n)
	}
}

func TestRefreshTokenRefused(t *testing.T) {
	f := newFixture(t, func(c *eloverblik.Config) { c.RefreshToken = "wrong" })
	_, err := f.client.MeteringPoints(context.Background(), "alice")
	if !errors.Is(err, eloverblik.ErrUnauthorized) {
		t.Fatalf("MeteringPoints() error = %v, want ErrUnauthorized", err)
	}
	if n := f.sim.Requests("/api/Token"); n != 1 {
		t.Errorf("token requests = %d, want 1 (401 is not retried)", n)
	}
}

func TestDataCall401RefreshesOnce(t *testing.T) {
	f := newFixture(t, nil)
	f.sim.Grant("alice")
	ctx := context.Background()
	if _, err := f.client.MeteringPoints(ctx, "alice"); err != nil {
		t.Fatalf("MeteringPoints() error = %v", err)
	}
	f.sim.RevokeTokens()
	pts, err := f.client.MeteringPoints(ctx, "alice")
	if err != nil || len(pts) == 0 {
		t.Fatalf("MeteringPoints() after revocation = %d points, %v; want points", len(pts), err)
	}
	if n := f.sim.Requests("/api/Token"); n != 2 {
		t.Errorf("token requests = %d, want 2", n)
	}

	// A 401 that persists with a fresh token is ErrUnauthorized, after
	// exactly one refresh.
	f.sim.FailNext("/api/Authorization", http.StatusUnauthorized, 2)
	_, err = f.client.MeteringPoints(ctx, "alice")
	if !errors.Is(err, eloverblik.ErrUnauthorized) {
		t.Fatalf("MeteringPoints() error = %v, want ErrUnauthorized", err)
	}
	if n := f.sim.Requests("/api/Token"); n != 3 {
		t.Errorf("token requests = %d, want 3", n)
	}
}

func TestRetries(t *testing.T) {
	tests := []struct {
		name       string
		fault      sim.Fault
		n          int
		wantErr    error
		wantTries  int
		wantSleeps []time.Duration // nil: only the count is checked
	}{
		{name: "429 then success honours Retry-After", fault: sim.Fault{Status: 429, RetryAfter: "7"}, n: 1, wantTries: 2, wantSleeps: []time.Duration{7 * time.Second}},
		{name: "two 500s then success", fault: sim.Fault{Status: 500}, n: 2, wantTries: 3},
		{name: "503 until retries run out", fault: sim.Fault{Status: 503}, n: 10, wantErr: eloverblik.ErrUnavailable, wantTries: 4},
		{name: "429 until retries run out", fault: sim.Fault{Status: 429}, n: 10, wantErr: eloverblik.ErrRateLimited, wantTries: 4},
		{name: "400 is not retried", fault: sim.Fault{Status: 400}, n: 1, wantTries: 1},
		{name: "404 is not retried", fault: sim.Fault{Status: 404}, n: 1, wantErr: eloverblik.ErrNotFound, wantTries: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, nil)
			f.sim.Grant("bob")
			f.sim.Inject("/api/Authorization/Authorization/MeteringPoints", tc.n, tc.fault)
			pts, err := f.client.MeteringPoints(context.Background(), "bob")
			var apiErr *eloverblik.APIError
			switch {
			case tc.wantErr != nil:
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("MeteringPoints() error = %v, want %v", err, tc.wantErr)
				}
			case tc.fault.Status == 400:
				if !errors.As(err, &apiErr) || apiErr.Status != 400 {
					t.Fatalf("MeteringPoints() error = %v, want APIError 400", err)
				}
			default:
				if err != nil || len(pts) == 0 {
					t.Fatalf("MeteringPoints() = %d points, %v; want points", len(pts), err)
				}
			}
			if n := f.sim.Requests("/api/Authorization/Authorization/MeteringPoints"); n != tc.wantTries {
				t.Errorf("attempts = %d, want %d", n, tc.wantTries)
			}
			got := f.sleeps.All()
			if len(got) != tc.wantTries-1 {
				t.Errorf("sleeps = %v, want %d", got, tc.wantTries-1)
			}
			if tc.wantSleeps != nil && !slices.Equal(got, tc.wantSleeps) {
				t.Errorf("sleeps = %v, want %v", got, tc.wantSleeps)
			}
			for _, d := range got {
				if d < 0 || d > 30*time.Second {
					t.Errorf("sleep %v outside [0, MaxDelay]", d)
				}
			}
		})
	}
}

func TestTokenFailureIsNotRetriedTwice(t *testing.T) {
	f := newFixture(t, nil)
	f.sim.Grant("judy")
	f.sim.FailNext("/api/Token", 503, 100)
	_, err := f.client.MeteringPoints(context.Background(), "judy")
	if !errors.Is(err, eloverblik.ErrUnavailable) {
		t.Fatalf("MeteringPoints() error = %v, want ErrUnavailable", err)
	}
	// MaxRetries is 3: four token attempts, not four per data attempt.
	if n := f.sim.Requests("/api/Token"); n != 4 {
		t.Errorf("token requests = %d, want 4", n)
	}
	if n := f.sim.Requests("/api/Authorization"); n != 0 {
		t.Errorf("data requests = %d, want 0", n)
	}
}

func TestOnboardingURL(t *testing.T) {
	got, err := eloverblik.OnboardingURL("http://127.0.0.1:8080/sim/eloverblik/onboarding", eloverblik.OnboardingParams{
		ThirdPartyID: "tp", FromDate: time.Date(2016, 4, 23, 0, 0, 0, 0, time.UTC), ToDate: time.Date(2023, 4, 17, 0, 0, 0, 0, time.UTC),
		CustomerKey: "a b&c", ReturnURL: "http://127.0.0.1:8080/onboarding/callback?sub=a+b%26c",
	})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(got)
	q := u.Query()
	if u.Path != "/sim/eloverblik/onboarding" || q.Get("customerKey") != "a b&c" || q.Get("fromDate") != "2016-04-23" ||
		q.Get("toDate") != "2023-04-17" || q.Get("thirdPartyId") != "tp" || q.Get("returnUrl") != "http://127.0.0.1:8080/onboarding/callback?sub=a+b%26c" {
		t.Errorf("OnboardingURL() = %s", got)
	}
	if _, err := eloverblik.OnboardingURL("not a url", eloverblik.OnboardingParams{CustomerKey: "x", ReturnURL: "y"}); err == nil {
		t.Error("OnboardingURL(bad base) error = nil")
	}
}

func TestMalformedResponses(t *testing.T) {
	tests := []struct {
		name string
		path string
		body string
		call func(context.Context, *eloverblik.Client, string) error
	}{
		{"token not json", "/api/Token", "mock-token", func(ctx context.Context, c *eloverblik.Client, _ string) error {
			_, err := c.DataAccessToken(ctx)
			return err
		}},
		{"token without result", "/api/Token", `{"token":"x"}`, func(ctx context.Context, c *eloverblik.Client, _ string) error {
			_, err := c.DataAccessToken(ctx)
			return err
		}},
		{"metering points truncated", "/api/Authorization/Authorization", `{"result":[{"meteringPointId":`, func(ctx context.Context, c *eloverblik.Client, _ string) error {
			_, err := c.MeteringPoints(ctx, "carol")
			return err
		}},
		{"time series truncated", "/api/MeterData", `{"result":[{"MyEnergyData_MarketDocument":{"TimeSeries":[{"mRID":"1","Period":[`, func(ctx context.Context, c *eloverblik.Client, gsrn string) error {
			_, err := c.TimeSeries(ctx, []string{gsrn}, time.Date(2024, 4, 1, 22, 0, 0, 0, time.UTC), time.Date(2024, 4, 2, 22, 0, 0, 0, time.UTC), eloverblik.Sink{Reading: func(eloverblik.Reading) error { return nil }})
			return err
		}},
		{"time series html", "/api/MeterData", `<html>oops</html>`, func(ctx context.Context, c *eloverblik.Client, gsrn string) error {
			_, err := c.TimeSeries(ctx, []string{gsrn}, time.Date(2024, 4, 1, 22, 0, 0, 0, time.UTC), time.Date(2024, 4, 2, 22, 0, 0, 0, time.UTC), eloverblik.Sink{Reading: func(eloverblik.Reading) error { return nil }})
			return err
		}},
		{"energy type not json", "/get-energy-type", `{`, func(ctx context.Context, c *eloverblik.Client, gsrn string) error {
			_, err := c.EnergyType(ctx, gsrn)
			return err
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, nil)
			f.sim.Grant("carol")
			gsrn := f.sim.Points("carol")[0].GSRN
			f.sim.Inject(tc.path, 1, sim.Fault{Status: 200, Body: tc.body})
			err := tc.call(context.Background(), f.client, gsrn)
			if !errors.Is(err, eloverblik.ErrMalformedResponse) {
				t.Errorf("error = %v, want ErrMalformedResponse", err)
			}
		})
	}
}

func TestNetworkErrorsRetriedThenReported(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	base := srv.URL
	srv.Close() // connection refused from now on
	sl := &sleeps{}
	c, err := eloverblik.New(eloverblik.Config{BaseURL: base, RefreshToken: "x", MaxRetries: 2, Sleep: sl.Sleep})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.DataAccessToken(context.Background())
	if err == nil {
		t.Fatal("DataAccessToken() error = nil, want a network error")
	}
	if n := len(sl.All()); n != 2 {
		t.Errorf("sleeps = %d, want 2", n)
	}
}

func TestHeaderTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	c, err := eloverblik.New(eloverblik.Config{BaseURL: srv.URL, RefreshToken: "x", MaxRetries: -1, Timeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = c.DataAccessToken(context.Background())
	if err == nil || time.Since(start) > 5*time.Second {
		t.Fatalf("DataAccessToken() error = %v after %v, want a timeout error well before 5 s", err, time.Since(start))
	}
}

func TestCancelledContextStopsRetrying(t *testing.T) {
	f := newFixture(t, nil)
	f.sim.FailNext("/api/Token", 500, 10)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := f.client.DataAccessToken(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("DataAccessToken() error = %v, want context.Canceled", err)
	}
}

func TestMeteringPointsAndTimeSeries(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	pts, err := f.client.MeteringPoints(ctx, "dave")
	if err != nil || len(pts) != 0 {
		t.Fatalf("MeteringPoints() before consent = %d, %v; want none", len(pts), err)
	}
	f.sim.Grant("dave")
	pts, err = f.client.MeteringPoints(ctx, "dave")
	if err != nil {
		t.Fatalf("MeteringPoints() error = %v", err)
	}
	want := f.sim.Points("dave")
	if len(pts) != len(want) {
		t.Fatalf("MeteringPoints() = %d points, want %d", len(pts), len(want))
	}
	var gsrns []string
	for i, p := range pts {
		gsrns = append(gsrns, p.GSRN)
		sector, err := p.Sector()
		if p.GSRN != want[i].GSRN || err != nil || sector != want[i].Sector || p.TypeOfMP != want[i].TypeOfMP {
			t.Errorf("point %d = %s %s %s (%v), want %s %s %s", i, p.GSRN, p.TypeOfMP, sector, err, want[i].GSRN, want[i].TypeOfMP, want[i].Sector)
		}
		if (p.Kind == eloverblik.KindProduction) != want[i].Profile.Production() {
			t.Errorf("point %d kind = %s, profile %d", i, p.Kind, want[i].Profile)
		}
	}

	// Two Danish days around the switch to summer time: 2024-03-31 has 23 hours.
	from := time.Date(2024, 3, 30, 23, 0, 0, 0, time.UTC) // 2024-03-31 00:00 CET
	to := time.Date(2024, 4, 1, 22, 0, 0, 0, time.UTC)    // 2024-04-02 00:00 CEST
	got := map[string][]eloverblik.Reading{}
	var problems []*eloverblik.ReadingError
	st, err := f.client.TimeSeries(ctx, gsrns, from, to, eloverblik.Sink{
		Reading: func(r eloverblik.Reading) error { got[r.GSRN] = append(got[r.GSRN], r); return nil },
		Problem: func(e *eloverblik.ReadingError) error { problems = append(problems, e); return nil },
	})
	if err != nil {
		t.Fatalf("TimeSeries() error = %v", err)
	}
	if len(problems) != 0 {
		t.Errorf("problems = %v, want none", problems)
	}
	const hours = 23 + 24
	if st.Readings != int64(hours*len(gsrns)) {
		t.Errorf("stats.Readings = %d, want %d", st.Readings, hours*len(gsrns))
	}
	for _, g := range gsrns {
		rs := got[g]
		if len(rs) != hours {
			t.Errorf("%s: %d readings, want %d", g, len(rs), hours)
			continue
		}
		for i, r := range rs {
			wantBegin := from.Add(time.Duration(i) * time.Hour)
			if !r.Begin.Equal(wantBegin) || r.Wh != f.sim.Wh(g, r.Begin) || (r.Quality != "A04" && r.Quality != "A03") {
				t.Errorf("%s reading %d = %v %d %s, want %v %d", g, i, r.Begin, r.Wh, r.Quality, wantBegin, f.sim.Wh(g, wantBegin))
				break
			}
		}
	}

	// The window is cut to [from, to) although ElOverblik sends whole days.
	n := 0
	_, err = f.client.TimeSeries(ctx, gsrns[:1], from.Add(2*time.Hour), from.Add(5*time.Hour), eloverblik.Sink{Reading: func(eloverblik.Reading) error { n++; return nil }})
	if err != nil || n != 3 {
		t.Errorf("TimeSeries() of 3 hours = %d readings, %v; want 3", n, err)
	}
}

func TestTimeSeriesWithoutConsentIsAProblem(t *testing.T) {
	f := newFixture(t, nil)
	gsrn := f.sim.Points("erin")[0].GSRN // derived but not granted
	var problems []*eloverblik.ReadingError
	st, err := f.client.TimeSeries(context.Background(), []string{gsrn}, time.Date(2024, 4, 1, 22, 0, 0, 0, time.UTC), time.Date(2024, 4, 2, 22, 0, 0, 0, time.UTC),
		eloverblik.Sink{Reading: func(eloverblik.Reading) error { return nil }, Problem: func(e *eloverblik.ReadingError) error { problems = append(problems, e); return nil }})
	if err != nil {
		t.Fatalf("TimeSeries() error = %v", err)
	}
	if st.Readings != 0 || len(problems) != 1 || problems[0].Kind != eloverblik.ProblemEntryFailed || problems[0].GSRN != gsrn {
		t.Errorf("stats %+v problems %v; want one entry_failed for %s", st, problems, gsrn)
	}
}

func TestEnergyType(t *testing.T) {
	f := newFixture(t, nil)
	solar := map[string]bool{"T010000": true, "T010100": true, "T010101": true, "T010102": true, "T010200": true}
	wind := map[string]bool{"T020000": true, "T020001": true, "T020002": true}
	for _, p := range f.sim.Points("frank") {
		et, err := f.client.EnergyType(context.Background(), p.GSRN)
		switch p.Profile {
		case sim.ProfileSolar:
			if err != nil || !solar[et.TechnologyCode] || et.FuelCode != "F01040100" {
				t.Errorf("EnergyType(%s solar) = %+v, %v", p.GSRN, et, err)
			}
		case sim.ProfileWind:
			if err != nil || !wind[et.TechnologyCode] || et.FuelCode != "F01050100" {
				t.Errorf("EnergyType(%s wind) = %+v, %v", p.GSRN, et, err)
			}
		default:
			if !errors.Is(err, eloverblik.ErrEnergyTypeUnavailable) {
				t.Errorf("EnergyType(%s consumption) error = %v, want ErrEnergyTypeUnavailable", p.GSRN, err)
			}
		}
	}
}

func TestOnboardingGrantsAccess(t *testing.T) {
	f := newFixture(t, nil)
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	q := url.Values{
		"thirdPartyId": {"tp1"}, "fromDate": {"2024-01-01"}, "toDate": {"2027-01-01"},
		"customerKey": {"grace"}, "returnUrl": {"https://originhub.example/onboarding/callback?sub=grace"},
	}
	page := f.srv.URL + "/sim/eloverblik/onboarding?" + q.Encode()
	resp, err := noRedirect.Get(page)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	buf := string(raw)
	if resp.StatusCode != 200 || !strings.Contains(buf, "Grant access") || !strings.Contains(buf, f.sim.Points("grace")[0].GSRN) {
		t.Fatalf("GET onboarding = %d, page lacks the grant button or points", resp.StatusCode)
	}
	if f.sim.Granted("grace") {
		t.Fatal("showing the page granted access")
	}

	form := url.Values{}
	for k, v := range q {
		form[k] = v
	}
	form.Set("decision", "grant")
	resp, err = noRedirect.PostForm(f.srv.URL+"/sim/eloverblik/onboarding", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || err != nil {
		t.Fatalf("POST onboarding = %d %q, want 303", resp.StatusCode, resp.Header.Get("Location"))
	}
	if loc.Host != "originhub.example" || loc.Path != "/onboarding/callback" || loc.Query().Get("sub") != "grace" ||
		loc.Query().Get("customerKey") != "grace" || loc.Query().Get("granted") != "true" {
		t.Errorf("Location = %s, want the return URL with sub, customerKey and granted=true", loc)
	}
	pts, err := f.client.MeteringPoints(context.Background(), "grace")
	if err != nil || len(pts) == 0 {
		t.Errorf("MeteringPoints() after grant = %d, %v; want points", len(pts), err)
	}
	auths, err := f.client.Authorizations(context.Background())
	if err != nil || len(auths) != 1 || auths[0].CustomerKey != "grace" || auths[0].ValidFrom != "2024-01-01" {
		t.Errorf("Authorizations() = %+v, %v", auths, err)
	}

	// Bad return URLs are refused, so the simulator is no open redirect to
	// arbitrary schemes.
	bad := url.Values{"customerKey": {"x"}, "returnUrl": {"javascript:alert(1)"}}
	resp, err = noRedirect.Get(f.srv.URL + "/sim/eloverblik/onboarding?" + bad.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("GET onboarding with a javascript: returnUrl = %d, want 400", resp.StatusCode)
	}
}

func TestMeteringPointDetails(t *testing.T) {
	f := newFixture(t, nil)
	f.sim.Grant("heidi")
	pts := f.sim.Points("heidi")
	stranger := f.sim.Points("ivan")[0].GSRN // not granted
	gsrns := []string{stranger}
	for _, p := range pts {
		gsrns = append(gsrns, p.GSRN)
	}
	details, problems, err := f.client.MeteringPointDetails(context.Background(), gsrns)
	if err != nil {
		t.Fatalf("MeteringPointDetails() error = %v", err)
	}
	var entryErr *eloverblik.EntryError
	if len(problems) != 1 || !errors.As(problems[0], &entryErr) || entryErr.GSRN != stranger {
		t.Errorf("problems = %v, want one EntryError for %s", problems, stranger)
	}
	if len(details) != len(pts) {
		t.Fatalf("MeteringPointDetails() = %d records, want %d", len(details), len(pts))
	}
	for i, d := range details {
		sector, err := d.Sector()
		if d.GSRN != pts[i].GSRN || sector != pts[i].Sector || err != nil || d.EnergyTimeSeriesMeasureUnit != "KWH" {
			t.Errorf("details %d = %+v (sector %s, %v), want %s in %s", i, d, sector, err, pts[i].GSRN, pts[i].Sector)
		}
		if (d.Kind == eloverblik.KindProduction) != (d.MPCapacity != "0") {
			t.Errorf("details %d: kind %s capacity %s", i, d.Kind, d.MPCapacity)
		}
	}
}

// memCache is a TokenCache shared by two clients, standing in for Redis.
type memCache struct {
	mu     sync.Mutex
	token  string
	expiry time.Time
}

func (m *memCache) Load(context.Context) (string, time.Time, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.token, m.expiry, nil
}

func (m *memCache) Store(_ context.Context, tok string, exp time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.token, m.expiry = tok, exp
	return nil
}

func TestSharedTokenCache(t *testing.T) {
	cache := &memCache{}
	f := newFixture(t, func(c *eloverblik.Config) { c.TokenCache = cache })
	other, err := eloverblik.New(eloverblik.Config{BaseURL: f.srv.URL + "/sim/eloverblik", RefreshToken: refreshToken,
		Clock: f.clock.Now, TokenCache: cache, Sleep: f.sleeps.Sleep})
	if err != nil {
		t.Fatal(err)
	}
	f.sim.Grant("kim")
	ctx := context.Background()
	for _, c := range []*eloverblik.Client{f.client, other} {
		if _, err := c.MeteringPoints(ctx, "kim"); err != nil {
			t.Fatalf("MeteringPoints() error = %v", err)
		}
	}
	if n := f.sim.Requests("/api/Token"); n != 1 {
		t.Errorf("token requests = %d, want 1 shared by both clients", n)
	}
	// After revocation the first client refreshes and shares the new token;
	// the second adopts it instead of fetching its own, and never re-adopts
	// the rejected one.
	f.sim.RevokeTokens()
	for _, c := range []*eloverblik.Client{f.client, other} {
		if _, err := c.MeteringPoints(ctx, "kim"); err != nil {
			t.Fatalf("MeteringPoints() after revocation error = %v", err)
		}
	}
	if n := f.sim.Requests("/api/Token"); n != 2 {
		t.Errorf("token requests = %d, want 2", n)
	}
}

func TestEstimatesAreCorrectedLater(t *testing.T) {
	clk := &clock{t: time.Date(2024, 4, 15, 10, 0, 0, 0, time.UTC)}
	s := sim.New(sim.Options{Seed: 4, Clock: clk.Now, EstimateWindow: 48 * time.Hour})
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	c, err := eloverblik.New(eloverblik.Config{BaseURL: srv.URL, RefreshToken: "x", Clock: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	s.Grant("lena")
	var gsrn string
	for _, p := range s.Points("lena") {
		if p.Profile == sim.ProfileHousehold || p.Profile == sim.ProfileBusiness {
			gsrn = p.GSRN // consumption is never 0, so an estimate shows
		}
	}
	from := time.Date(2024, 4, 13, 0, 0, 0, 0, time.UTC)
	to := time.Date(2024, 4, 15, 10, 0, 0, 0, time.UTC)
	fetch := func() []eloverblik.Reading {
		var rs []eloverblik.Reading
		if _, err := c.TimeSeries(context.Background(), []string{gsrn}, from, to, eloverblik.Sink{Reading: func(r eloverblik.Reading) error { rs = append(rs, r); return nil }}); err != nil {
			t.Fatalf("TimeSeries() error = %v", err)
		}
		return rs
	}
	estStart := to.Add(-48 * time.Hour)
	differ := 0
	for _, r := range fetch() {
		if r.Begin.Before(estStart) {
			continue
		}
		if r.Quality != eloverblik.QualityEstimated {
			t.Fatalf("reading at %v quality %s, want an estimate", r.Begin, r.Quality)
		}
		if r.Wh != s.Wh(gsrn, r.Begin) {
			differ++
		}
	}
	if differ == 0 {
		t.Error("no estimate differs from the final value")
	}
	clk.Advance(72 * time.Hour)
	for _, r := range fetch() {
		if r.Wh != s.Wh(gsrn, r.Begin) {
			t.Fatalf("reading at %v = %d after the window, want final %d", r.Begin, r.Wh, s.Wh(gsrn, r.Begin))
		}
	}
}
