package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"strings"
	"testing"
)

func TestHelpListsFlagsAndEnvironment(t *testing.T) {
	for _, r := range roles {
		t.Run(r.name, func(t *testing.T) {
			var out bytes.Buffer
			err := run(context.Background(), []string{r.name, "--help"}, func(string) (string, bool) { return "", false }, &out, &out)
			if !errors.Is(err, flag.ErrHelp) {
				t.Fatalf("run(%s --help) = %v, want flag.ErrHelp", r.name, err)
			}
			for _, want := range []string{"usage: originhub", "DATABASE_URI", "REDIS_HOST", "AUTH_JWKS_URL", "HTTP_ADDR"} {
				if !strings.Contains(out.String(), want) {
					t.Fatalf("%s --help lacks %q:\n%s", r.name, want, out.String())
				}
			}
		})
	}
}

func TestUnknownRoleAndBadConfig(t *testing.T) {
	var out bytes.Buffer
	none := func(string) (string, bool) { return "", false }
	if err := run(context.Background(), []string{"dance"}, none, &out, &out); err == nil || !strings.Contains(err.Error(), "dance") {
		t.Fatalf("unknown role: %v", err)
	}
	bad := func(k string) (string, bool) {
		if k == "REDIS_PORT" {
			return "sixty", true
		}
		return "", false
	}
	err := run(context.Background(), []string{"serve"}, bad, &out, &out)
	if err == nil || !strings.Contains(err.Error(), "REDIS_PORT") {
		t.Fatalf("serve with a bad REDIS_PORT = %v, want an error naming it", err)
	}
	if err := run(context.Background(), []string{"token"}, none, &out, &out); err == nil || !strings.Contains(err.Error(), "--sub") {
		t.Fatalf("token without --sub = %v", err)
	}
}
