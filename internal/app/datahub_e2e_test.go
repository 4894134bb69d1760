package app_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket/wsjson"

	"github.com/originhub/originhub/internal/app"
	"github.com/originhub/originhub/internal/testkit"
)

// TestDataHubOverGraphQL drives issue 4 as a user would: onboarding URL from a mutation,
// consent on the (simulated) ElOverblik page, progress on the importProgress subscription,
// then queries — and checks another user sees none of it.
func TestDataHubOverGraphQL(t *testing.T) {
	first := time.Now().UTC().Truncate(time.Hour).Add(-72 * time.Hour)
	cfg := testConfig(t, testkit.DatabaseURI(t), "FIRST_MEASUREMENT_TIME", first.Format(time.RFC3339), "GRAPHQL_MAX_DEPTH", "12")
	p := startRoles(t, cfg, app.Roles{API: true, Worker: true})
	aliceSub := testkit.Subject(t) + "-alice"
	alice := "Bearer " + p.token(t, aliceSub)
	bob := "Bearer " + p.token(t, testkit.Subject(t)+"-bob")

	// Follow progress live.
	c, err := dialWS(t, p, map[string]any{"Authorization": alice})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := readUntil(t, c, "connection_ack"); err != nil {
		t.Fatal(err)
	}
	if err := wsjson.Write(t.Context(), c, map[string]any{"id": "p", "type": "subscribe", "payload": map[string]any{
		"query": `subscription { importProgress { kind state rowsWritten } }`,
	}}); err != nil {
		t.Fatal(err)
	}
	// Give the server a moment to register the subscription before anything is queued.
	testkit.Eventually(t, 5*time.Second, func() bool {
		_, r := p.post(t, alice, `{ me { id } }`, nil)
		return len(r.Errors) == 0
	}, "api up")

	_, r := p.post(t, alice, `mutation { startElOverblikOnboarding { url userErrors { message } } }`, nil)
	var start struct {
		StartElOverblikOnboarding struct{ URL string }
	}
	mustData(t, r, &start)
	consent, err := url.Parse(start.StartElOverblikOnboarding.URL)
	if err != nil || !strings.HasPrefix(consent.Path, "/sim/eloverblik/onboarding") {
		t.Fatalf("onboarding url = %q", start.StartElOverblikOnboarding.URL)
	}
	// The consent page shows, and granting lands on our callback.
	resp, err := http.Get(consent.String())
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("consent page: %v %v", resp, err)
	}
	resp.Body.Close()
	form := consent.Query()
	form.Set("decision", "grant")
	resp, err = http.PostForm(p.url+"/sim/eloverblik/onboarding", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/onboarding/callback" {
		t.Fatalf("grant ended at %s with %d", resp.Request.URL, resp.StatusCode)
	}
	// A replayed callback (same state) is refused.
	resp, err = http.Get(resp.Request.URL.String())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("replayed callback answered %d, want 400", resp.StatusCode)
	}

	// Events arrive while the jobs run; wait until a measurement job succeeded.
	deadline := time.Now().Add(60 * time.Second)
	sawMeasurements := false
	for !sawMeasurements && time.Now().Before(deadline) {
		m, err := readUntil(t, c, "next")
		if err != nil {
			t.Fatalf("importProgress: %v", err)
		}
		var ev struct {
			Data struct {
				ImportProgress struct{ Kind, State string }
			}
		}
		_ = json.Unmarshal(m.Payload, &ev)
		sawMeasurements = ev.Data.ImportProgress.Kind == "MEASUREMENTS" && ev.Data.ImportProgress.State == "SUCCEEDED"
	}
	if !sawMeasurements {
		t.Fatal("no succeeded measurement import on importProgress")
	}
	testkit.Eventually(t, 60*time.Second, func() bool {
		_, r := p.post(t, alice, `{ importJobs(first: 50) { nodes { state } } }`, nil)
		s := string(r.Data["importJobs"])
		return strings.Contains(s, "SUCCEEDED") && !strings.Contains(s, "QUEUED") && !strings.Contains(s, "RUNNING")
	}, "every import job to finish")

	_, r = p.post(t, alice, `{
		meteringPoints(first: 10) { totalCount nodes { id gsrn type sector technology { label } importedUntil
			measurements(first: 2) { totalCount nodes { begin end amount quality gsrn } } } }
		measurementSeries(resolution: DAY, groupBy: [TYPE]) { begin type amount readings }
	}`, nil)
	var got struct {
		MeteringPoints struct {
			TotalCount int
			Nodes      []struct {
				ID, Gsrn, Type, Sector string
				Technology             *struct{ Label string }
				Measurements           struct {
					TotalCount int
					Nodes      []struct {
						Begin, End time.Time
						Amount     int64
						Gsrn       string
					}
				}
			}
		}
		MeasurementSeries []struct {
			Type     string
			Amount   int64
			Readings int
		}
	}
	mustData(t, r, &got)
	if got.MeteringPoints.TotalCount < 2 || len(got.MeteringPoints.Nodes) != got.MeteringPoints.TotalCount {
		t.Fatalf("meteringPoints = %+v", got.MeteringPoints)
	}
	var rows int
	for _, mp := range got.MeteringPoints.Nodes {
		if mp.Type == "PRODUCTION" && (mp.Technology == nil || mp.Technology.Label == "") {
			t.Errorf("production point %s has no technology label", mp.Gsrn)
		}
		if mp.Measurements.TotalCount < 72 || len(mp.Measurements.Nodes) != 2 || mp.Measurements.Nodes[0].Gsrn != mp.Gsrn ||
			!mp.Measurements.Nodes[0].End.Equal(mp.Measurements.Nodes[0].Begin.Add(time.Hour)) {
			t.Errorf("measurements of %s = %+v", mp.Gsrn, mp.Measurements)
		}
		rows += mp.Measurements.TotalCount
	}
	// The series sums (computed in SQL) agree with a plain SQL sum of the same rows.
	var seriesRows int
	var seriesWh int64
	for _, s := range got.MeasurementSeries {
		seriesRows += s.Readings
		seriesWh += s.Amount
	}
	var sqlWh int64
	if err := p.app.DB.NewRaw(`SELECT sum(m.amount_wh) FROM measurements m JOIN metering_points mp ON mp.id = m.metering_point_id
		JOIN users u ON u.id = mp.user_id WHERE u.subject = ?`, aliceSub).Scan(t.Context(), &sqlWh); err != nil {
		t.Fatal(err)
	}
	if seriesRows != rows || seriesWh != sqlWh || seriesWh == 0 {
		t.Fatalf("series sums %d readings / %d Wh, want %d readings / %d Wh", seriesRows, seriesWh, rows, sqlWh)
	}

	// The import published every reading to the ledger and issued a GGO for every production
	// hour with energy.
	testkit.Eventually(t, 60*time.Second, func() bool {
		var unpublished, open int
		_ = p.app.DB.NewRaw(`SELECT count(*) FROM measurements m JOIN metering_points mp ON mp.id = m.metering_point_id
			JOIN users u ON u.id = mp.user_id WHERE u.subject = ? AND NOT EXISTS (SELECT 1 FROM measurement_publications p
			WHERE p.metering_point_id = m.metering_point_id AND p.begin_at = m.begin_at)`, aliceSub).Scan(t.Context(), &unpublished)
		_ = p.app.DB.NewRaw("SELECT count(*) FROM ledger_batches WHERE status NOT IN ('COMMITTED', 'INVALID')").Scan(t.Context(), &open)
		return unpublished == 0 && open == 0
	}, "every reading published and every batch settled")
	var productionHours int
	if err := p.app.DB.NewRaw(`SELECT count(*) FROM measurements m JOIN metering_points mp ON mp.id = m.metering_point_id
		JOIN users u ON u.id = mp.user_id WHERE u.subject = ? AND mp.type = 'PRODUCTION' AND m.amount_wh > 0`, aliceSub).Scan(t.Context(), &productionHours); err != nil {
		t.Fatal(err)
	}
	_, r = p.post(t, alice, `{ ggos(where: {state: [STORED]}) { totalCount } measurements(first: 20) { nodes { ledger { status address } } } }`, nil)
	var ledgerView struct {
		Ggos         struct{ TotalCount int }
		Measurements struct {
			Nodes []struct {
				Ledger *struct{ Status, Address string }
			}
		}
	}
	mustData(t, r, &ledgerView)
	if ledgerView.Ggos.TotalCount != productionHours || productionHours == 0 {
		t.Fatalf("%d GGOs stored, want one per production hour with energy (%d)", ledgerView.Ggos.TotalCount, productionHours)
	}
	for _, n := range ledgerView.Measurements.Nodes {
		if n.Ledger == nil || n.Ledger.Status != "COMMITTED" || len(n.Ledger.Address) != 70 {
			t.Fatalf("measurement ledger state = %+v, want COMMITTED at a 70-character address", n.Ledger)
		}
	}

	// Bob sees nothing of alice's, by any road.
	aliceGSRN, aliceID := got.MeteringPoints.Nodes[0].Gsrn, got.MeteringPoints.Nodes[0].ID
	_, r = p.post(t, bob, `query($g: String!, $id: ID!) {
		meteringPoints { totalCount } measurements { totalCount } meteringPoint(gsrn: $g) { id }
		node(id: $id) { id } measurementSeries(resolution: YEAR) { amount } importJobs { totalCount }
	}`, map[string]any{"g": aliceGSRN, "id": aliceID})
	var bobs struct {
		MeteringPoints    struct{ TotalCount int }
		Measurements      struct{ TotalCount int }
		MeteringPoint     *struct{ ID string }
		Node              *struct{ ID string }
		MeasurementSeries []struct{ Amount int64 }
		ImportJobs        struct{ TotalCount int }
	}
	mustData(t, r, &bobs)
	if bobs.MeteringPoints.TotalCount != 0 || bobs.Measurements.TotalCount != 0 || bobs.MeteringPoint != nil || bobs.Node != nil ||
		len(bobs.MeasurementSeries) != 0 || bobs.ImportJobs.TotalCount != 0 {
		t.Fatalf("bob sees alice's data: %+v", bobs)
	}
	_, r = p.post(t, bob, `mutation($g: String) { importMeasurements(input: {gsrn: $g}) { jobs { id } userErrors { code } } }`, map[string]any{"g": aliceGSRN})
	if !strings.Contains(string(r.Data["importMeasurements"]), "NOT_FOUND") {
		t.Fatalf("bob importing alice's point = %s %+v, want a NOT_FOUND userError", r.Data["importMeasurements"], r.Errors)
	}
}

func mustData(t *testing.T, r gqlResponse, into any) {
	t.Helper()
	if len(r.Errors) > 0 {
		t.Fatalf("errors: %+v", r.Errors)
	}
	b, _ := json.Marshal(r.Data)
	if err := json.Unmarshal(b, into); err != nil {
		t.Fatal(err)
	}
}
