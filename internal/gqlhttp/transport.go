package gqlhttp

import (
	"context"
	"errors"
	"io"
	"net/http"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/99designs/gqlgen/graphql"
)

// POST is the GraphQL-over-HTTP POST transport. It claims every POST that is
// not a WebSocket upgrade, so add other POST transports before it.
type POST struct {
	Options Options
}

// GET is the GraphQL-over-HTTP GET transport: queries only, parameters in the
// URL query string. A mutation gets 405 with "Allow: POST".
type GET struct {
	Options Options
}

var (
	_ graphql.Transport = POST{}
	_ graphql.Transport = GET{}
)

// Supports reports whether r is a POST that is not a WebSocket upgrade.
func (t POST) Supports(r *http.Request) bool {
	return r.Method == http.MethodPost && r.Header.Get("Upgrade") == ""
}

// Do answers one POST request. See the package documentation for the status
// codes it uses.
func (t POST) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	start := graphql.Now()
	mediaType, ok := negotiate(r.Header)
	if !ok {
		writeRequestError(w, MediaTypeJSON, http.StatusNotAcceptable,
			"Accept must allow application/graphql-response+json or application/json")
		return
	}
	if !checkContentType(r.Header) {
		writeRequestError(w, mediaType, http.StatusUnsupportedMediaType,
			"Content-Type must be application/json (UTF-8)")
		return
	}

	body := r.Body
	if limit := t.Options.maxBodyBytes(); limit > 0 {
		body = http.MaxBytesReader(w, r.Body, limit)
	}
	data, err := io.ReadAll(body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeRequestError(w, mediaType, http.StatusRequestEntityTooLarge,
				"request body is too large")
			return
		}
		writeRequestError(w, mediaType, http.StatusBadRequest, "request body could not be read")
		return
	}

	params, err := parseBody(data)
	if err != nil {
		writeRequestError(w, mediaType, http.StatusBadRequest, err.Error())
		return
	}
	params.Headers = r.Header
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}
	execute(r.Context(), w, exec, mediaType, params, false)
}

// Supports reports whether r is a GET (or HEAD, which net/http routes with
// GET and answers without a body) that is not a WebSocket upgrade.
func (t GET) Supports(r *http.Request) bool {
	return (r.Method == http.MethodGet || r.Method == http.MethodHead) && r.Header.Get("Upgrade") == ""
}

// Do answers one GET request. See the package documentation for the status
// codes it uses.
func (t GET) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	start := graphql.Now()
	// GET responses depend on Accept, so shared caches must key on it.
	w.Header().Add("Vary", "Accept")
	mediaType, ok := negotiate(r.Header)
	if !ok {
		writeRequestError(w, MediaTypeJSON, http.StatusNotAcceptable,
			"Accept must allow application/graphql-response+json or application/json")
		return
	}
	params, err := parseQueryString(r.URL.RawQuery)
	if err != nil {
		writeRequestError(w, mediaType, http.StatusBadRequest, err.Error())
		return
	}
	params.Headers = r.Header
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}
	execute(r.Context(), w, exec, mediaType, params, true)
}

// execute runs a well-formed request and writes the response. queryOnly is
// true for GET, where only query operations may run: a GET must be safe, so a
// mutation is refused before anything executes.
func execute(
	ctx context.Context,
	w http.ResponseWriter,
	exec graphql.GraphExecutor,
	mediaType string,
	params *graphql.RawParams,
	queryOnly bool,
) {
	opCtx, errs := exec.CreateOperationContext(ctx, params)
	if errs != nil {
		// Parse, validation, variable coercion and extension errors (depth,
		// complexity, persisted query): the request never reached execution,
		// so the response has no data entry.
		resp := exec.DispatchError(graphql.WithOperationContext(ctx, opCtx), errs)
		writeResponse(w, mediaType, requestErrorStatus(mediaType), resp)
		return
	}

	switch op := opCtx.Operation.Operation; {
	case op == ast.Subscription:
		writeRequestError(w, mediaType, http.StatusBadRequest,
			"subscriptions are served over WebSocket (graphql-transport-ws)")
		return
	case op == ast.Mutation && queryOnly:
		w.Header().Set("Allow", http.MethodPost)
		writeRequestError(w, mediaType, http.StatusMethodNotAllowed,
			"mutations must be sent with POST")
		return
	}

	responses, ctx := exec.DispatchOperation(ctx, opCtx)
	resp := responses(ctx)
	if resp == nil {
		// The request context ended before a response was produced: the
		// client has gone, so there is nobody to answer.
		return
	}
	status := http.StatusOK
	if resp.Data == nil {
		// An operation interceptor refused the operation without running it.
		status = requestErrorStatus(mediaType)
	}
	writeResponse(w, mediaType, status, resp)
}

// requestErrorStatus is the status of a response without data: under
// application/graphql-response+json the spec requires a 4xx, while legacy
// application/json clients expect 200 and read the errors from the body.
func requestErrorStatus(mediaType string) int {
	if mediaType == MediaTypeGraphQLResponse {
		return http.StatusBadRequest
	}
	return http.StatusOK
}

// writeRequestError answers with a single error and no data.
func writeRequestError(w http.ResponseWriter, mediaType string, status int, msg string) {
	writeResponse(w, mediaType, status, &graphql.Response{
		Errors: gqlerror.List{{Message: msg}},
	})
}
