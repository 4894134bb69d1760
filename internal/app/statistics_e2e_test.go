package app_test

import (
	"strings"
	"testing"
	"time"

	"github.com/originhub/originhub/internal/testkit"
)

func TestStatisticsArePublicTotals(t *testing.T) {
	p := start(t, testConfig(t, testkit.DatabaseURI(t), "GRAPHQL_MAX_DEPTH", "10", "RATE_LIMIT_PER_MINUTE", "0"))
	h0 := time.Date(2034, 2, 1, 0, 0, 0, 0, time.UTC)
	const q = `query($w: StatisticsFilter!, $res: Resolution!) {
	  statistics(where: $w, resolution: $res, timeZone: "Europe/Copenhagen") { begin end minimumContributors suppressed points { begin kind sector technology amount } }
	}`
	vars := map[string]any{"w": map[string]any{"begin": map[string]any{"gte": h0, "lt": h0.Add(3 * time.Hour)}, "sector": []string{"DK1"}}, "res": "DAY"}
	for i := 0; i < 3; i++ {
		u, err := p.app.Users.Ensure(t.Context(), testkit.Subject(t)+"-"+string(rune('a'+i)))
		if err != nil {
			t.Fatal(err)
		}
		declarationWorld(t, p.app.DB, u.ID, h0)
		if i == 1 {
			// With two users every group is below the minimum: nothing is published.
			body := p.rawPost(t, "", q, vars)
			if !strings.Contains(body, `"points":[]`) || !strings.Contains(body, `"suppressed":2`) {
				t.Fatalf("two users: %s", body)
			}
		}
	}
	body := p.rawPost(t, "", q, vars)
	// Consumption 3 × 4000 Wh and retired Wind 3 × 3100 Wh on 2034-02-01 (Copenhagen day
	// starting 2034-01-31T23:00Z); the range was widened to that whole day.
	for _, want := range []string{
		`"begin":"2034-01-31T23:00:00Z","end":"2034-02-01T23:00:00Z","minimumContributors":3,"suppressed":0`,
		`{"begin":"2034-01-31T23:00:00Z","kind":"CONSUMPTION","sector":"DK1","technology":null,"amount":12000}`,
		`{"begin":"2034-01-31T23:00:00Z","kind":"RETIRED","sector":"DK1","technology":"Wind","amount":9300}`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("statistics lack %s:\n%s", want, body)
		}
	}
}
