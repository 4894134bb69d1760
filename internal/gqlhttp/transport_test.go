package gqlhttp_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/originhub/originhub/internal/gqlhttp"
)

const (
	gr = gqlhttp.MediaTypeGraphQLResponse
	js = gqlhttp.MediaTypeJSON
)

func withHeader(req *http.Request, key, value string) *http.Request {
	if value == "" {
		req.Header.Del(key)
	} else {
		req.Header.Set(key, value)
	}
	return req
}

func qs(kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v.Encode()
}

const typename = `{"query":"{ __typename }"}`

func TestTransports(t *testing.T) {
	h := newHandler(t, gqlhttp.Options{}, gqlhttp.WebsocketOptions{})

	tests := []struct {
		name       string
		req        *http.Request
		wantStatus int
		wantType   string // media type of the response
		wantData   string // exact JSON of data; "" means no data entry at all
		wantErr    string // substring of the first error message; "" means no errors
		wantCode   string // extensions.code of the first error, when set
	}{
		// Accept negotiation.
		{name: "accept graphql-response+json", req: post(typename, gr),
			wantStatus: 200, wantType: gr, wantData: `{"__typename":"Query"}`},
		{name: "accept json", req: post(typename, js),
			wantStatus: 200, wantType: js, wantData: `{"__typename":"Query"}`},
		{name: "no accept means json", req: post(typename, ""),
			wantStatus: 200, wantType: js, wantData: `{"__typename":"Query"}`},
		{name: "wildcard means json", req: post(typename, "*/*"),
			wantStatus: 200, wantType: js, wantData: `{"__typename":"Query"}`},
		{name: "application wildcard means json", req: post(typename, "application/*"),
			wantStatus: 200, wantType: js, wantData: `{"__typename":"Query"}`},
		{name: "higher q wins", req: post(typename, "application/json;q=0.5, application/graphql-response+json"),
			wantStatus: 200, wantType: gr, wantData: `{"__typename":"Query"}`},
		{name: "apollo style accept", req: post(typename, "application/graphql-response+json,application/json;q=0.9"),
			wantStatus: 200, wantType: gr, wantData: `{"__typename":"Query"}`},
		{name: "equal q first listed wins", req: post(typename, "application/json, application/graphql-response+json"),
			wantStatus: 200, wantType: js, wantData: `{"__typename":"Query"}`},
		{name: "explicit beats wildcard", req: post(typename, "*/*, application/graphql-response+json"),
			wantStatus: 200, wantType: gr, wantData: `{"__typename":"Query"}`},
		{name: "utf-8 charset accepted", req: post(typename, "application/graphql-response+json; charset=utf-8"),
			wantStatus: 200, wantType: gr, wantData: `{"__typename":"Query"}`},
		{name: "q=0 refuses a type", req: post(typename, "application/graphql-response+json;q=0, */*"),
			wantStatus: 200, wantType: js, wantData: `{"__typename":"Query"}`},
		{name: "other charset not acceptable", req: post(typename, "application/json; charset=iso-8859-1"),
			wantStatus: 406, wantType: js, wantErr: "Accept must allow"},
		{name: "html not acceptable", req: post(typename, "text/html"),
			wantStatus: 406, wantType: js, wantErr: "Accept must allow"},

		// Request content type.
		{name: "json with utf-8 charset", req: withHeader(post(typename, ""), "Content-Type", "application/json; charset=utf-8"),
			wantStatus: 200, wantType: js, wantData: `{"__typename":"Query"}`},
		{name: "json with other charset", req: withHeader(post(typename, gr), "Content-Type", "application/json; charset=iso-8859-1"),
			wantStatus: 415, wantType: gr, wantErr: "Content-Type must be application/json"},
		{name: "text/plain", req: withHeader(post(typename, ""), "Content-Type", "text/plain;charset=UTF-8"),
			wantStatus: 415, wantType: js, wantErr: "Content-Type must be application/json"},
		{name: "application/graphql", req: withHeader(post("{ __typename }", ""), "Content-Type", "application/graphql"),
			wantStatus: 415, wantType: js, wantErr: "Content-Type must be application/json"},
		{name: "no content type", req: withHeader(post(typename, ""), "Content-Type", ""),
			wantStatus: 415, wantType: js, wantErr: "Content-Type must be application/json"},

		// Body parsing.
		{name: "empty body", req: post("", gr), wantStatus: 400, wantType: gr, wantErr: "body is empty"},
		{name: "broken json, json", req: post(`{ "not a JSON`, js), wantStatus: 400, wantType: js, wantErr: "not valid JSON"},
		{name: "broken json, graphql-response", req: post(`{ "not a JSON`, gr), wantStatus: 400, wantType: gr, wantErr: "not valid JSON"},
		{name: "trailing garbage", req: post(typename+"x", ""), wantStatus: 400, wantType: js, wantErr: "not valid JSON"},
		{name: "array body", req: post(`[]`, ""), wantStatus: 400, wantType: js, wantErr: "must be a JSON object"},
		{name: "null body", req: post(`null`, ""), wantStatus: 400, wantType: js, wantErr: "must be a JSON object"},
		{name: "string body", req: post(`"{ __typename }"`, ""), wantStatus: 400, wantType: js, wantErr: "must be a JSON object"},
		{name: "number query", req: post(`{"query":0}`, ""), wantStatus: 400, wantType: js, wantErr: `"query" must be a string`},
		{name: "object query", req: post(`{"query":{"obj":"ect"}}`, gr), wantStatus: 400, wantType: gr, wantErr: `"query" must be a string`},
		{name: "array operationName", req: post(`{"query":"{ __typename }","operationName":["a"]}`, ""),
			wantStatus: 400, wantType: js, wantErr: `"operationName" must be a string`},
		{name: "string variables", req: post(`{"query":"{ __typename }","variables":"{}"}`, ""),
			wantStatus: 400, wantType: js, wantErr: `"variables" must be a JSON object`},
		{name: "array variables", req: post(`{"query":"{ __typename }","variables":[]}`, ""),
			wantStatus: 400, wantType: js, wantErr: `"variables" must be a JSON object`},
		{name: "boolean extensions", req: post(`{"query":"{ __typename }","extensions":false}`, ""),
			wantStatus: 400, wantType: js, wantErr: `"extensions" must be a JSON object`},
		{name: "null parameters", req: post(`{"query":"{ __typename }","operationName":null,"variables":null,"extensions":null}`, gr),
			wantStatus: 200, wantType: gr, wantData: `{"__typename":"Query"}`},
		{name: "unknown parameters ignored", req: post(`{"query":"{ __typename }","foo":1}`, gr),
			wantStatus: 200, wantType: gr, wantData: `{"__typename":"Query"}`},
		{name: "missing query, json", req: post(`{"qeury":"{ __typename }"}`, js),
			wantStatus: 400, wantType: js, wantErr: `no "query"`},
		{name: "missing query, graphql-response", req: post(`{}`, gr),
			wantStatus: 400, wantType: gr, wantErr: `no "query"`},
		{name: "null query", req: post(`{"query":null}`, gr),
			wantStatus: 400, wantType: gr, wantErr: `no "query"`},

		// Request errors: no data; 200 under json, 400 under graphql-response+json.
		{name: "parse error, json", req: post(`{"query":"{"}`, js),
			wantStatus: 200, wantType: js, wantErr: "Expected Name", wantCode: "GRAPHQL_PARSE_FAILED"},
		{name: "parse error, graphql-response", req: post(`{"query":"{"}`, gr),
			wantStatus: 400, wantType: gr, wantErr: "Expected Name", wantCode: "GRAPHQL_PARSE_FAILED"},
		{name: "validation error, json", req: post(`{"query":"{ nope }"}`, js),
			wantStatus: 200, wantType: js, wantErr: `Cannot query field "nope"`, wantCode: "GRAPHQL_VALIDATION_FAILED"},
		{name: "validation error, graphql-response", req: post(`{"query":"{ nope }"}`, gr),
			wantStatus: 400, wantType: gr, wantErr: `Cannot query field "nope"`, wantCode: "GRAPHQL_VALIDATION_FAILED"},
		{name: "variable coercion, json", req: post(`{"query":"query Q($n: String!) { hello(name: $n) }","variables":{"n":null}}`, js),
			wantStatus: 200, wantType: js, wantErr: "cannot be null", wantCode: "GRAPHQL_VALIDATION_FAILED"},
		{name: "variable coercion, graphql-response", req: post(`{"query":"query Q($n: String!) { hello(name: $n) }","variables":{"n":null}}`, gr),
			wantStatus: 400, wantType: gr, wantErr: "cannot be null", wantCode: "GRAPHQL_VALIDATION_FAILED"},
		{name: "unknown operation, graphql-response", req: post(`{"query":"query A { __typename }","operationName":"B"}`, gr),
			wantStatus: 400, wantType: gr, wantErr: "operation B not found"},

		// Executed operations: 200 with data, also with field errors.
		{name: "field error, json", req: post(`{"query":"{ fail hello }"}`, js),
			wantStatus: 200, wantType: js, wantData: `{"fail":null,"hello":"hello world"}`, wantErr: "fail always fails"},
		{name: "field error, graphql-response", req: post(`{"query":"{ fail hello }"}`, gr),
			wantStatus: 200, wantType: gr, wantData: `{"fail":null,"hello":"hello world"}`, wantErr: "fail always fails"},
		{name: "variables and operationName", req: post(`{"query":"query A { __typename } query B($n: String) { hello(name: $n) }","operationName":"B","variables":{"n":"bob"}}`, gr),
			wantStatus: 200, wantType: gr, wantData: `{"hello":"hello bob"}`},
		{name: "mutation over POST", req: post(`{"query":"mutation { echo(text: \"hi\") }"}`, gr),
			wantStatus: 200, wantType: gr, wantData: `{"echo":"hi"}`},
		{name: "subscription over POST", req: post(`{"query":"subscription { ticks(count: 1) }"}`, gr),
			wantStatus: 400, wantType: gr, wantErr: "WebSocket"},
		{name: "introspection", req: post(`{"query":"{ __type(name: \"Nested\") { name } }"}`, gr),
			wantStatus: 200, wantType: gr, wantData: `{"__type":{"name":"Nested"}}`},

		// GET.
		{name: "get query", req: get(qs("query", "{ __typename }"), gr),
			wantStatus: 200, wantType: gr, wantData: `{"__typename":"Query"}`},
		{name: "get with variables", req: get(qs("query", "query($n: String) { hello(name: $n) }", "variables", `{"n":"bob"}`), ""),
			wantStatus: 200, wantType: js, wantData: `{"hello":"hello bob"}`},
		{name: "get mutation, graphql-response", req: get(qs("query", `mutation { echo(text: "x") }`), gr),
			wantStatus: 405, wantType: gr, wantErr: "POST"},
		{name: "get mutation, json", req: get(qs("query", `mutation { echo(text: "x") }`), js),
			wantStatus: 405, wantType: js, wantErr: "POST"},
		{name: "get named mutation among queries", req: get(qs("query", `query Q { __typename } mutation M { echo(text: "x") }`, "operationName", "M"), gr),
			wantStatus: 405, wantType: gr, wantErr: "POST"},
		{name: "get subscription", req: get(qs("query", "subscription { ticks(count: 1) }"), gr),
			wantStatus: 400, wantType: gr, wantErr: "WebSocket"},
		{name: "get without query", req: get("", gr), wantStatus: 400, wantType: gr, wantErr: `no "query"`},
		{name: "get variables not JSON", req: get(qs("query", "{ __typename }", "variables", "{"), ""),
			wantStatus: 400, wantType: js, wantErr: `"variables" must be a JSON object`},
		{name: "get variables array", req: get(qs("query", "{ __typename }", "variables", "[1]"), ""),
			wantStatus: 400, wantType: js, wantErr: `"variables" must be a JSON object`},
		{name: "get extensions trailing garbage", req: get(qs("query", "{ __typename }", "extensions", "{} {}"), ""),
			wantStatus: 400, wantType: js, wantErr: `"extensions" must be a JSON object`},
		{name: "get parse error, graphql-response", req: get(qs("query", "{"), gr),
			wantStatus: 400, wantType: gr, wantErr: "Expected Name"},
		{name: "get validation error, json", req: get(qs("query", "{ nope }"), js),
			wantStatus: 200, wantType: js, wantErr: `Cannot query field "nope"`},
		{name: "get not acceptable", req: get(qs("query", "{ __typename }"), "text/html"),
			wantStatus: 406, wantType: js, wantErr: "Accept must allow"},
	}

	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := do(t, h, tc.req)
			if got.status != tc.wantStatus {
				t.Errorf("status = %d, want %d (body %s)", got.status, tc.wantStatus, got.body)
			}
			if want := tc.wantType + "; charset=utf-8"; got.contentType != want {
				t.Errorf("Content-Type = %q, want %q", got.contentType, want)
			}
			if tc.wantData == "" && got.hasData() {
				t.Errorf("data = %s, want no data entry", got.data())
			}
			if tc.wantData != "" && got.data() != tc.wantData {
				t.Errorf("data = %s, want %s", got.data(), tc.wantData)
			}
			msgs, codes := got.errors(t)
			switch {
			case tc.wantErr == "" && len(msgs) > 0:
				t.Errorf("errors = %q, want none", msgs)
			case tc.wantErr != "" && (len(msgs) == 0 || !strings.Contains(msgs[0], tc.wantErr)):
				t.Errorf("errors = %q, want one containing %q", msgs, tc.wantErr)
			case tc.wantCode != "" && codes[0] != tc.wantCode:
				t.Errorf("extensions.code = %q, want %q", codes[0], tc.wantCode)
			}
			if tc.wantStatus == http.StatusMethodNotAllowed && got.allow != http.MethodPost {
				t.Errorf("Allow = %q, want POST", got.allow)
			}
		})
	}
}

