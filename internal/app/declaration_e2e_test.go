package app_test

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/originhub/originhub/internal/testkit"
)

// declarationWorld seeds the hand-computed example of internal/eco's
// TestDeclareHandComputed for a new user: a DK1 consumption point with three hours
// (1000, 2000, 1000 Wh), Wind GGOs retired to it (600 Wh in h0, 2500 Wh in h1, and a
// pending 700 Wh in h2 that does not count), and hourly residual and grid mixes for h0 and
// h1 (h2 falls back to the seeded defaults).
func declarationWorld(t *testing.T, db *bun.DB, userID int64, h0 time.Time) string {
	t.Helper()
	ctx := t.Context()
	gsrn := fmt.Sprintf("579%06d%09d", userID%1_000_000, h0.Unix()/3600%1_000_000_000)
	var mp int64
	if err := db.NewRaw("INSERT INTO metering_points (user_id, gsrn, type, sector, street_name, city_name) VALUES (?, ?, 'CONSUMPTION', 'DK1', 'Hemmeligvej 7', 'Aarhus') RETURNING id", userID, gsrn).Scan(ctx, &mp); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, "SELECT ensure_measurement_partitions(?, ?)", h0, h0.Add(3*time.Hour)); err != nil {
		t.Fatal(err)
	}
	hour := func(n int) time.Time { return h0.Add(time.Duration(n) * time.Hour) }
	for n, wh := range []int64{1000, 2000, 1000} {
		if _, err := db.ExecContext(ctx, "INSERT INTO measurements (metering_point_id, begin_at, amount_wh) VALUES (?, ?, ?)", mp, hour(n), wh); err != nil {
			t.Fatal(err)
		}
	}
	for _, g := range []struct {
		n     int
		wh    int64
		state string
	}{{0, 600, "RETIRED"}, {1, 2000, "RETIRED"}, {1, 500, "RETIRED"}, {2, 700, "PENDING"}} {
		if _, err := db.ExecContext(ctx, `INSERT INTO ggos (user_id, begin_at, end_at, amount_wh, sector, technology_code, fuel_code,
			state, origin, issued_at, expires_at, retire_metering_point_id, retired_at)
			VALUES (?, ?, ?, ?, 'DK1', 'T020000', 'F01050100', ?, 'PART', ?, ?, ?, ?)`,
			userID, hour(g.n), hour(g.n+1), g.wh, g.state, hour(g.n), hour(g.n+2000), mp, hour(g.n)); err != nil {
			t.Fatal(err)
		}
	}
	for n := 0; n < 2; n++ {
		for _, m := range []struct {
			kind, tech string
			ppm, co2   int64
		}{{"residual", "Coal", 500_000, 800_000}, {"residual", "Wind", 500_000, 10_000}, {"grid", "Coal", 250_000, 800_000}, {"grid", "Wind", 750_000, 10_000}} {
			if _, err := db.ExecContext(ctx, `INSERT INTO energy_mix (kind, sector, begin_at, technology, share_ppm, co2eq_mg_per_kwh, source)
				VALUES (?, 'DK1', ?, ?, ?, ?, 'test') ON CONFLICT DO NOTHING`, m.kind, hour(n), m.tech, m.ppm, m.co2); err != nil {
				t.Fatal(err)
			}
		}
	}
	return gsrn
}

const declarationQuery = `query($where: DeclarationFilter!, $tz: String, $res: DeclarationResolution) {
  declaration(where: $where, timeZone: $tz, resolution: $res) {
    begin end timeZone resolution gsrn csvUrl pdfUrl
    individual { consumed retired matched excess undeclared matchedShare emissionsGrams emissionsPerKwh technologies { technology amount share emissionsGrams } }
    general { consumed emissionsGrams emissionsPerKwh }
    periods { begin hours individual { consumed matched matchedShare } }
    missingHours { hour sector kind fallback }
  }
}`

