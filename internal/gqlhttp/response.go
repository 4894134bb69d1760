package gqlhttp

import (
	"encoding/json"
	"net/http"

	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/99designs/gqlgen/graphql"
)

// envelope is the GraphQL response as written on the wire. Unlike
// graphql.Response it omits data when there is none: the GraphQL spec says
// data is absent when an error happened before execution, and
// application/graphql-response+json clients rely on that. An executed
// operation whose root nulled out still has data: the literal null.
type envelope struct {
	Errors     gqlerror.List   `json:"errors,omitempty"`
	Data       json.RawMessage `json:"data,omitempty"`
	Extensions map[string]any  `json:"extensions,omitempty"`
}

// fallbackBody is sent when a response cannot be encoded, so that the client
// still gets a GraphQL-shaped body.
const fallbackBody = `{"errors":[{"message":"internal server error"}]}`

func writeResponse(w http.ResponseWriter, mediaType string, status int, resp *graphql.Response) {
	body, err := json.Marshal(envelope{
		Errors:     resp.Errors,
		Data:       resp.Data,
		Extensions: resp.Extensions,
	})
	if err != nil {
		status = http.StatusInternalServerError
		body = []byte(fallbackBody)
	}
	h := w.Header()
	h.Set("Content-Type", mediaType+"; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	// A write error means the client went away; there is no one left to tell.
	_, _ = w.Write(body)
}
