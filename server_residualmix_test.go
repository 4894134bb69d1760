package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/originhub/originhub/internal/testkit"
)

func TestResidualMixImport(t *testing.T) {
	uri := testkit.FreshDatabase(t)
	env := func(k string) (string, bool) {
		if k == "DATABASE_URI" {
			return uri, true
		}
		return "", false
	}
	file := filepath.Join(t.TempDir(), "dk-2030.csv")
	csv := "hour_utc,sector,technology,share,co2_g_per_kwh\n2030-01-01T00:00:00Z,DK1,Wind,1,11\n2030-01-01T00:00:00Z,DK2,Coal,1,820\n"
	if err := os.WriteFile(file, []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if err := run(t.Context(), []string{"residual-mix", "import", "--file", file, "--kind", "grid"}, env, &out, &errOut); err != nil {
		t.Fatalf("residual-mix import: %v\n%s", err, errOut.String())
	}
	want := "imported grid mix: 2 rows, 2 sector-hours (DK1,DK2) 2030-01-01T00:00:00Z..2030-01-01T01:00:00Z: 2 inserted, 0 updated, 0 unchanged, 0 deleted\n"
	if out.String() != want {
		t.Fatalf("output = %q, want %q", out.String(), want)
	}

	bad := filepath.Join(t.TempDir(), "bad.csv")
	if err := os.WriteFile(bad, []byte("hour_utc,sector,technology,share,co2_g_per_kwh\n2030-01-01T00:00:00Z,DK1,Wind,0.5,11\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	err := run(t.Context(), []string{"residual-mix", "import", "--file", bad}, env, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "nothing imported") || !strings.Contains(err.Error(), "sum to 0.5") {
		t.Fatalf("bad file: %v, want a validation error", err)
	}
	for _, args := range [][]string{{"residual-mix"}, {"residual-mix", "export"}, {"residual-mix", "import"}, {"residual-mix", "import", "--file", file, "--kind", "x"}} {
		if err := run(t.Context(), args, env, &out, &errOut); err == nil {
			t.Errorf("run(%q) succeeded", args)
		}
	}
}
