// Package config loads OriginHub's configuration from environment variables.
//
// Names follow the reference services where they exist (DATABASE_URI, REDIS_HOST, ...)
// plus OriginHub's own. Every variable has a default that works on a developer machine
// with local Postgres and Redis; an invalid value fails Load with an error that names
// the variable.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Secret is a string that never appears in logs.
type Secret string

// LogValue redacts the secret for log/slog.
func (s Secret) LogValue() slog.Value {
	if s == "" {
		return slog.StringValue("")
	}
	return slog.StringValue("[redacted]")
}

// String redacts the secret for fmt.
func (s Secret) String() string { return "[redacted]" }

// Reveal returns the secret's value, for the one place that needs it.
func (s Secret) Reveal() string { return string(s) }

// Config is the whole configuration, one nested struct per area.
type Config struct {
	Debug      bool
	ProjectURL *url.URL
	Secret     Secret

	HTTP       HTTP
	Database   Database
	Redis      Redis
	Auth       Auth
	Worker     Worker
	Ledger     Ledger
	ElOverblik ElOverblik
	Webhook    Webhook
	Import     Import
}

// HTTP configures the API listener.
type HTTP struct {
	Addr            string
	CORSOrigins     []string
	RequestTimeout  time.Duration
	MaxBodyBytes    int64
	MaxDepth        int
	MaxComplexity   int
	ShutdownTimeout time.Duration
	RateLimit       int // requests per subject per minute; 0 disables
}

// Database configures Postgres.
type Database struct {
	URI      string
	PoolSize int
}

// Redis configures the Redis connections. The reference split caches, the task broker and
// results across DB indexes; we keep the same variables.
type Redis struct {
	Addr      string
	Username  string
	Password  Secret
	CacheDB   int
	BrokerDB  int
	BackendDB int
}

// Auth configures token verification. An empty JWKSURL means the dev issuer is used.
type Auth struct {
	JWKSURL  string
	Issuer   string
	Audience string
	HydraURL string
}

// BaseURL is where the ElOverblik client sends requests: the configured service, or the
// simulator on this platform.
func (e ElOverblik) BaseURL(project *url.URL) string {
	if e.ServiceURL != "" {
		return strings.TrimSuffix(e.ServiceURL, "/")
	}
	return strings.TrimSuffix(project.String(), "/") + "/sim/eloverblik"
}

// Onboarding is the consent page users are sent to: the configured one, or the simulator's.
func (e ElOverblik) Onboarding(project *url.URL) string {
	if e.OnboardingURL != "" {
		return e.OnboardingURL
	}
	return strings.TrimSuffix(project.String(), "/") + "/sim/eloverblik/onboarding"
}

// DevMode reports whether the built-in dev token issuer is in charge.
func (a Auth) DevMode() bool { return a.JWKSURL == "" }

// Worker configures the asynq worker.
type Worker struct {
	Concurrency int
}

// Ledger configures the ledger endpoint. An empty URL means the built-in stand-in.
type Ledger struct {
	URL string
	// Mode and CommitDelay configure the built-in stand-in: "strict" (default) or
	// "compatible", and how long a batch stays PENDING before it is applied.
	Mode        string
	CommitDelay time.Duration
	// PollInterval is how often each worker asks the ledger about batches that fell due.
	PollInterval time.Duration
}

// ElOverblik configures the DataHub ThirdParty API. An empty ServiceURL means the simulator.
type ElOverblik struct {
	ServiceURL    string
	Simulator     bool // mount the simulator at /sim/eloverblik
	Token         Secret
	ThirdPartyID  string
	OnboardingURL string
	AccessFrom    time.Time // asked for at onboarding; zero: FIRST_MEASUREMENT_TIME
	AccessTo      time.Time // zero: three years from the request
}

