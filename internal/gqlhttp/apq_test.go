package gqlhttp_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/originhub/originhub/internal/gqlhttp"
)

// TestAutomaticPersistedQueries walks the APQ protocol through both
// transports: hash only (unknown), hash with the query (registers it), hash
// only again (served from the cache).
func TestAutomaticPersistedQueries(t *testing.T) {
	type request func(query, hash, accept string) *http.Request
	postAPQ := func(query, hash, accept string) *http.Request {
		body := fmt.Sprintf(`{"extensions":{"persistedQuery":{"version":1,"sha256Hash":%q}}}`, hash)
		if query != "" {
			body = fmt.Sprintf(`{"query":%q,%s`, query, body[1:])
		}
		return post(body, accept)
	}
	getAPQ := func(query, hash, accept string) *http.Request {
		ext := fmt.Sprintf(`{"persistedQuery":{"version":1,"sha256Hash":%q}}`, hash)
		if query == "" {
			return get(qs("extensions", ext), accept)
		}
		return get(qs("query", query, "extensions", ext), accept)
	}

	tests := []struct {
		name string
		send request
	}{
		{name: "POST", send: postAPQ},
		{name: "GET", send: getAPQ},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHandler(t, gqlhttp.Options{}, gqlhttp.WebsocketOptions{})
			// Each subtest has its own handler, so its own empty APQ cache.
			query := fmt.Sprintf(`{ hello(name: %q) }`, tc.name)
			sum := sha256.Sum256([]byte(query))
			hash := hex.EncodeToString(sum[:])
			wantData := fmt.Sprintf(`{"hello":"hello %s"}`, tc.name)

			// Unknown hash: the client must resend with the query. Legacy
			// clients get 200, graphql-response+json clients a 4xx; both
			// without data and with the code Apollo clients look for.
			for _, c := range []struct {
				accept     string
				wantStatus int
			}{{js, 200}, {gr, 400}} {
				got := do(t, h, tc.send("", hash, c.accept))
				_, codes := got.errors(t)
				if got.status != c.wantStatus || got.hasData() || len(codes) != 1 || codes[0] != "PERSISTED_QUERY_NOT_FOUND" {
					t.Fatalf("unknown hash, Accept %s: status %d, body %s; want %d, PERSISTED_QUERY_NOT_FOUND, no data",
						c.accept, got.status, got.body, c.wantStatus)
				}
			}

			got := do(t, h, tc.send(query, hash, gr))
			if got.status != 200 || got.data() != wantData {
				t.Fatalf("register: status %d, body %s; want 200 and data %s", got.status, got.body, wantData)
			}

			got = do(t, h, tc.send("", hash, gr))
			if got.status != 200 || got.data() != wantData {
				t.Fatalf("by hash: status %d, body %s; want 200 and data %s", got.status, got.body, wantData)
			}

			wrong := strings.Repeat("0", 64)
			got = do(t, h, tc.send(query, wrong, gr))
			if msgs, _ := got.errors(t); got.status != 400 || len(msgs) == 0 || !strings.Contains(msgs[0], "does not match") {
				t.Fatalf("mismatched hash: status %d, body %s; want 400 and a hash mismatch error", got.status, got.body)
			}
		})
	}
}

// TestGETPersistedMutationRefused checks that a mutation stored through POST
// cannot be run by hash over GET.
func TestGETPersistedMutationRefused(t *testing.T) {
	h := newHandler(t, gqlhttp.Options{}, gqlhttp.WebsocketOptions{})
	query := `mutation { echo(text: "apq") }`
	sum := sha256.Sum256([]byte(query))
	ext := fmt.Sprintf(`{"persistedQuery":{"version":1,"sha256Hash":%q}}`, hex.EncodeToString(sum[:]))

	got := do(t, h, post(fmt.Sprintf(`{"query":%q,"extensions":%s}`, query, ext), gr))
	if got.status != 200 || got.data() != `{"echo":"apq"}` {
		t.Fatalf("register over POST: status %d, body %s", got.status, got.body)
	}
	got = do(t, h, get(qs("extensions", ext), gr))
	if got.status != http.StatusMethodNotAllowed || got.allow != http.MethodPost || got.hasData() {
		t.Fatalf("run over GET: status %d, Allow %q, body %s; want 405, Allow POST, no data", got.status, got.allow, got.body)
	}
}
