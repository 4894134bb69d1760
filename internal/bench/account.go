package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/originhub/originhub/internal/account"
	"github.com/originhub/originhub/internal/config"
)

// AccountResult is the line `originhub bench account` prints.
type AccountResult struct {
	// TransfersPerS is transfers whose operation reached COMMITTED per second, from the
	// first request to the last commit.
	TransfersPerS float64 `json:"transfers_per_s"`
	SummaryP50Ms  float64 `json:"summary_p50_ms"`
	SummaryP95Ms  float64 `json:"summary_p95_ms"`

	Clients   int `json:"clients"`
	Committed int `json:"transfers_committed"`
	// Refused are requests answered with an error (e.g. a shortage while others' GGOs are
	// in flight); Failed are operations the ledger refused.
	Refused int `json:"transfers_refused"`
	Failed  int `json:"transfers_failed"`
	// RequestsPerS is accepted transfer requests per second of the request phase.
	RequestsPerS float64 `json:"requests_per_s"`

	GGOs        int `json:"ggos"`
	SummaryRows int `json:"summary_rows"`
	// SQLBaselineP50Ms is the same summary as one plain SQL aggregate over the ggos table,
	// run in-process (no HTTP): what the summary costs without the rollup.
	SQLBaselineP50Ms float64 `json:"sql_baseline_p50_ms"`
}

// AccountOptions size the account benchmark.
type AccountOptions struct {
	// Clients transfer from one account at once (default 50).
	Clients int
	// Transfers is how many transfers are requested in all (default 2000).
	Transfers int
	// GGOs is the size of the summarised account (default 1,000,000).
	GGOs int
	// Summaries is the number of timed summary requests (default 50).
	Summaries int
	// RedisDB is the Redis DB index the platform under test uses (flushed before and after).
	RedisDB int
}

func (o AccountOptions) withDefaults() AccountOptions {
	if o.Clients <= 0 {
		o.Clients = 50
	}
	if o.Transfers <= 0 {
		o.Transfers = 2000
	}
	if o.GGOs <= 0 {
		o.GGOs = 1_000_000
	}
	if o.Summaries <= 0 {
		o.Summaries = 50
	}
	return o
}

// transferWh is what every benchmark transfer moves; production hours are 800-1199 Wh, so
// most transfers split a GGO.
const transferWh = 1000

// Account runs the account benchmark against a fresh database originhub_bench_<random> on
// the server of DATABASE_URI, which it drops at the end: o.Transfers transfers of 1 kWh by
// o.Clients concurrent clients from one account to another, through the stand-in ledger,
// then ggoSummary over GraphQL on an account of o.GGOs GGOs spread over one year.
func Account(ctx context.Context, lookup config.Lookup, log *slog.Logger, o AccountOptions) (AccountResult, error) {
	o = o.withDefaults()
	res := AccountResult{Clients: o.Clients, GGOs: o.GGOs}
	uri, drop, err := benchDatabase(ctx, lookup, log)
	if err != nil {
		return res, err
	}
	defer drop()
	p, err := startPlatform(ctx, lookup, log, uri, o.RedisDB, nil)
	if err != nil {
		return res, err
	}
	defer p.stop()
	if err := transfers(ctx, p, o, &res); err != nil {
		return res, fmt.Errorf("transfers: %w", err)
	}
	if err := summaries(ctx, p, o, &res); err != nil {
		return res, fmt.Errorf("summaries: %w", err)
	}
	return res, nil
}