// Webhook configures outgoing webhooks.
type Webhook struct {
	Secret Secret
	// AllowPrivateTargets lets webhook URLs reach loopback, private and link-local
	// addresses. It defaults to true only in dev mode (AUTH_JWKS_URL empty), where
	// receivers run on the same machine; in production it stays off against SSRF.
	AllowPrivateTargets bool
}

// Import bounds the measurement import window.
type Import struct {
	FirstMeasurementTime time.Time
	LastMeasurementTime  time.Time // zero: no upper bound
}

// Lookup reads one variable; os.LookupEnv in production, a map in tests.
type Lookup func(name string) (string, bool)

// Load reads the configuration through lookup and validates it.
func Load(lookup Lookup) (Config, error) {
	r := reader{lookup: lookup}
	c := Config{
		Debug:  r.bool("DEBUG", false),
		Secret: Secret(r.str("SECRET", "originhub-dev-secret-change-me")),
		HTTP: HTTP{
			Addr:            r.str("HTTP_ADDR", "127.0.0.1:8080"),
			CORSOrigins:     r.list("CORS_ORIGINS"),
			RequestTimeout:  r.duration("HTTP_REQUEST_TIMEOUT", 30*time.Second),
			MaxBodyBytes:    int64(r.int("HTTP_MAX_BODY_BYTES", 1<<20)),
			MaxDepth:        r.int("GRAPHQL_MAX_DEPTH", 12),
			MaxComplexity:   r.int("GRAPHQL_MAX_COMPLEXITY", 5000),
			ShutdownTimeout: r.duration("SHUTDOWN_TIMEOUT", 25*time.Second),
			RateLimit:       r.int("RATE_LIMIT_PER_MINUTE", 600),
		},
		Database: Database{
			URI:      r.str("DATABASE_URI", "postgres://postgres@127.0.0.1:5432/originhub?sslmode=disable"),
			PoolSize: r.int("DATABASE_CONN_POLL_SIZE", 20),
		},
		Redis: Redis{
			Addr:      net.JoinHostPort(r.str("REDIS_HOST", "127.0.0.1"), strconv.Itoa(r.int("REDIS_PORT", 6379))),
			Username:  r.str("REDIS_USERNAME", ""),
			Password:  Secret(r.str("REDIS_PASSWORD", "")),
			CacheDB:   r.int("REDIS_CACHE_DB", 0),
			BrokerDB:  r.int("REDIS_BROKER_DB", 1),
			BackendDB: r.int("REDIS_BACKEND_DB", 2),
		},
		Auth: Auth{
			JWKSURL:  r.str("AUTH_JWKS_URL", ""),
			Issuer:   r.str("AUTH_ISSUER", ""),
			Audience: r.str("AUTH_AUDIENCE", "originhub"),
			HydraURL: r.str("HYDRA_URL", ""),
		},
		Worker: Worker{Concurrency: r.int("CONCURRENCY", 8)},
		Ledger: Ledger{
			URL:          r.str("LEDGER_URL", ""),
			Mode:         r.str("LEDGER_MODE", "strict"),
			CommitDelay:  r.duration("LEDGER_COMMIT_DELAY", 200*time.Millisecond),
			PollInterval: r.duration("LEDGER_POLL_INTERVAL", 100*time.Millisecond),
		},
		ElOverblik: ElOverblik{
			ServiceURL:    r.str("ELOVERBLIK_SERVICE_URL", ""),
			Simulator:     r.bool("ELOVERBLIK_SIMULATOR", r.str("ELOVERBLIK_SERVICE_URL", "") == ""),
			Token:         Secret(r.str("ELOVERBLIK_TOKEN", "")),
			ThirdPartyID:  r.str("ELOVERBLIK_THIRD_PARTY_ID", "originhub"),
			OnboardingURL: r.str("ELOVERBLIK_ONBOARDING_URL", ""),
			AccessFrom:    r.time("ELOVERBLIK_REQUEST_ACCESS_FROM", time.Time{}),
			AccessTo:      r.time("ELOVERBLIK_REQUEST_ACCESS_TO", time.Time{}),
		},
		Webhook: Webhook{
			Secret:              Secret(r.str("WEBHOOK_SECRET", "originhub-dev-webhook-secret")),
			AllowPrivateTargets: r.bool("WEBHOOK_ALLOW_PRIVATE_TARGETS", r.str("AUTH_JWKS_URL", "") == ""),
		},
		Import: Import{
			FirstMeasurementTime: r.time("FIRST_MEASUREMENT_TIME", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)),
			LastMeasurementTime:  r.time("LAST_MEASUREMENT_TIME", time.Time{}),
		},
	}
	c.ProjectURL = r.url("PROJECT_URL", "http://"+c.HTTP.Addr)
	if c.Auth.Issuer == "" && c.Auth.DevMode() {
		c.Auth.Issuer = strings.TrimSuffix(c.ProjectURL.String(), "/") + "/"
	}
	if err := errors.Join(r.errs...); err != nil {
		return Config{}, err
	}
	return c, c.Validate()
}

