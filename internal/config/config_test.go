package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/originhub/originhub/internal/config"
)

func lookup(env map[string]string) config.Lookup {
	return func(k string) (string, bool) { v, ok := env[k]; return v, ok }
}

func TestDefaultsWorkLocally(t *testing.T) {
	c, err := config.Load(lookup(nil))
	if err != nil {
		t.Fatalf("Load() with no environment: %v", err)
	}
	if c.HTTP.Addr != "127.0.0.1:8080" || c.Redis.Addr != "127.0.0.1:6379" || !c.Auth.DevMode() {
		t.Fatalf("defaults = %+v", c)
	}
	if c.Auth.Issuer != "http://127.0.0.1:8080/" {
		t.Fatalf("dev issuer = %q, want the project URL", c.Auth.Issuer)
	}
	if c.Database.DatabaseName() != "originhub" {
		t.Fatalf("database = %q", c.Database.DatabaseName())
	}
}

func TestInvalidValuesNameTheVariable(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"port not a number", map[string]string{"REDIS_PORT": "x"}, "REDIS_PORT"},
		{"bad duration", map[string]string{"HTTP_REQUEST_TIMEOUT": "soon"}, "HTTP_REQUEST_TIMEOUT"},
		{"bad bool", map[string]string{"DEBUG": "maybe"}, "DEBUG"},
		{"bad time", map[string]string{"FIRST_MEASUREMENT_TIME": "yesterday"}, "FIRST_MEASUREMENT_TIME"},
		{"bad addr", map[string]string{"HTTP_ADDR": "8080"}, "HTTP_ADDR"},
		{"bad database uri", map[string]string{"DATABASE_URI": "mysql://x/y"}, "DATABASE_URI"},
		{"pool too big", map[string]string{"DATABASE_CONN_POLL_SIZE": "100000"}, "DATABASE_CONN_POLL_SIZE"},
		{"redis db out of range", map[string]string{"REDIS_BROKER_DB": "16"}, "REDIS_BROKER_DB"},
		{"relative ledger url", map[string]string{"LEDGER_URL": "/ledger"}, "LEDGER_URL"},
		{"unknown ledger mode", map[string]string{"LEDGER_MODE": "lenient"}, "LEDGER_MODE"},
		{"negative commit delay", map[string]string{"LEDGER_COMMIT_DELAY": "-1s"}, "LEDGER_COMMIT_DELAY"},
		{"eloverblik without token", map[string]string{"ELOVERBLIK_SERVICE_URL": "https://api.example"}, "ELOVERBLIK_TOKEN"},
		{"jwks without issuer", map[string]string{"AUTH_JWKS_URL": "https://hydra.example/.well-known/jwks.json"}, "AUTH_ISSUER"},
		{"short secret", map[string]string{"SECRET": "short"}, "SECRET"},
		{"window reversed", map[string]string{"FIRST_MEASUREMENT_TIME": "2026-01-01", "LAST_MEASUREMENT_TIME": "2025-01-01"}, "LAST_MEASUREMENT_TIME"},
		{"depth too small", map[string]string{"GRAPHQL_MAX_DEPTH": "1"}, "GRAPHQL_MAX_DEPTH"},
		{"short webhook secret", map[string]string{"WEBHOOK_SECRET": "short"}, "WEBHOOK_SECRET"},
		{"bad private targets flag", map[string]string{"WEBHOOK_ALLOW_PRIVATE_TARGETS": "sometimes"}, "WEBHOOK_ALLOW_PRIVATE_TARGETS"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := config.Load(lookup(tc.env))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Load() error = %v, want one naming %s", err, tc.want)
			}
		})
	}
}

func TestValuesAreParsed(t *testing.T) {
	c, err := config.Load(lookup(map[string]string{
		"REDIS_HOST": "redis", "REDIS_PORT": "6380", "HTTP_REQUEST_TIMEOUT": "5s",
		"FIRST_MEASUREMENT_TIME": "2025-03-01T00:00:00+01:00", "CORS_ORIGINS": "https://a.example, https://b.example",
		"AUTH_JWKS_URL": "https://hydra.example/.well-known/jwks.json", "AUTH_ISSUER": "https://hydra.example/",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Redis.Addr != "redis:6380" || c.HTTP.RequestTimeout != 5*time.Second || len(c.HTTP.CORSOrigins) != 2 || c.Auth.DevMode() {
		t.Fatalf("parsed = %+v", c)
	}
	if want := time.Date(2025, 2, 28, 23, 0, 0, 0, time.UTC); !c.Import.FirstMeasurementTime.Equal(want) || c.Import.FirstMeasurementTime.Location() != time.UTC {
		t.Fatalf("FIRST_MEASUREMENT_TIME = %v, want %v in UTC", c.Import.FirstMeasurementTime, want)
	}
}

func TestSecretsAreRedacted(t *testing.T) {
	s := config.Secret("hunter2-hunter2-hunter2")
	if strings.Contains(s.String(), "hunter2") || strings.Contains(s.LogValue().String(), "hunter2") {
		t.Fatal("secret leaked through String or LogValue")
	}
}

// TestWebhookPrivateTargetsDefault: private webhook targets are allowed by default only in
// dev mode, where receivers run on the same machine; an explicit value wins either way.
func TestWebhookPrivateTargetsDefault(t *testing.T) {
	prod := map[string]string{"AUTH_JWKS_URL": "https://hydra.example/.well-known/jwks.json", "AUTH_ISSUER": "https://hydra.example/"}
	tests := []struct {
		name string
		env  map[string]string
		want bool
	}{
		{"dev mode", nil, true},
		{"dev mode, turned off", map[string]string{"WEBHOOK_ALLOW_PRIVATE_TARGETS": "false"}, false},
		{"production", prod, false},
		{"production, turned on", map[string]string{"AUTH_JWKS_URL": prod["AUTH_JWKS_URL"], "AUTH_ISSUER": prod["AUTH_ISSUER"], "WEBHOOK_ALLOW_PRIVATE_TARGETS": "true"}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := config.Load(lookup(tc.env))
			if err != nil {
				t.Fatal(err)
			}
			if c.Webhook.AllowPrivateTargets != tc.want {
				t.Fatalf("AllowPrivateTargets = %v, want %v", c.Webhook.AllowPrivateTargets, tc.want)
			}
		})
	}
}
