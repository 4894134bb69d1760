package gqlhttp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"

	"github.com/99designs/gqlgen/graphql"
)

// requestError is a malformed GraphQL-over-HTTP request: the client gets its
// message with a 400, and nothing reaches the executor. Messages never quote
// the body, so nothing the client sent is echoed back.
type requestError struct{ msg string }

func (e *requestError) Error() string { return e.msg }

func badRequest(format string, args ...any) error {
	return &requestError{msg: fmt.Sprintf(format, args...)}
}

// parseBody reads the parameters of a POST body, checking each one's JSON type.
func parseBody(body []byte) (*graphql.RawParams, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, badRequest("request body is empty")
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return nil, badRequest("request body must be a JSON object")
		}
		return nil, badRequest("request body is not valid JSON")
	}
	if fields == nil { // the body was the literal null
		return nil, badRequest("request body must be a JSON object")
	}

	p := &graphql.RawParams{}
	var err error
	if p.Query, err = jsonString(fields["query"], "query"); err != nil {
		return nil, err
	}
	if p.OperationName, err = jsonString(fields["operationName"], "operationName"); err != nil {
		return nil, err
	}
	if p.Variables, err = jsonObject(fields["variables"], "variables"); err != nil {
		return nil, err
	}
	if p.Extensions, err = jsonObject(fields["extensions"], "extensions"); err != nil {
		return nil, err
	}
	return p, checkQuery(p)
}

// parseQueryString reads the parameters of a GET request. variables and
// extensions are JSON-encoded objects, as the spec says.
func parseQueryString(rawQuery string) (*graphql.RawParams, error) {
	values, err := url.ParseQuery(rawQuery)
	if err != nil {
		return nil, badRequest("query string is malformed")
	}
	p := &graphql.RawParams{
		Query:         values.Get("query"),
		OperationName: values.Get("operationName"),
	}
	if v := values.Get("variables"); v != "" {
		if p.Variables, err = jsonObject(json.RawMessage(v), "variables"); err != nil {
			return nil, err
		}
	}
	if v := values.Get("extensions"); v != "" {
		if p.Extensions, err = jsonObject(json.RawMessage(v), "extensions"); err != nil {
			return nil, err
		}
	}
	return p, checkQuery(p)
}

// checkQuery refuses a request without a query, unless it names a persisted
// query: with automatic persisted queries the client may send only the hash,
// and the APQ extension fills in the query (or answers PersistedQueryNotFound).
func checkQuery(p *graphql.RawParams) error {
	if p.Query != "" {
		return nil
	}
	if _, ok := p.Extensions["persistedQuery"]; ok {
		return nil
	}
	return badRequest(`request has no "query" parameter`)
}

// jsonString decodes an optional string parameter; null counts as absent.
func jsonString(raw json.RawMessage, name string) (string, error) {
	if isNull(raw) {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", badRequest("%q must be a string", name)
	}
	return s, nil
}

// jsonObject decodes an optional object parameter; null counts as absent.
// Numbers stay json.Number so that large integers reach gqlgen's scalar
// unmarshalers without a detour through float64.
func jsonObject(raw json.RawMessage, name string) (map[string]any, error) {
	if isNull(raw) {
		return nil, nil
	}
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, badRequest("%q must be a JSON object", name)
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, badRequest("%q must be a JSON object", name)
	}
	if dec.More() {
		return nil, badRequest("%q must be a JSON object", name)
	}
	return m, nil
}

func isNull(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) == 0 || string(t) == "null"
}