// Validate checks relations between values that parsing alone cannot.
func (c Config) Validate() error {
	var errs []error
	check := func(ok bool, name, msg string) {
		if !ok {
			errs = append(errs, fmt.Errorf("%s: %s", name, msg))
		}
	}
	_, _, err := net.SplitHostPort(c.HTTP.Addr)
	check(err == nil, "HTTP_ADDR", "must be host:port")
	check(c.HTTP.RequestTimeout > 0, "HTTP_REQUEST_TIMEOUT", "must be positive")
	check(c.HTTP.MaxBodyBytes >= 1024, "HTTP_MAX_BODY_BYTES", "must be at least 1024")
	check(c.HTTP.MaxDepth >= 2 && c.HTTP.MaxDepth <= 100, "GRAPHQL_MAX_DEPTH", "must be between 2 and 100")
	check(c.HTTP.MaxComplexity >= 10, "GRAPHQL_MAX_COMPLEXITY", "must be at least 10")
	check(c.HTTP.RateLimit >= 0, "RATE_LIMIT_PER_MINUTE", "must not be negative")
	check(c.Database.PoolSize >= 1 && c.Database.PoolSize <= 1000, "DATABASE_CONN_POLL_SIZE", "must be between 1 and 1000")
	if u, err := url.Parse(c.Database.URI); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || strings.Trim(u.Path, "/") == "" {
		errs = append(errs, errors.New("DATABASE_URI: must be a postgres:// URL with a database name"))
	}
	for name, db := range map[string]int{"REDIS_CACHE_DB": c.Redis.CacheDB, "REDIS_BROKER_DB": c.Redis.BrokerDB, "REDIS_BACKEND_DB": c.Redis.BackendDB} {
		check(db >= 0 && db <= 15, name, "must be between 0 and 15")
	}
	check(c.Ledger.Mode == "strict" || c.Ledger.Mode == "compatible", "LEDGER_MODE", "must be strict or compatible")
	check(c.Ledger.CommitDelay >= 0, "LEDGER_COMMIT_DELAY", "must not be negative")
	check(c.Ledger.PollInterval >= 10*time.Millisecond && c.Ledger.PollInterval <= time.Minute, "LEDGER_POLL_INTERVAL", "must be between 10ms and 1m")
	check(c.Worker.Concurrency >= 1 && c.Worker.Concurrency <= 1000, "CONCURRENCY", "must be between 1 and 1000")
	check(len(c.Secret) >= 16, "SECRET", "must be at least 16 characters")
	check(len(c.Webhook.Secret) >= 16, "WEBHOOK_SECRET", "must be at least 16 characters")
	for name, raw := range map[string]string{"AUTH_JWKS_URL": c.Auth.JWKSURL, "LEDGER_URL": c.Ledger.URL, "ELOVERBLIK_SERVICE_URL": c.ElOverblik.ServiceURL, "ELOVERBLIK_ONBOARDING_URL": c.ElOverblik.OnboardingURL, "HYDRA_URL": c.Auth.HydraURL} {
		if raw == "" {
			continue
		}
		u, err := url.Parse(raw)
		check(err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "", name, "must be an absolute http(s) URL")
	}
	check(c.ElOverblik.ServiceURL == "" || c.ElOverblik.Token != "" || c.ElOverblik.Simulator, "ELOVERBLIK_TOKEN", "is required when ELOVERBLIK_SERVICE_URL is set")
	check(!c.Auth.DevMode() || c.Auth.Issuer != "", "AUTH_ISSUER", "is required")
	check(c.Auth.DevMode() || c.Auth.Issuer != "", "AUTH_ISSUER", "is required when AUTH_JWKS_URL is set")
	check(c.Import.LastMeasurementTime.IsZero() || c.Import.LastMeasurementTime.After(c.Import.FirstMeasurementTime), "LAST_MEASUREMENT_TIME", "must be after FIRST_MEASUREMENT_TIME")
	return errors.Join(errs...)
}

