package app_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/originhub/originhub/internal/app"
	"github.com/originhub/originhub/internal/auth"
	"github.com/originhub/originhub/internal/config"
	"github.com/originhub/originhub/internal/db"
	"github.com/originhub/originhub/internal/ledger/outbox"
	"github.com/originhub/originhub/internal/testkit"
	"github.com/originhub/originhub/migrations"
)

func TestMain(m *testing.M) { testkit.Main(m) }

// platform is a running API on a random port against the package's test database.
type platform struct {
	app *app.App
	url string
}

func testConfig(t *testing.T, dbURI string, extra ...string) config.Config {
	t.Helper()
	ropt := testkit.RedisOptions(t)
	host, port, _ := net.SplitHostPort(ropt.Addr)
	env := map[string]string{
		"DATABASE_URI":            dbURI,
		"REDIS_HOST":              host,
		"REDIS_PORT":              port,
		"REDIS_CACHE_DB":          strconv.Itoa(ropt.DB),
		"REDIS_BROKER_DB":         strconv.Itoa(ropt.DB),
		"DATABASE_CONN_POLL_SIZE": "10",
		"GRAPHQL_MAX_DEPTH":       "3",
		"HTTP_ADDR":               "127.0.0.1:0",
	}
	for i := 0; i+1 < len(extra); i += 2 {
		env[extra[i]] = extra[i+1]
	}
	cfg, err := config.Load(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func start(t *testing.T, cfg config.Config) *platform {
	t.Helper()
	return startRoles(t, cfg, app.Roles{API: true})
}

// startRoles runs the given roles; the API listens on a random port that is also the
// platform's PROJECT_URL (the simulator and callbacks are reached through it).
func startRoles(t *testing.T, cfg config.Config, roles app.Roles) *platform {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg.HTTP.Addr = ln.Addr().String()
	cfg.ProjectURL = &url.URL{Scheme: "http", Host: ln.Addr().String()}
	a, err := app.New(ctx, cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.RunRoles(ctx, roles, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("api stopped with %v", err)
		}
		a.Close()
	})
	return &platform{app: a, url: "http://" + ln.Addr().String()}
}

func newPlatform(t *testing.T) *platform {
	t.Helper()
	return start(t, testConfig(t, testkit.DatabaseURI(t)))
}

type gqlResponse struct {
	Data       map[string]json.RawMessage `json:"data"`
	Extensions map[string]any             `json:"extensions"`
	Errors     []struct {
		Message    string         `json:"message"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
}

func (r gqlResponse) code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	c, _ := r.Errors[0].Extensions["code"].(string)
	return c
}

func (p *platform) post(t *testing.T, authorization, query string, vars map[string]any) (int, gqlResponse) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, p.url+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out gqlResponse
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("decode response (status %d): %v", resp.StatusCode, err)
	}
	return resp.StatusCode, out
}

func (p *platform) token(t *testing.T, sub string) string {
	t.Helper()
	tok, err := p.app.DevIssuer.Mint(sub, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestMeWithValidToken(t *testing.T) {
	p := newPlatform(t)
	sub := testkit.Subject(t)
	status, r := p.post(t, "Bearer "+p.token(t, sub), `{ me { id subject createdAt } }`, nil)
	if status != http.StatusOK || len(r.Errors) > 0 {
		t.Fatalf("me: status %d, errors %+v", status, r.Errors)
	}
	var me struct{ ID, Subject string }
	if err := json.Unmarshal(r.Data["me"], &me); err != nil {
		t.Fatal(err)
	}
	if me.Subject != sub {
		t.Fatalf("me.subject = %q, want %q", me.Subject, sub)
	}
	// The user row was created on first sight, and node(id:) finds it again.
	var n int
	if err := p.app.DB.NewRaw("SELECT count(*) FROM users WHERE subject = ?", sub).Scan(t.Context(), &n); err != nil || n != 1 {
		t.Fatalf("users rows for subject = %d, %v; want 1", n, err)
	}
	_, r = p.post(t, "Bearer "+p.token(t, sub), `query($id: ID!) { node(id: $id) { id ... on User { subject } } }`, map[string]any{"id": me.ID})
	if !strings.Contains(string(r.Data["node"]), sub) {
		t.Fatalf("node(me.id) = %s, want the caller", r.Data["node"])
	}
	// Another user cannot fetch it: node answers null, as for an id that does not exist.
	_, r = p.post(t, "Bearer "+p.token(t, sub+"-other"), `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": me.ID})
	if string(r.Data["node"]) != "null" || len(r.Errors) > 0 {
		t.Fatalf("other user's node(me.id) = %s %+v, want null", r.Data["node"], r.Errors)
	}
}

// craft signs nothing: it builds a token from raw parts, for alg:none and forged signatures.
func craft(header, claims map[string]any, sig []byte) string {
	enc := func(v any) string { b, _ := json.Marshal(v); return base64.RawURLEncoding.EncodeToString(b) }
	return enc(header) + "." + enc(claims) + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func TestBadTokensAreUnauthenticated(t *testing.T) {
	p := newPlatform(t)
	cfg := p.app.Config
	good := p.token(t, "mallory")
	parts := strings.Split(good, ".")
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	sig[len(sig)/2] ^= 0xff
	tampered := parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(sig)

	// Issuers sharing the dev key (the same database) but minting wrong claims.
	store := devKeyStore{p: p}
	past := func() time.Time { return time.Now().UTC().Add(-48 * time.Hour) }
	expiredIss, err := auth.NewDevIssuer(t.Context(), store, auth.DevIssuerConfig{Issuer: cfg.Auth.Issuer, Audience: cfg.Auth.Audience, Clock: past, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	wrongAud, err := auth.NewDevIssuer(t.Context(), store, auth.DevIssuerConfig{Issuer: cfg.Auth.Issuer, Audience: "someone-else"})
	if err != nil {
		t.Fatal(err)
	}
	wrongIss, err := auth.NewDevIssuer(t.Context(), store, auth.DevIssuerConfig{Issuer: "https://evil.example/", Audience: cfg.Auth.Audience})
	if err != nil {
		t.Fatal(err)
	}
	mint := func(iss *auth.DevIssuer) string {
		tok, err := iss.Mint("mallory", 0)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	claims := map[string]any{"sub": "mallory", "iss": cfg.Auth.Issuer, "aud": cfg.Auth.Audience, "exp": time.Now().Add(time.Hour).Unix()}
	none := craft(map[string]any{"alg": "none", "typ": "JWT", "kid": p.app.DevIssuer.KeyID()}, claims, nil)
	hs := craft(map[string]any{"alg": "HS256", "typ": "JWT", "kid": p.app.DevIssuer.KeyID()}, claims, sha256.New().Sum(nil))

	tests := []struct {
		name, authorization string
	}{
		{"expired", "Bearer " + mint(expiredIss)},
		{"badly signed", "Bearer " + tampered},
		{"wrong audience", "Bearer " + mint(wrongAud)},
		{"wrong issuer", "Bearer " + mint(wrongIss)},
		{"alg none", "Bearer " + none},
		{"alg HS256", "Bearer " + hs},
		{"garbage", "Bearer not.a.token"},
		{"not bearer", "Basic " + base64.StdEncoding.EncodeToString([]byte("a:b"))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Even a public field is refused: a bad token is never treated as anonymous.
			_, r := p.post(t, tc.authorization, `{ technologyLabels }`, nil)
			if r.code() != "UNAUTHENTICATED" {
				t.Fatalf("code = %q (errors %+v), want UNAUTHENTICATED", r.code(), r.Errors)
			}
			if r.Data != nil {
				t.Fatalf("data = %v, want none", r.Data)
			}
		})
	}
	t.Run("missing", func(t *testing.T) {
		_, r := p.post(t, "", `{ me { id } }`, nil)
		if r.code() != "UNAUTHENTICATED" {
			t.Fatalf("code = %q (errors %+v), want UNAUTHENTICATED", r.code(), r.Errors)
		}
	})
	t.Run("missing on a public field works", func(t *testing.T) {
		_, r := p.post(t, "", `{ technologyLabels }`, nil)
		if len(r.Errors) > 0 || !strings.Contains(string(r.Data["technologyLabels"]), "Wind") {
			t.Fatalf("technologyLabels = %s %+v", r.Data["technologyLabels"], r.Errors)
		}
	})
}

// devKeyStore reads the dev issuer's key that the platform stored.
type devKeyStore struct{ p *platform }

func (s devKeyStore) LoadOrCreate(ctx context.Context, _ func() ([]byte, error)) ([]byte, error) {
	var key []byte
	err := s.p.app.DB.NewRaw("SELECT key FROM dev_signing_keys").Scan(ctx, &key)
	return key, err
}

func TestGuards(t *testing.T) {
	p := newPlatform(t)
	tok := "Bearer " + p.token(t, testkit.Subject(t))
	t.Run("too deep", func(t *testing.T) {
		// GRAPHQL_MAX_DEPTH is 3 in this test's configuration.
		if _, r := p.post(t, tok, `{ technologies { nodes { label } } me { id } }`, nil); len(r.Errors) > 0 {
			t.Fatalf("depth 3 refused: %+v", r.Errors)
		}
		for _, q := range []string{
			`{ technologies { edges { node { label } } } }`,
			`{ technologies { edges { ...E } } } fragment E on TechnologyEdge { node { label } }`,
		} {
			status, r := p.post(t, tok, q, nil)
			if r.code() != "BAD_USER_INPUT" || r.Data != nil || !strings.Contains(r.Errors[0].Message, "depth") {
				t.Fatalf("depth 4 query: status %d, data %v, errors %+v; want it refused before execution", status, r.Data, r.Errors)
			}
		}
	})
	t.Run("complexity", func(t *testing.T) {
		// 100 items × many aliases exceeds the default complexity limit of 5000.
		var b strings.Builder
		b.WriteString("{")
		for i := range 60 {
			fmt.Fprintf(&b, " a%d: technologies(first: 100) { nodes { label technologyCode fuelCode } }", i)
		}
		b.WriteString(" }")
		status, r := p.post(t, tok, b.String(), nil)
		if len(r.Errors) == 0 || r.Data != nil {
			t.Fatalf("complex query ran: status %d", status)
		}
		if !strings.Contains(r.Errors[0].Message, "complexity") {
			t.Fatalf("message = %q, want it to name the complexity limit", r.Errors[0].Message)
		}
	})
	t.Run("body too large", func(t *testing.T) {
		big := strings.Repeat(" ", 2<<20)
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, p.url+"/graphql", strings.NewReader(`{"query":"{ __typename }`+big+`"}`))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Fatalf("status = %d, want 413", resp.StatusCode)
		}
	})
	t.Run("bad pagination", func(t *testing.T) {
		_, r := p.post(t, "", `{ technologies(first: 1000) { nodes { label } } }`, nil)
		if r.code() != "BAD_USER_INPUT" || !strings.Contains(r.Errors[0].Message, "first") {
			t.Fatalf("errors = %+v, want BAD_USER_INPUT about first", r.Errors)
		}
	})
}

func TestReadyzFailsWithoutDatabase(t *testing.T) {
	uri := testkit.FreshDatabase(t)
	d, err := db.Open(t.Context(), db.Options{URI: uri, PoolSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := migrations.Up(t.Context(), d); err != nil {
		t.Fatal(err)
	}
	d.Close()
	p := start(t, testConfig(t, uri))
	get := func() int {
		resp, err := http.Get(p.url + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if s := get(); s != http.StatusOK {
		t.Fatalf("/readyz = %d with the database up, want 200", s)
	}
	if err := db.DropDatabase(t.Context(), uri); err != nil {
		t.Fatal(err)
	}
	if s := get(); s != http.StatusServiceUnavailable {
		t.Fatalf("/readyz = %d with the database gone, want 503", s)
	}
	resp, err := http.Get(p.url + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/healthz = %d, want 200 (the process is alive)", resp.StatusCode)
	}
}

// wsClient speaks graphql-transport-ws.
func dialWS(t *testing.T, p *platform, payload map[string]any) (*websocket.Conn, error) {
	t.Helper()
	u, _ := url.Parse(p.url)
	u.Scheme = "ws"
	u.Path = "/graphql"
	c, _, err := websocket.Dial(t.Context(), u.String(), &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { c.CloseNow() })
	if err := wsjson.Write(t.Context(), c, map[string]any{"type": "connection_init", "payload": payload}); err != nil {
		return nil, err
	}
	return c, nil
}

type wsMessage struct {
	ID      string          `json:"id"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload"`
}

func readUntil(t *testing.T, c *websocket.Conn, typ string) (wsMessage, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	for {
		var m wsMessage
		if err := wsjson.Read(ctx, c, &m); err != nil {
			return m, err
		}
		if m.Type == typ {
			return m, nil
		}
		if m.Type == "ping" {
			_ = wsjson.Write(ctx, c, map[string]any{"type": "pong"})
		}
	}
}

func TestSubscriptionDeliversOwnBatchesOnly(t *testing.T) {
	p := newPlatform(t)
	ctx := t.Context()
	alice, bob := testkit.Subject(t)+"-alice", testkit.Subject(t)+"-bob"
	c, err := dialWS(t, p, map[string]any{"Authorization": "Bearer " + p.token(t, alice)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := readUntil(t, c, "connection_ack"); err != nil {
		t.Fatalf("no connection_ack: %v", err)
	}
	if err := wsjson.Write(ctx, c, map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{
		"query": `subscription { ledgerBatchUpdated { batchId status kind } }`,
	}}); err != nil {
		t.Fatal(err)
	}
	aliceUser, err := p.app.Users.Ensure(ctx, alice)
	if err != nil {
		t.Fatal(err)
	}
	bobUser, err := p.app.Users.Ensure(ctx, bob)
	if err != nil {
		t.Fatal(err)
	}
	batch := func(userID int64, n int) string {
		id := hex.EncodeToString(bytes.Repeat([]byte{byte(n)}, 64))
		if _, err := p.app.DB.ExecContext(ctx, "INSERT INTO ledger_batches (id, user_id, kind, body, status) VALUES (?, ?, 'TEST', '\\x00', 'COMMITTED')", id, userID); err != nil {
			t.Fatal(err)
		}
		return id
	}
	bobsBatch, alicesBatch := batch(bobUser.ID, 1), batch(aliceUser.ID, 2)
	// The resolver subscribes asynchronously; publish until alice's event arrives.
	testkit.Eventually(t, 5*time.Second, func() bool { return p.app.Bus.Subscribers(outbox.UserTopic(aliceUser.ID)) == 1 }, "subscription registered")
	// Bob's event, even published on alice's topic, must not reach her: the batch is not hers.
	if err := outbox.Notify(ctx, p.app.Bus, aliceUser.ID, outbox.Event{BatchID: bobsBatch, Status: "COMMITTED"}); err != nil {
		t.Fatal(err)
	}
	if err := outbox.Notify(ctx, p.app.Bus, bobUser.ID, outbox.Event{BatchID: bobsBatch, Status: "COMMITTED"}); err != nil {
		t.Fatal(err)
	}
	if err := outbox.Notify(ctx, p.app.Bus, aliceUser.ID, outbox.Event{BatchID: alicesBatch, Status: "COMMITTED"}); err != nil {
		t.Fatal(err)
	}
	m, err := readUntil(t, c, "next")
	if err != nil {
		t.Fatalf("no event: %v", err)
	}
	var got struct {
		Data struct {
			LedgerBatchUpdated struct{ BatchID, Status, Kind string }
		}
	}
	if err := json.Unmarshal(m.Payload, &got); err != nil {
		t.Fatal(err)
	}
	if got.Data.LedgerBatchUpdated.BatchID != alicesBatch || got.Data.LedgerBatchUpdated.Status != "COMMITTED" {
		t.Fatalf("event = %+v, want alice's batch %s COMMITTED (and never bob's)", got.Data.LedgerBatchUpdated, alicesBatch)
	}
}

func TestSubscriptionBadTokenClosedWith4403(t *testing.T) {
	p := newPlatform(t)
	for name, payload := range map[string]map[string]any{
		"bad token": {"Authorization": "Bearer nope"},
		"no token":  {},
	} {
		t.Run(name, func(t *testing.T) {
			c, err := dialWS(t, p, payload)
			if err != nil {
				t.Fatal(err)
			}
			_, err = readUntil(t, c, "connection_ack")
			if code := websocket.CloseStatus(err); code != 4403 {
				t.Fatalf("close status = %d (%v), want 4403", code, err)
			}
		})
	}
}

func TestGetQueriesAndGraphiQL(t *testing.T) {
	p := newPlatform(t)
	resp, err := http.Get(p.url + "/graphql?query=" + url.QueryEscape(`{ technologies(first: 2, where: {label: "Wind"}) { totalCount nodes { technologyCode } } }`))
	if err != nil {
		t.Fatal(err)
	}
	var r gqlResponse
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if !strings.Contains(string(r.Data["technologies"]), `"totalCount":3`) {
		t.Fatalf("GET technologies = %s %+v, want totalCount 3 (Wind rows)", r.Data["technologies"], r.Errors)
	}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err = noRedirect.Get(p.url + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/graphiql/" {
		t.Fatalf("GET / = %d to %q, want a redirect to /graphiql/", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, err = http.Get(p.url + "/graphiql/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.Contains(page, []byte("<html")) || resp.Header.Get("Content-Security-Policy") == "" {
		t.Fatalf("GET /graphiql/ = %d, %d bytes, CSP %q", resp.StatusCode, len(page), resp.Header.Get("Content-Security-Policy"))
	}
	resp, err = http.Get(p.url + "/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	var jwks struct{ Keys []map[string]any }
	_ = json.NewDecoder(resp.Body).Decode(&jwks)
	resp.Body.Close()
	if len(jwks.Keys) != 1 || jwks.Keys[0]["d"] != nil {
		t.Fatalf("jwks = %+v, want one public key", jwks)
	}
	resp, err = http.Get(p.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Contains(metrics, []byte(`originhub_graphql_requests_total{operation="anonymous",outcome="ok",type="query"}`)) {
		t.Fatalf("metrics lack the GraphQL request counter:\n%s", metrics)
	}
}

func TestRateLimitPerSubject(t *testing.T) {
	p := start(t, testConfig(t, testkit.DatabaseURI(t), "RATE_LIMIT_PER_MINUTE", "3"))
	alice := "Bearer " + p.token(t, testkit.Subject(t)+"-alice")
	bob := "Bearer " + p.token(t, testkit.Subject(t)+"-bob")
	var last gqlResponse
	for range 4 {
		_, last = p.post(t, alice, `{ me { id } }`, nil)
	}
	// The calendar minute may roll over mid-test and reset the budget; then try once more.
	if last.code() != "RATE_LIMITED" {
		for range 4 {
			_, last = p.post(t, alice, `{ me { id } }`, nil)
		}
	}
	if last.code() != "RATE_LIMITED" {
		t.Fatalf("4th request in a minute: errors %+v, want RATE_LIMITED", last.Errors)
	}
	if _, r := p.post(t, bob, `{ me { id } }`, nil); len(r.Errors) > 0 {
		t.Fatalf("another subject was limited too: %+v", r.Errors)
	}
}

func TestCostIsReported(t *testing.T) {
	p := newPlatform(t)
	_, r := p.post(t, "", `{ technologies(first: 10) { nodes { label } } }`, nil)
	// 1 for the connection + 10 items × (nodes 1 + label 1).
	cost, _ := r.Extensions["cost"].(map[string]any)
	if cost == nil || cost["complexity"].(float64) != 21 || cost["limit"].(float64) != 5000 {
		t.Fatalf("extensions = %v, want cost {complexity: 21, limit: 5000}", r.Extensions)
	}
}
