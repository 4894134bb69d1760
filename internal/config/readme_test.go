package config_test

import (
	"os"
	"strings"
	"testing"

	"github.com/originhub/originhub/internal/config"
)

// The README's configuration table documents every variable Load reads.
func TestREADMEListsEveryVariable(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	for _, v := range config.Variables {
		short := v.Name[strings.LastIndex(v.Name, "_"):] // e.g. ELOVERBLIK_REQUEST_ACCESS_TO appears as "/ `_TO`"
		if !strings.Contains(readme, "`"+v.Name+"`") && !strings.Contains(readme, "`"+short+"`") {
			t.Errorf("README does not document %s", v.Name)
		}
	}
}
