package app_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket/wsjson"

	"github.com/originhub/originhub/internal/app"
	"github.com/originhub/originhub/internal/forecast"
	"github.com/originhub/originhub/internal/testkit"
	"github.com/originhub/originhub/internal/webhook"
)

type forecastJSON struct {
	ID                string  `json:"id"`
	PublicID          string  `json:"publicId"`
	Reference         string  `json:"reference"`
	Direction         string  `json:"direction"`
	Sender            string  `json:"sender"`
	Recipient         string  `json:"recipient"`
	Sector            string  `json:"sector"`
	Begin             string  `json:"begin"`
	End               string  `json:"end"`
	ResolutionSeconds int     `json:"resolutionSeconds"`
	Values            []int64 `json:"values"`
}

const forecastFields = `id publicId reference direction sender recipient sector begin end resolutionSeconds values`

// TestForecastsOverGraphQL: alice sends bob forecasts; bob hears of each over his
// subscription and his webhook; both list and fetch them; eve sees none; bad sector,
// resolution and values are refused with BAD_USER_INPUT.
func TestForecastsOverGraphQL(t *testing.T) {
	p := startRoles(t, testConfig(t, testkit.DatabaseURI(t), "GRAPHQL_MAX_DEPTH", "8", "RATE_LIMIT_PER_MINUTE", "0"), app.Roles{API: true, Worker: true})
	ctx := t.Context()
	alice, bob, eve := newParty(t, p, "alice"), newParty(t, p, "bob"), newParty(t, p, "eve")

	// Bob's own system listens for FORECAST_RECEIVED.
	var mu sync.Mutex
	var hooks []string
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		hooks = append(hooks, r.Header.Get(webhook.HeaderEvent)+" "+string(b))
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer recv.Close()
	_, r := p.post(t, bob.auth, `mutation($url: String!) { createWebhookSubscription(input: {event: FORECAST_RECEIVED, url: $url}) { userErrors { code } } }`,
		map[string]any{"url": recv.URL + "/forecasts"})
	if got := string(r.Data["createWebhookSubscription"]); got != `{"userErrors":[]}` {
		t.Fatalf("createWebhookSubscription = %s %+v", got, r.Errors)
	}

	// Bob subscribes over the WebSocket.
	c, err := dialWS(t, p, map[string]any{"Authorization": bob.auth})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := readUntil(t, c, "connection_ack"); err != nil {
		t.Fatal(err)
	}
	if err := wsjson.Write(ctx, c, map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{
		"query": `subscription { forecastReceived { ` + forecastFields + ` } }`,
	}}); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 5*time.Second, func() bool { return p.app.Bus.Subscribers(forecast.Topic(bob.ID)) == 1 }, "bob's subscription registered")

	send := `mutation($in: SendForecastInput!) { sendForecast(input: $in) { forecast { ` + forecastFields + ` } userErrors { field message code } } }`
	begin := time.Date(2027, 5, 1, 0, 0, 0, 0, time.UTC)
	in := func(kv ...any) map[string]any {
		m := map[string]any{"recipient": bob.AccountReference, "reference": "wind-north", "sector": "DK1",
			"begin": begin.Format(time.RFC3339), "resolutionSeconds": 3600, "values": []int64{100, 200, 300}}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	type payload struct {
		Forecast   *forecastJSON
		UserErrors []userError
	}
	sendAs := func(who party, vars map[string]any) (payload, gqlResponse) {
		t.Helper()
		_, r := p.post(t, who.auth, send, map[string]any{"in": vars})
		var out struct{ SendForecast payload }
		if len(r.Errors) == 0 {
			mustData(t, r, &out)
		}
		return out.SendForecast, r
	}

	// Refusals: the domain's are BAD_USER_INPUT userErrors on the field; a value no scalar
	// accepts is a BAD_USER_INPUT GraphQL error; a sector outside the enum fails variable
	// validation before execution (GRAPHQL_VALIDATION_FAILED, as for any invalid variable).
	// Nothing refused is stored or announced.
	for _, tc := range []struct {
		name  string
		vars  map[string]any
		field string // the userError's; "" for a GraphQL error with code
		code  string
	}{
		{"sector", in("sector", "DK3"), "", "GRAPHQL_VALIDATION_FAILED"},
		{"fractional value", in("values", []any{1, 1.5}), "", "BAD_USER_INPUT"},
		{"value above 2^53", in("values", []any{1, 9007199254740993}), "", "BAD_USER_INPUT"},
		{"negative value", in("values", []int64{1, -1}), "input.values.1", "BAD_USER_INPUT"},
		{"no values", in("values", []int64{}), "input.values", "BAD_USER_INPUT"},
		{"resolution zero", in("resolutionSeconds", 0), "input.resolutionSeconds", "BAD_USER_INPUT"},
		{"resolution below a minute", in("resolutionSeconds", 59), "input.resolutionSeconds", "BAD_USER_INPUT"},
		{"resolution above a year", in("resolutionSeconds", 400*24*3600), "input.resolutionSeconds", "BAD_USER_INPUT"},
		{"unknown recipient", in("recipient", "OH-NOBODY"), "input.recipient", "BAD_USER_INPUT"},
		{"own account", in("recipient", alice.AccountReference), "input.recipient", "BAD_USER_INPUT"},
		{"empty reference", in("reference", ""), "input.reference", "BAD_USER_INPUT"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pl, r := sendAs(alice, tc.vars)
			if tc.field == "" {
				if r.code() != tc.code {
					t.Fatalf("sendForecast(%s) = %+v, want a %s error", tc.name, r.Errors, tc.code)
				}
				return
			}
			if len(r.Errors) > 0 || pl.Forecast != nil || len(pl.UserErrors) != 1 || pl.UserErrors[0].Code != "BAD_USER_INPUT" || strings.Join(pl.UserErrors[0].Field, ".") != tc.field {
				t.Fatalf("sendForecast(%s) = %+v %+v, want a BAD_USER_INPUT userError on %s", tc.name, pl, r.Errors, tc.field)
			}
		})
	}

	// A stray event on bob's topic (eve's forecast, which bob may not read) delivers nothing.
	evesOwn, _ := sendAs(alice, in("recipient", eve.AccountReference, "reference", "for-eve"))
	if evesOwn.Forecast == nil {
		t.Fatalf("sendForecast(to eve) = %+v", evesOwn)
	}
	stray, _ := json.Marshal(forecast.Event{ID: evesOwn.Forecast.PublicID})
	if err := p.app.Bus.Publish(ctx, forecast.Topic(bob.ID), stray); err != nil {
		t.Fatal(err)
	}

	sent, _ := sendAs(alice, in())
	f := sent.Forecast
	if f == nil || f.Direction != "SENT" || f.Sender != alice.AccountReference || f.Recipient != bob.AccountReference ||
		f.End != begin.Add(3*time.Hour).Format(time.RFC3339) || len(f.Values) != 3 || f.Values[2] != 300 {
		t.Fatalf("sendForecast = %+v", sent)
	}
	m, err := readUntil(t, c, "next")
	if err != nil {
		t.Fatalf("no forecastReceived event: %v", err)
	}
	var ev struct {
		Data struct{ ForecastReceived forecastJSON }
	}
	if err := json.Unmarshal(m.Payload, &ev); err != nil {
		t.Fatal(err)
	}
	if got := ev.Data.ForecastReceived; got.PublicID != f.PublicID || got.Direction != "RECEIVED" || got.Sender != alice.AccountReference || got.Values[0] != 100 {
		t.Fatalf("forecastReceived = %+v, want alice's forecast %s (never eve's %s)", got, f.PublicID, evesOwn.Forecast.PublicID)
	}
	// The webhook delivery was written with the forecast and reaches bob's system.
	var rows int
	if err := p.app.DB.NewRaw("SELECT count(*) FROM webhook_deliveries WHERE user_id = ? AND event = 'FORECAST_RECEIVED'", bob.ID).Scan(ctx, &rows); err != nil || rows != 1 {
		t.Fatalf("bob's FORECAST_RECEIVED deliveries = %d (%v), want 1", rows, err)
	}
	testkit.Eventually(t, 20*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(hooks) == 1
	}, "the FORECAST_RECEIVED webhook at bob's receiver")
	mu.Lock()
	hook := hooks[0]
	mu.Unlock()
	if !strings.HasPrefix(hook, "FORECAST_RECEIVED ") || !strings.Contains(hook, f.PublicID) || !strings.Contains(hook, `"resolution":"PT3600S"`) {
		t.Fatalf("webhook = %s, want FORECAST_RECEIVED of %s", hook, f.PublicID)
	}

	// A second, later series; lists are newest first and scoped to the two parties.
	if pl, _ := sendAs(alice, in("reference", "solar-south", "begin", begin.Add(24*time.Hour).Format(time.RFC3339), "sector", "DK2")); pl.Forecast == nil {
		t.Fatalf("second sendForecast = %+v", pl)
	}
	list := func(who party, args string) []forecastJSON {
		t.Helper()
		_, r := p.post(t, who.auth, `{ forecasts`+args+` { nodes { `+forecastFields+` } } }`, nil)
		var out struct {
			Forecasts struct{ Nodes []forecastJSON }
		}
		mustData(t, r, &out)
		return out.Forecasts.Nodes
	}
	names := func(fs []forecastJSON) string {
		var out []string
		for _, f := range fs {
			out = append(out, f.Reference+":"+f.Direction)
		}
		return strings.Join(out, " ")
	}
	for _, tc := range []struct {
		who  party
		args string
		want string
	}{
		{alice, "", "solar-south:SENT wind-north:SENT for-eve:SENT"},
		{alice, `(where: {direction: RECEIVED})`, ""},
		{bob, "", "solar-south:RECEIVED wind-north:RECEIVED"},
		{bob, `(where: {reference: "wind-north"})`, "wind-north:RECEIVED"},
		{bob, `(where: {begin: {gte: "2027-05-01T12:00:00Z"}})`, "solar-south:RECEIVED"},
		{bob, `(first: 1)`, "solar-south:RECEIVED"},
		{eve, "", "for-eve:RECEIVED"},
		{eve, `(where: {reference: "wind-north"})`, ""},
	} {
		if got := names(list(tc.who, tc.args)); got != tc.want {
			t.Errorf("forecasts%s as %s = %q, want %q", tc.args, tc.who.Subject, got, tc.want)
		}
	}
	byID := `query($id: ID!) { forecast(id: $id) { publicId direction } }`
	_, r = p.post(t, bob.auth, byID, map[string]any{"id": f.ID})
	if got := string(r.Data["forecast"]); len(r.Errors) > 0 || got != `{"publicId":"`+f.PublicID+`","direction":"RECEIVED"}` {
		t.Fatalf("bob's forecast(id) = %s %+v", got, r.Errors)
	}
	_, r = p.post(t, eve.auth, byID, map[string]any{"id": f.ID})
	if r.code() != "NOT_FOUND" || string(r.Data["forecast"]) != "null" {
		t.Fatalf("eve's forecast(alice's to bob) = %s %+v, want NOT_FOUND", r.Data["forecast"], r.Errors)
	}
	newest := `query($ref: String, $at: Time) { newestForecast(reference: $ref, at: $at) { reference begin } }`
	for _, tc := range []struct {
		who  party
		vars map[string]any
		want string
	}{
		{bob, nil, `{"reference":"solar-south","begin":"2027-05-02T00:00:00Z"}`},
		{bob, map[string]any{"ref": "wind-north"}, `{"reference":"wind-north","begin":"2027-05-01T00:00:00Z"}`},
		{bob, map[string]any{"at": "2027-05-01T02:30:00Z"}, `{"reference":"wind-north","begin":"2027-05-01T00:00:00Z"}`},
		{bob, map[string]any{"at": "2027-06-01T00:00:00Z"}, `null`},
		{eve, map[string]any{"ref": "wind-north"}, `null`},
	} {
		_, r := p.post(t, tc.who.auth, newest, tc.vars)
		if got := string(r.Data["newestForecast"]); len(r.Errors) > 0 || got != tc.want {
			t.Errorf("newestForecast(%v) as %s = %s %+v, want %s", tc.vars, tc.who.Subject, got, r.Errors, tc.want)
		}
	}
	series := `{ forecastSeries { sent received } }`
	for who, want := range map[*party]string{
		&alice: `{"sent":["for-eve","solar-south","wind-north"],"received":[]}`,
		&bob:   `{"sent":[],"received":["solar-south","wind-north"]}`,
	} {
		_, r := p.post(t, who.auth, series, nil)
		if got := string(r.Data["forecastSeries"]); got != want {
			t.Errorf("forecastSeries as %s = %s %+v, want %s", who.Subject, got, r.Errors, want)
		}
	}
}