func TestGETVariesOnAccept(t *testing.T) {
	h := newHandler(t, gqlhttp.Options{}, gqlhttp.WebsocketOptions{})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, get(qs("query", "{ __typename }"), gr))
	if got := rec.Result().Header.Values("Vary"); len(got) != 1 || got[0] != "Accept" {
		t.Errorf("Vary = %q, want [Accept]", got)
	}
}

func TestHEAD(t *testing.T) {
	h := newHandler(t, gqlhttp.Options{}, gqlhttp.WebsocketOptions{})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodHead, "/graphql?"+qs("query", "{ __typename }"), nil))
	res := rec.Result()
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != js+"; charset=utf-8" {
		t.Errorf("HEAD = %d %q, want 200 %s", res.StatusCode, res.Header.Get("Content-Type"), js)
	}
}

func TestBodyLimit(t *testing.T) {
	// A valid request padded with whitespace to exactly n bytes.
	padded := func(n int) string {
		return typename + strings.Repeat(" ", n-len(typename))
	}
	tests := []struct {
		name       string
		opts       gqlhttp.Options
		body       string
		wantStatus int
	}{
		{name: "default limit, at limit", body: padded(1 << 20), wantStatus: 200},
		{name: "default limit, one byte over", body: padded(1<<20 + 1), wantStatus: 413},
		{name: "custom limit, at limit", opts: gqlhttp.Options{MaxBodyBytes: 64}, body: padded(64), wantStatus: 200},
		{name: "custom limit, over", opts: gqlhttp.Options{MaxBodyBytes: 64}, body: padded(65), wantStatus: 413},
		{name: "no limit", opts: gqlhttp.Options{MaxBodyBytes: -1}, body: padded(2 << 20), wantStatus: 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHandler(t, tc.opts, gqlhttp.WebsocketOptions{})
			got := do(t, h, post(tc.body, gr))
			if got.status != tc.wantStatus {
				t.Fatalf("status = %d, want %d (body %s)", got.status, tc.wantStatus, got.body)
			}
			if tc.wantStatus == 413 && got.hasData() {
				t.Errorf("data = %s, want no data entry", got.data())
			}
		})
	}
}
