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
		documented := strings.Contains(readme, "`"+v.Name+"`")
		// A pair may share a row: ELOVERBLIK_REQUEST_ACCESS_TO appears as "/ `_TO`".
		if i := strings.LastIndex(v.Name, "_"); !documented && i > 0 {
			documented = strings.Contains(readme, "/ `"+v.Name[i:]+"`")
		}
		if !documented {
			t.Errorf("README does not document %s", v.Name)
		}
	}
}
