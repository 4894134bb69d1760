package gqlhttp

import (
	"errors"
	"net/http"
	"testing"
)

// FuzzParseBody feeds arbitrary bodies to the POST parser: it must never
// panic, must fail only with a requestError (a 400), and must never accept a
// request that has neither a query nor a persisted query.
func FuzzParseBody(f *testing.F) {
	for _, seed := range []string{
		`{"query":"{ __typename }"}`,
		`{"query":"query Q($a: Int) { a }","operationName":"Q","variables":{"a":1},"extensions":{"x":[1]}}`,
		`{"extensions":{"persistedQuery":{"version":1,"sha256Hash":"ab"}}}`,
		`{"query":null,"variables":"{}"}`,
		`[]`, `null`, `{`, ``, `{"query":1e999}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := parseBody(body)
		if err != nil {
			var reqErr *requestError
			if !errors.As(err, &reqErr) {
				t.Fatalf("parseBody() error %T %v, want *requestError", err, err)
			}
			return
		}
		if _, persisted := p.Extensions["persistedQuery"]; p.Query == "" && !persisted {
			t.Fatalf("parseBody(%q) accepted a request without a query", body)
		}
	})
}

// FuzzParseQueryString does the same for GET query strings.
func FuzzParseQueryString(f *testing.F) {
	for _, seed := range []string{
		"query=%7B+__typename+%7D",
		"query=q&variables=%7B%22a%22%3A1%7D&extensions=%7B%7D",
		"variables=%5B%5D", "query=%zz", "",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, rawQuery string) {
		p, err := parseQueryString(rawQuery)
		if err != nil {
			var reqErr *requestError
			if !errors.As(err, &reqErr) {
				t.Fatalf("parseQueryString() error %T %v, want *requestError", err, err)
			}
			return
		}
		if _, persisted := p.Extensions["persistedQuery"]; p.Query == "" && !persisted {
			t.Fatalf("parseQueryString(%q) accepted a request without a query", rawQuery)
		}
	})
}

// FuzzNegotiate checks that any Accept header yields one of our two media
// types or a refusal, never a panic or a third type.
func FuzzNegotiate(f *testing.F) {
	for _, seed := range []string{
		"", "*/*", "application/json;q=0.5, application/graphql-response+json",
		"text/html", "application/json; charset=latin1", "a/b;q=x,,;", "application/*;q=0",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, accept string) {
		mt, ok := negotiate(http.Header{"Accept": {accept}})
		if ok && mt != MediaTypeJSON && mt != MediaTypeGraphQLResponse {
			t.Fatalf("negotiate(%q) = %q", accept, mt)
		}
		if !ok && mt != "" {
			t.Fatalf("negotiate(%q) refused but returned %q", accept, mt)
		}
	})
}