// DatabaseName returns the database named in DATABASE_URI.
func (d Database) DatabaseName() string {
	u, err := url.Parse(d.URI)
	if err != nil {
		return ""
	}
	return strings.Trim(u.Path, "/")
}

type reader struct {
	lookup Lookup
	errs   []error
}

func (r *reader) str(name, def string) string {
	if v, ok := r.lookup(name); ok && strings.TrimSpace(v) != "" {
		return strings.TrimSpace(v)
	}
	return def
}

func (r *reader) fail(name, raw, want string) {
	r.errs = append(r.errs, fmt.Errorf("%s: %q is not %s", name, raw, want))
}

func (r *reader) int(name string, def int) int {
	raw := r.str(name, "")
	if raw == "" {
		return def
	}
	v, err := strconv.Atoi(raw)
	if err != nil {
		r.fail(name, raw, "an integer")
		return def
	}
	return v
}

func (r *reader) bool(name string, def bool) bool {
	raw := r.str(name, "")
	if raw == "" {
		return def
	}
	v, err := strconv.ParseBool(raw)
	if err != nil {
		r.fail(name, raw, "a boolean (true/false/1/0)")
		return def
	}
	return v
}

func (r *reader) duration(name string, def time.Duration) time.Duration {
	raw := r.str(name, "")
	if raw == "" {
		return def
	}
	v, err := time.ParseDuration(raw)
	if err != nil {
		r.fail(name, raw, "a duration such as 30s or 5m")
		return def
	}
	return v
}

func (r *reader) time(name string, def time.Time) time.Time {
	raw := r.str(name, "")
	if raw == "" {
		return def
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02"} {
		if v, err := time.Parse(layout, raw); err == nil {
			return v.UTC()
		}
	}
	r.fail(name, raw, "an RFC 3339 time or a YYYY-MM-DD date")
	return def
}

func (r *reader) url(name, def string) *url.URL {
	raw := r.str(name, def)
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		r.fail(name, raw, "an absolute http(s) URL")
		u, _ = url.Parse(def)
	}
	return u
}

