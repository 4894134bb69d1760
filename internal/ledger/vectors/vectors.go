// Package vectors embeds the ledger test vectors (a copy of
// shared/spec/ledger-vectors) and decodes the parts several packages'
// tests use. Only tests import it.
package vectors

import (
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"testing"
)

//go:embed *.json
var files embed.FS

// Decode unmarshals the vector file name (e.g. "keys.json") into v.
func Decode(name string, v any) error {
	b, err := files.ReadFile(name)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// Batch is one entry of batches.json.
type Batch struct {
	Name        string   `json:"name"`
	BatcherPath string   `json:"batch_signer_path"`
	SignerKey   string   `json:"signer_public_key"`
	TxIDs       []string `json:"transaction_ids"`
	HeaderHex   string   `json:"batch_header_hex"`
	ID          string   `json:"batch_id"`
	BatchHex    string   `json:"batch_hex"`
	ListHex     string   `json:"batch_list_hex"`
	Base64      string   `json:"post_batches_body_base64"`
}

// Body returns the exact POST /batches body.
func (b Batch) Body() []byte {
	out, err := hex.DecodeString(b.ListHex)
	if err != nil {
		panic(fmt.Sprintf("vector %s: %v", b.Name, err)) // embedded data is fixed
	}
	return out
}

// StoredValue is the expected bytes at one address.
type StoredValue struct {
	JSON   string `json:"json"`
	Base64 string `json:"base64"`
}

// State is the expected state after one batch commits.
type State struct {
	After   string                 `json:"after_batch"`
	BatchID string                 `json:"batch_id"`
	State   map[string]StoredValue `json:"state"`
}

// Invalid is the expected outcome of an invalid batch.
type Invalid struct {
	Description string `json:"description"`
	BatchID     string `json:"batch_id"`
	TxID        string `json:"invalid_transaction_id"`
	Message     string `json:"expected_invalid_message"`
}

// REST is one exact REST answer.
type REST struct {
	Status int    `json:"status"`
	Body   string `json:"body"`
}

// Set is the scenario: batches A-E, the invalid batches, the expected state
// after each valid batch, the expected INVALID outcomes by batch id and the
// exact REST answers by name.
type Set struct {
	Valid, Invalid []Batch
	States         []State
	Outcomes       map[string]Invalid
	REST           map[string]REST
}

// Load decodes the scenario, failing the test on error.
func Load(t testing.TB) Set {
	t.Helper()
	var b struct {
		Batches []Batch `json:"batches"`
		Invalid []Batch `json:"invalid_batches"`
	}
	var s struct {
		States   []State   `json:"state_after_each_batch"`
		Invalids []Invalid `json:"invalid_examples"`
	}
	var raw map[string]json.RawMessage
	for name, v := range map[string]any{"batches.json": &b, "state.json": &s, "rest.json": &raw} {
		if err := Decode(name, v); err != nil {
			t.Fatal(err)
		}
	}
	set := Set{Valid: b.Batches, Invalid: b.Invalid, States: s.States, Outcomes: map[string]Invalid{}, REST: map[string]REST{}}
	for _, iv := range s.Invalids {
		set.Outcomes[iv.BatchID] = iv
	}
	delete(raw, "_comment")
	for k, r := range raw {
		var rv REST
		if err := json.Unmarshal(r, &rv); err != nil {
			t.Fatalf("rest.json %s: %v", k, err)
		}
		set.REST[k] = rv
	}
	return set
}
