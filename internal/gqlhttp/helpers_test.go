package gqlhttp_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"

	"github.com/originhub/originhub/internal/gqlhttp"
	"github.com/originhub/originhub/internal/gqlhttp/internal/testschema"
)

// testDepth is the depth limit of the test server.
const testDepth = 5

// newHandler builds a gqlgen server over the test schema the way the real
// server is meant to be built: our transports, introspection, APQ and the
// depth limit, mounted on GET and POST /graphql.
func newHandler(t *testing.T, opts gqlhttp.Options, ws gqlhttp.WebsocketOptions) http.Handler {
	t.Helper()
	return mount(newServer(opts, ws))
}

// newServer builds the gqlgen server of newHandler, for tests that add more.
func newServer(opts gqlhttp.Options, ws gqlhttp.WebsocketOptions) *handler.Server {
	srv := handler.New(testschema.New())
	gqlhttp.AddTransports(srv, opts, ws)
	srv.Use(extension.Introspection{})
	srv.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](16)})
	srv.Use(gqlhttp.DepthLimit{Max: testDepth})
	return srv
}

// mount serves srv on GET and POST /graphql, as the real server does.
func mount(srv *handler.Server) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /graphql", srv)
	mux.Handle("POST /graphql", srv)
	return mux
}

// result is a response as the tests look at it.
type result struct {
	status      int
	contentType string
	allow       string
	raw         map[string]json.RawMessage
	body        string
}

func (r result) hasData() bool {
	_, ok := r.raw["data"]
	return ok
}

func (r result) data() string {
	return string(r.raw["data"])
}

// errors returns the error messages and codes of the response.
func (r result) errors(t *testing.T) (messages, codes []string) {
	t.Helper()
	var errs []struct {
		Message    string         `json:"message"`
		Extensions map[string]any `json:"extensions"`
	}
	if raw, ok := r.raw["errors"]; ok {
		if err := json.Unmarshal(raw, &errs); err != nil {
			t.Fatalf("decode errors %s: %v", raw, err)
		}
	}
	for _, e := range errs {
		messages = append(messages, e.Message)
		code, _ := e.Extensions["code"].(string)
		codes = append(codes, code)
	}
	return messages, codes
}

// do sends req to h and decodes the response body, which must be a JSON object.
func do(t *testing.T, h http.Handler, req *http.Request) result {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	res := rec.Result()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	r := result{
		status:      res.StatusCode,
		contentType: res.Header.Get("Content-Type"),
		allow:       res.Header.Get("Allow"),
		body:        string(body),
	}
	if err := json.Unmarshal(body, &r.raw); err != nil {
		t.Fatalf("response body %q is not a JSON object: %v", body, err)
	}
	return r
}

// post builds a POST /graphql with a JSON content type and the given Accept
// (none when accept is "").
func post(body, accept string) *http.Request {
	req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	return req
}

// get builds a GET /graphql with the given encoded query string.
func get(query, accept string) *http.Request {
	req := httptest.NewRequest(http.MethodGet, "/graphql?"+query, nil)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	return req
}