type declarationJSON struct {
	Gsrn       []string `json:"gsrn"`
	CSVURL     string   `json:"csvUrl"`
	PDFURL     string   `json:"pdfUrl"`
	Individual struct {
		Consumed, Retired, Matched, Excess, Undeclared int64
		MatchedShare, EmissionsGrams, EmissionsPerKwh  string
		Technologies                                   []struct {
			Technology     string
			Amount         int64
			Share          string
			EmissionsGrams string
		}
	}
	General struct {
		Consumed                        int64
		EmissionsGrams, EmissionsPerKwh string
	}
	Periods []struct {
		Begin      *time.Time
		Hours      int
		Individual struct {
			Consumed, Matched int64
			MatchedShare      string
		}
	}
	MissingHours []struct {
		Hour                   time.Time
		Sector, Kind, Fallback string
	}
}

func TestDeclarationOverGraphQLAndDownloads(t *testing.T) {
	p := start(t, testConfig(t, testkit.DatabaseURI(t), "GRAPHQL_MAX_DEPTH", "10", "RATE_LIMIT_PER_MINUTE", "0"))
	sub := testkit.Subject(t)
	bearer := "Bearer " + p.token(t, sub)
	u, err := p.app.Users.Ensure(t.Context(), sub)
	if err != nil {
		t.Fatal(err)
	}
	h0 := time.Date(2030, 6, 1, 0, 0, 0, 0, time.UTC)
	gsrn := declarationWorld(t, p.app.DB, u.ID, h0)
	vars := map[string]any{"where": map[string]any{"gsrn": []string{gsrn}, "begin": map[string]any{"gte": h0, "lt": h0.Add(3 * time.Hour)}}, "res": "HOUR"}

	_, r := p.post(t, bearer, declarationQuery, vars)
	if len(r.Errors) > 0 {
		t.Fatalf("declaration errors: %+v", r.Errors)
	}
	var d declarationJSON
	if err := json.Unmarshal(r.Data["declaration"], &d); err != nil {
		t.Fatal(err)
	}
	ind := d.Individual
	if ind.Consumed != 4000 || ind.Retired != 3100 || ind.Matched != 2600 || ind.Excess != 500 || ind.Undeclared != 0 {
		t.Errorf("individual amounts = %+v, want 4000/3100/2600/500/0", ind)
	}
	if ind.MatchedShare != "0.650000" || ind.EmissionsGrams != "534.960000" || ind.EmissionsPerKwh != "133.740" {
		t.Errorf("individual share/emissions = %s, %s, %s; want 0.650000, 534.960000, 133.740", ind.MatchedShare, ind.EmissionsGrams, ind.EmissionsPerKwh)
	}
	if d.General.Consumed != 4000 || d.General.EmissionsGrams != "771.770000" || d.General.EmissionsPerKwh != "192.943" {
		t.Errorf("general = %+v, want 4000, 771.770000, 192.943", d.General)
	}
	var wind int64
	var sum int64
	for _, tech := range ind.Technologies {
		sum += tech.Amount
		if tech.Technology == "Wind" {
			wind = tech.Amount
			if tech.Share != "0.720000" {
				t.Errorf("Wind share = %s, want 0.720000", tech.Share)
			}
		}
	}
	if wind != 2880 || sum != 4000 {
		t.Errorf("Wind = %d Wh, technologies sum to %d; want 2880 and 4000", wind, sum)
	}
	if len(d.Periods) != 3 || d.Periods[1].Individual.MatchedShare != "1.000000" || d.Periods[1].Begin == nil || !d.Periods[1].Begin.Equal(h0.Add(time.Hour)) {
		t.Errorf("periods = %+v, want 3 hours, the second fully matched", d.Periods)
	}
	if len(d.MissingHours) != 2 || !d.MissingHours[0].Hour.Equal(h0.Add(2*time.Hour)) || d.MissingHours[0].Fallback != "DEFAULT" ||
		d.MissingHours[0].Kind != "RESIDUAL" || d.MissingHours[1].Kind != "GRID" {
		t.Errorf("missing hours = %+v, want h2 residual and grid, filled by defaults", d.MissingHours)
	}

	t.Run("csv parses back to the same numbers", func(t *testing.T) {
		body := download(t, d.CSVURL, "", http.StatusOK)
		recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 5 { // header, 3 hours, totals
			t.Fatalf("%d CSV records, want 5:\n%s", len(recs), body)
		}
		col := map[string]int{}
		for i, h := range recs[0] {
			col[h] = i
		}
		total := recs[4]
		for name, want := range map[string]string{
			"hour_utc": "total", "consumed_kwh": "4.000", "retired_kwh": "3.100", "matched_kwh": "2.600", "excess_kwh": "0.500",
			"matched_share": "0.650000", "co2_g": "534.960", "co2_g_per_kwh": "133.740", "general_co2_g": "771.770", "kwh:Wind": "2.880",
		} {
			if got := total[col[name]]; got != want {
				t.Errorf("CSV total %s = %q, want %q", name, got, want)
			}
		}
		if got := recs[3][col["residual_mix"]]; got != "default" {
			t.Errorf("CSV h2 residual_mix = %q, want default", got)
		}
	})

	t.Run("pdf is a valid report with the numbers", func(t *testing.T) {
		body := download(t, d.PDFURL, "", http.StatusOK)
		if !strings.HasPrefix(body, "%PDF-") {
			t.Fatalf("PDF starts with %q", body[:min(8, len(body))])
		}
		text := pdfText(t, []byte(body))
		for _, want := range []string{"Environmental declaration", gsrn, "4.000", "2.600", "65.00", "0.535", "0.772", "133.740", "192.943", "2.880"} {
			if !strings.Contains(text, want) {
				t.Errorf("PDF text lacks %q:\n%s", want, text)
			}
		}
	})

	uid := u.ID
	t.Run("links are bound to their user, parameters and expiry", func(t *testing.T) {
		u, _ := url.Parse(d.CSVURL)
		q := u.Query()
		q.Set("uid", fmt.Sprint(uid+1))
		u.RawQuery = q.Encode()
		download(t, u.String(), "", http.StatusForbidden)
		q = u.Query()
		for _, k := range []string{"uid", "exp", "sig"} {
			q.Del(k)
		}
		u.RawQuery = q.Encode()
		download(t, u.String(), "", http.StatusUnauthorized)
		if body := download(t, u.String(), bearer, http.StatusOK); !strings.Contains(body, "total") {
			t.Errorf("download with Authorization = %q", body)
		}
		// Another user's token cannot read alice's points: a 400 that names nothing of hers but the GSRN asked for.
		download(t, u.String(), "Bearer "+p.token(t, testkit.Subject(t)+"-other"), http.StatusBadRequest)
	})

	t.Run("another user cannot declare the point", func(t *testing.T) {
		_, r := p.post(t, "Bearer "+p.token(t, testkit.Subject(t)+"-mallory"), declarationQuery, vars)
		if r.code() != "BAD_USER_INPUT" {
			t.Fatalf("code = %q, want BAD_USER_INPUT (%+v)", r.code(), r.Errors)
		}
		_, r = p.post(t, "", declarationQuery, vars)
		if r.code() != "UNAUTHENTICATED" {
			t.Fatalf("anonymous code = %q, want UNAUTHENTICATED", r.code())
		}
	})
}

func download(t *testing.T, link, authorization string, wantStatus int) string {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, link, nil)
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != wantStatus {
		t.Fatalf("GET %s = %d %s, want %d", link, resp.StatusCode, b, wantStatus)
	}
	return string(b)
}

// pdfText extracts the text of a PDF with pdftotext (poppler-utils); the test is skipped
// without it.
func pdfText(t *testing.T, pdf []byte) string {
	t.Helper()
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Skip("pdftotext not installed (Debian: apt-get install poppler-utils)")
	}
	file := filepath.Join(t.TempDir(), "report.pdf")
	if err := os.WriteFile(file, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.CommandContext(t.Context(), "pdftotext", "-layout", file, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, out)
	}
	return string(out)
}
