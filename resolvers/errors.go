package resolvers

import (
	"context"
	"errors"
	"log/slog"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vikstrous/dataloadgen"

	"github.com/originhub/originhub/graph"
	"github.com/originhub/originhub/internal/account"
	"github.com/originhub/originhub/internal/agreement"
	"github.com/originhub/originhub/internal/datahub"
	"github.com/originhub/originhub/internal/disclosure"
	"github.com/originhub/originhub/internal/forecast"
	"github.com/originhub/originhub/internal/input"
	"github.com/originhub/originhub/internal/relay"
	"github.com/originhub/originhub/internal/user"
	"github.com/originhub/originhub/internal/webhook"
)

// Error codes in extensions.code.
const (
	CodeBadUserInput    = "BAD_USER_INPUT"
	CodeUnauthenticated = "UNAUTHENTICATED"
	CodeForbidden       = "FORBIDDEN"
	CodeNotFound        = "NOT_FOUND"
	CodeConflict        = "CONFLICT"
	CodeInternal        = "INTERNAL"
)

// ErrUnauthenticated is returned where a field needs a viewer and the request has none.
var ErrUnauthenticated = errors.New("authentication required: send Authorization: Bearer <token>")

// codedError is an error whose message is safe for clients.
type codedError struct {
	code, msg string
}

func (e *codedError) Error() string { return e.msg }

// BadInput returns a BAD_USER_INPUT error with a message for the client.
func BadInput(msg string) error { return &codedError{code: CodeBadUserInput, msg: msg} }

// RequestIDFunc extracts the request id for error messages; set by the HTTP layer.
type RequestIDFunc func(ctx context.Context) string

// Presenter maps every error to a GraphQL error with extensions.code. Known errors keep
// their message; anything else is logged in full and answered with a generic INTERNAL
// message carrying the request id, so no internals reach a client.
func Presenter(log *slog.Logger, requestID RequestIDFunc) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		var gqlErr *gqlerror.Error
		if errors.As(err, &gqlErr) && gqlErr.Err == nil {
			// Parse, validation and gqlgen's own errors: already client-safe.
			if gqlErr.Extensions == nil || gqlErr.Extensions["code"] == nil {
				setCode(gqlErr, CodeBadUserInput)
			}
			return gqlErr
		}
		out := graphql.DefaultErrorPresenter(ctx, err)
		code, msg := classify(err)
		if code == CodeInternal {
			rid := requestID(ctx)
			log.ErrorContext(ctx, "graphql resolver error", "err", err, "path", out.Path.String(), "request_id", rid)
			msg = "internal error (request id " + rid + ")"
		}
		out.Message = msg
		out.Err = nil // the chain stays in our logs, not in the response
		setCode(out, code)
		return out
	}
}

// Recover turns a panic in a resolver into an INTERNAL error; the panic is logged.
func Recover(log *slog.Logger) graphql.RecoverFunc {
	return func(ctx context.Context, p any) error {
		log.ErrorContext(ctx, "graphql resolver panic", "panic", p)
		return errors.New("panic in resolver") // unknown error: presented as INTERNAL
	}
}

func classify(err error) (code, msg string) {
	var ce *codedError
	var ae *relay.ArgsError
	var ie *input.Error
	switch {
	case errors.As(err, &ie):
		return CodeBadUserInput, ie.Error()
	case errors.Is(err, account.ErrNotFound):
		return CodeNotFound, "not found"
	case errors.Is(err, datahub.ErrNotLinked):
		return CodeBadUserInput, datahub.ErrNotLinked.Error()
	case errors.Is(err, datahub.ErrNotFound):
		return CodeNotFound, "not found"
	case errors.As(err, &ce):
		return ce.code, ce.msg
	case errors.Is(err, ErrUnauthenticated):
		return CodeUnauthenticated, ErrUnauthenticated.Error()
	case errors.As(err, &ae):
		return CodeBadUserInput, ae.Error()
	case errors.Is(err, relay.ErrInvalidID):
		return CodeBadUserInput, "invalid id"
	case errors.Is(err, user.ErrNotFound), errors.Is(err, dataloadgen.ErrNotFound):
		return CodeNotFound, "not found"
	case errors.Is(err, webhook.ErrInvalidInput):
		return CodeBadUserInput, err.Error()
	case errors.Is(err, webhook.ErrNotFound):
		return CodeNotFound, "not found"
	case errors.Is(err, disclosure.ErrNotFound), errors.Is(err, agreement.ErrNotFound), errors.Is(err, forecast.ErrNotFound):
		return CodeNotFound, "not found"
	case errors.Is(err, agreement.ErrConflict):
		return CodeConflict, "the agreement's state does not allow this"
	case errors.Is(err, context.DeadlineExceeded):
		return CodeInternal, ""
	}
	return CodeInternal, ""
}

func setCode(e *gqlerror.Error, code string) {
	if e.Extensions == nil {
		e.Extensions = map[string]any{}
	}
	e.Extensions["code"] = code
}

// inputUserError is the userError of a domain's refusal of its input.
func inputUserError(ie *input.Error) graph.UserError {
	return graph.UserError{Field: splitField(ie.Field), Message: ie.Message, Code: CodeBadUserInput}
}