// transfers publishes enough production for the sender, then runs the transfers.
func transfers(ctx context.Context, p *platform, o AccountOptions, res *AccountResult) error {
	a := p.app
	sender, err := a.Users.Ensure(ctx, "bench-sender")
	if err != nil {
		return err
	}
	recipient, err := a.Users.Ensure(ctx, "bench-recipient")
	if err != nil {
		return err
	}
	// Twice what the transfers need: at any moment a second's worth of transfers is in
	// flight (its GGOs LOCKED, the split remainders PENDING) until the ledger commits, and a
	// nearly drained account would measure the refusals at its end, not the throughput.
	hours := o.Transfers*transferWh*2/1000 + 1
	begin := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	end := begin.Add(time.Duration(hours) * time.Hour)
	if _, err := a.DB.ExecContext(ctx, "SELECT ensure_measurement_partitions(?, ?)", begin, end); err != nil {
		return err
	}
	var mpID int64
	if err := a.DB.NewRaw(`INSERT INTO metering_points (user_id, gsrn, type, sector, technology_code, fuel_code)
		VALUES (?, '579900000000000001', 'PRODUCTION', 'DK1', 'T020000', 'F01050100') RETURNING id`, sender.ID).Scan(ctx, &mpID); err != nil {
		return fmt.Errorf("create metering point: %w", err)
	}
	if _, err := a.DB.ExecContext(ctx, `INSERT INTO measurements (metering_point_id, begin_at, amount_wh)
		SELECT ?, ?::timestamptz + h * interval '1 hour', 800 + (h * 37) % 400 FROM generate_series(0, ? - 1) h`, mpID, begin, hours); err != nil {
		return fmt.Errorf("create measurements: %w", err)
	}
	if _, err := a.Publisher.PublishMeasurements(ctx, mpID, begin, end); err != nil {
		return err
	}
	if err := waitFor(ctx, 5*time.Minute, "production to be issued", func() (bool, error) {
		var stored int
		err := a.DB.NewRaw("SELECT count(*) FROM ggos WHERE user_id = ? AND state = 'STORED'", sender.ID).Scan(ctx, &stored)
		return stored == hours, err
	}); err != nil {
		return err
	}

	var left atomic.Int64
	left.Store(int64(o.Transfers))
	var refused atomic.Int64
	var firstErr error
	var once sync.Once
	g, gctx := errgroup.WithContext(ctx)
	start := time.Now()
	for range o.Clients {
		g.Go(func() error {
			for left.Add(-1) >= 0 {
				_, err := a.Account.Transfer(gctx, sender.ID, account.TransferInput{Amount: transferWh, RecipientUserID: recipient.ID})
				if err != nil {
					if gctx.Err() != nil {
						return gctx.Err()
					}
					refused.Add(1)
					once.Do(func() { firstErr = err })
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	requested := time.Since(start)
	res.Refused = int(refused.Load())
	if res.Refused == o.Transfers {
		return fmt.Errorf("every transfer refused, the first: %w", firstErr)
	}
	res.RequestsPerS = float64(o.Transfers-res.Refused) / requested.Seconds()
	if firstErr != nil {
		p.app.Log.Warn("some transfers refused", "refused", res.Refused, "first", firstErr)
	}

	var sums struct {
		Committed, Failed, Pending int
		Last                       *time.Time
	}
	if err := waitFor(ctx, 5*time.Minute, "transfers to settle", func() (bool, error) {
		err := a.DB.NewRaw(`SELECT count(*) FILTER (WHERE state = 'COMMITTED') AS committed, count(*) FILTER (WHERE state = 'FAILED') AS failed,
			count(*) FILTER (WHERE state = 'PENDING') AS pending, max(finished_at) FILTER (WHERE state = 'COMMITTED') AS last
			FROM ggo_operations WHERE user_id = ?`, sender.ID).Scan(ctx, &sums)
		return sums.Pending == 0, err
	}); err != nil {
		return err
	}
	res.Committed, res.Failed = sums.Committed, sums.Failed
	if sums.Last != nil {
		res.TransfersPerS = float64(sums.Committed) / sums.Last.Sub(start).Seconds()
	}
	return nil
}

// benchTechnologies are the (technology, fuel) codes the summarised account holds.
var benchTechnologies = [][2]string{
	{"T020001", "F01050100"}, {"T020002", "F01050100"}, {"T010000", "F01040100"}, {"T030000", "F01050200"}, {"T050000", "F01010101"},
}

// summaryQuery is the timed request: one year by day per technology.
const summaryQuery = `query($gte: Time!, $lt: Time!) {
  ggoSummary(resolution: DAY, where: {begin: {gte: $gte, lt: $lt}}, groupBy: [TECHNOLOGY]) { begin amount count technology }
}`

// summaries stores o.GGOs GGOs over 2025 for one user, then times ggoSummary requests.
func summaries(ctx context.Context, p *platform, o AccountOptions, res *AccountResult) error {
	a := p.app
	u, err := a.Users.Ensure(ctx, "bench-summary")
	if err != nil {
		return err
	}
	from := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	until := from.AddDate(1, 0, 0)
	if err := seedGGOs(ctx, p, u.ID, from, o.GGOs); err != nil {
		return err
	}
	if _, err := a.Account.CompactRollup(ctx); err != nil {
		return err
	}
	if _, err := a.DB.ExecContext(ctx, "VACUUM ANALYZE"); err != nil {
		return fmt.Errorf("vacuum: %w", err)
	}
	tok, err := a.DevIssuer.Mint(u.Subject, time.Hour)
	if err != nil {
		return err
	}
	body, err := json.Marshal(map[string]any{"query": summaryQuery, "variables": map[string]any{"gte": from, "lt": until}})
	if err != nil {
		return err
	}
	client := &http.Client{Timeout: time.Minute}
	var points []summaryPoint
	for range 5 { // warm up: connections, plans, caches
		if points, err = postSummary(ctx, client, "http://"+p.addr+"/graphql", tok, body); err != nil {
			return err
		}
	}
	if err := checkSummary(ctx, p, u.ID, from, until, points); err != nil {
		return err
	}
	res.SummaryRows = len(points)
	lat := make([]time.Duration, o.Summaries)
	for i := range lat {
		start := time.Now()
		if _, err := postSummary(ctx, client, "http://"+p.addr+"/graphql", tok, body); err != nil {
			return err
		}
		lat[i] = time.Since(start)
	}
	slices.Sort(lat)
	res.SummaryP50Ms = ms(lat[len(lat)*50/100])
	res.SummaryP95Ms = ms(lat[min(len(lat)-1, len(lat)*95/100)])

	base := make([]time.Duration, 5)
	for i := range base {
		start := time.Now()
		if _, err := plainSummary(ctx, p, u.ID, from, until); err != nil {
			return err
		}
		base[i] = time.Since(start)
	}
	slices.Sort(base)
	res.SQLBaselineP50Ms = ms(base[len(base)/2])
	return nil
}

// seedGGOs inserts n GGOs for user over the year from begin, in SQL: ceil(n/8760) producers
// each holding one GGO an hour, with their own technology and sector (a tenth of them
// received from others), in a realistic mix of states: older hours mostly spent.
func seedGGOs(ctx context.Context, p *platform, userID int64, begin time.Time, n int) error {
	points := (n + 8759) / 8760
	techs, fuels := make([]string, len(benchTechnologies)), make([]string, len(benchTechnologies))
	for i, t := range benchTechnologies {
		techs[i], fuels[i] = t[0], t[1]
	}
	_, err := p.app.DB.ExecContext(ctx, `
		INSERT INTO ggos (user_id, begin_at, end_at, amount_wh, sector, technology_code, fuel_code, state, origin, issued_at, expires_at)
		SELECT ?, h, h + interval '1 hour', 100 + (i * 7919) % 5000,
		       CASE WHEN pt % 3 = 0 THEN 'DK2' ELSE 'DK1' END,
		       (?::text[])[1 + pt % ?], (?::text[])[1 + pt % ?],
		       CASE WHEN hr < 6000 THEN (ARRAY['RETIRED', 'TRANSFERRED', 'RETIRED', 'EXPIRED', 'STORED'])[1 + (i * 31) % 5]
		            ELSE (ARRAY['STORED', 'STORED', 'STORED', 'RETIRED'])[1 + (i * 31) % 4] END,
		       CASE WHEN pt % 10 = 9 THEN 'RECEIVED' ELSE 'ISSUED' END,
		       h + interval '2 days', h + interval '90 days'
		FROM (SELECT i, i % ? AS pt, i / ? AS hr, ?::timestamptz + (i / ?) * interval '1 hour' AS h
		      FROM generate_series(0::bigint, ?::bigint - 1) AS i) s`,
		userID, pgArray(techs), len(techs), pgArray(fuels), len(fuels), points, points, begin, points, n)
	if err != nil {
		return fmt.Errorf("seed ggos: %w", err)
	}
	return nil
}

func pgArray(ss []string) string {
	b, _ := json.Marshal(ss)
	return "{" + string(b[1:len(b)-1]) + "}"
}

type summaryPoint struct {
	Begin      time.Time `json:"begin"`
	Amount     int64     `json:"amount"`
	Count      int       `json:"count"`
	Technology *string   `json:"technology"`
}

func postSummary(ctx context.Context, c *http.Client, url, token string, body []byte) ([]summaryPoint, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("post ggoSummary: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("read ggoSummary: %w", err)
	}
	var out struct {
		Data struct {
			GgoSummary []summaryPoint `json:"ggoSummary"`
		} `json:"data"`
		Errors []json.RawMessage `json:"errors"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("decode ggoSummary (%d): %w", resp.StatusCode, err)
	}
	if resp.StatusCode != http.StatusOK || len(out.Errors) > 0 {
		return nil, fmt.Errorf("ggoSummary = %d %s", resp.StatusCode, raw)
	}
	return out.Data.GgoSummary, nil
}

type plainRow struct {
	Bucket     time.Time `bun:"bucket"`
	Technology string    `bun:"technology"`
	Amount     int64     `bun:"amount_wh"`
	N          int       `bun:"n"`
}

// plainSummary is the summary as a plain SQL aggregate over ggos.
func plainSummary(ctx context.Context, p *platform, userID int64, from, until time.Time) ([]plainRow, error) {
	var rows []plainRow
	err := p.app.DB.NewRaw(`SELECT date_trunc('day', g.begin_at, 'UTC') AS bucket, coalesce(t.label, 'Unknown') AS technology,
			sum(g.amount_wh)::bigint AS amount_wh, count(*)::int AS n
		FROM ggos g LEFT JOIN technologies t ON t.technology_code = g.technology_code AND t.fuel_code = g.fuel_code
		WHERE g.user_id = ? AND g.begin_at >= ? AND g.begin_at < ?
		GROUP BY 1, 2`, userID, from, until).Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("plain summary: %w", err)
	}
	return rows, nil
}

// checkSummary compares the GraphQL answer with the plain SQL aggregate, bucket by bucket.
func checkSummary(ctx context.Context, p *platform, userID int64, from, until time.Time, got []summaryPoint) error {
	want, err := plainSummary(ctx, p, userID, from, until)
	if err != nil {
		return err
	}
	type key struct {
		day  int64
		tech string
	}
	m := map[key][2]int64{}
	for _, r := range want {
		m[key{r.Bucket.Unix(), r.Technology}] = [2]int64{r.Amount, int64(r.N)}
	}
	if len(got) != len(m) {
		return fmt.Errorf("ggoSummary has %d points, the plain SQL aggregate %d", len(got), len(m))
	}
	for _, g := range got {
		tech := ""
		if g.Technology != nil {
			tech = *g.Technology
		}
		if w := m[key{g.Begin.Unix(), tech}]; w != [2]int64{g.Amount, int64(g.Count)} {
			return fmt.Errorf("ggoSummary %s %s = %d Wh in %d, plain SQL %d Wh in %d", g.Begin, tech, g.Amount, g.Count, w[0], w[1])
		}
	}
	return nil
}

// waitFor polls cond every 50 ms until it holds, fails, or timeout passes.
func waitFor(ctx context.Context, timeout time.Duration, what string, cond func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	for {
		ok, err := cond()
		if err != nil {
			return fmt.Errorf("wait for %s: %w", what, err)
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: not within %s", what, timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}