func (r *reader) list(name string) []string {
	raw := r.str(name, "")
	if raw == "" {
		return nil
	}
	var out []string
	for _, p := range strings.Split(raw, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Variables documents every variable Load reads, for --help and the README.
var Variables = []struct{ Name, Default, Doc string }{
	{"HTTP_ADDR", "127.0.0.1:8080", "address the API listens on"},
	{"PROJECT_URL", "http://$HTTP_ADDR", "public base URL (onboarding return URLs, dev token issuer)"},
	{"DATABASE_URI", "postgres://postgres@127.0.0.1:5432/originhub?sslmode=disable", "Postgres URL; serve creates the database if missing"},
	{"DATABASE_CONN_POLL_SIZE", "20", "maximum open Postgres connections per process"},
	{"REDIS_HOST", "127.0.0.1", "Redis host"},
	{"REDIS_PORT", "6379", "Redis port"},
	{"REDIS_USERNAME", "", "Redis ACL user"},
	{"REDIS_PASSWORD", "", "Redis password"},
	{"REDIS_CACHE_DB", "0", "Redis DB for caches, pub/sub and rate limits"},
	{"REDIS_BROKER_DB", "1", "Redis DB for the asynq task queues"},
	{"REDIS_BACKEND_DB", "2", "Redis DB reserved for task results"},
	{"CONCURRENCY", "8", "asynq worker concurrency"},
	{"AUTH_JWKS_URL", "", "JWKS of the token issuer (Hydra or any OIDC issuer); empty: dev issuer"},
	{"AUTH_ISSUER", "$PROJECT_URL/ in dev mode", "required iss claim"},
	{"AUTH_AUDIENCE", "originhub", "required aud claim"},
	{"HYDRA_URL", "", "Hydra public URL (informational; verification uses AUTH_JWKS_URL)"},
	{"SECRET", "originhub-dev-secret-change-me", "secret for encrypting keys at rest (>= 16 chars; change in production)"},
	{"WEBHOOK_SECRET", "originhub-dev-webhook-secret", "default HMAC secret for outgoing webhooks"},
	{"WEBHOOK_ALLOW_PRIVATE_TARGETS", "true in dev mode (AUTH_JWKS_URL empty), else false", "let webhook URLs reach loopback, private and link-local addresses"},
	{"CORS_ORIGINS", "", "comma-separated origins allowed by CORS and WebSocket"},
	{"DEBUG", "false", "log SQL and debug details"},
	{"LEDGER_URL", "", "Sawtooth REST API URL; empty: built-in stand-in ledger"},
	{"LEDGER_MODE", "strict", "stand-in ledger mode: strict (also rejects what the real processor forgets) or compatible"},
	{"LEDGER_COMMIT_DELAY", "200ms", "how long the stand-in ledger keeps a batch PENDING"},
	{"LEDGER_POLL_INTERVAL", "100ms", "how often each worker asks the ledger about batches whose next status poll is due"},
	{"ELOVERBLIK_SERVICE_URL", "", "ElOverblik ThirdParty API URL; empty: built-in simulator"},
	{"ELOVERBLIK_TOKEN", "", "ElOverblik refresh token (required with ELOVERBLIK_SERVICE_URL)"},
	{"ELOVERBLIK_SIMULATOR", "true when ELOVERBLIK_SERVICE_URL is empty", "serve the ElOverblik simulator at /sim/eloverblik (e.g. on the api while workers point ELOVERBLIK_SERVICE_URL at it)"},
	{"ELOVERBLIK_THIRD_PARTY_ID", "originhub", "third-party id in the onboarding URL"},
	{"ELOVERBLIK_ONBOARDING_URL", "", "ElOverblik onboarding page; empty: simulator page"},
	{"ELOVERBLIK_REQUEST_ACCESS_FROM", "", "fromDate asked for at onboarding"},
	{"ELOVERBLIK_REQUEST_ACCESS_TO", "", "toDate asked for at onboarding"},
	{"FIRST_MEASUREMENT_TIME", "2026-01-01", "earliest hour imported"},
	{"LAST_MEASUREMENT_TIME", "", "latest hour imported (empty: now)"},
	{"HTTP_REQUEST_TIMEOUT", "30s", "deadline of one HTTP request"},
	{"HTTP_MAX_BODY_BYTES", "1048576", "largest accepted request body"},
	{"GRAPHQL_MAX_DEPTH", "12", "deepest accepted GraphQL selection"},
	{"GRAPHQL_MAX_COMPLEXITY", "5000", "highest accepted GraphQL complexity"},
	{"RATE_LIMIT_PER_MINUTE", "600", "GraphQL requests per subject per minute (0: off)"},
	{"SHUTDOWN_TIMEOUT", "25s", "how long SIGTERM waits for requests and tasks to finish"},
}
