package eloverblik

import (
	"errors"
	"fmt"
	"time"
)

// Sentinel errors. An *APIError matches the one for its status with
// errors.Is, so callers never compare status codes or strings.
var (
	// ErrUnauthorized: the refresh token was refused (401 from /api/Token), or
	// a data call was refused even with a freshly fetched data token.
	ErrUnauthorized = errors.New("eloverblik: unauthorized")
	// ErrForbidden: 403, e.g. no consent for a metering point.
	ErrForbidden = errors.New("eloverblik: forbidden")
	// ErrNotFound: 404.
	ErrNotFound = errors.New("eloverblik: not found")
	// ErrRateLimited: 429 after every retry was spent.
	ErrRateLimited = errors.New("eloverblik: rate limited")
	// ErrUnavailable: 5xx after every retry was spent.
	ErrUnavailable = errors.New("eloverblik: service unavailable")
	// ErrEnergyTypeUnavailable: the energy-type service answered success=false
	// for a GSRN. Retrying does not help; the reference stopped the chain.
	ErrEnergyTypeUnavailable = errors.New("eloverblik: energy type unavailable")
	// ErrMalformedResponse: a 200 response whose body is not the documented
	// shape (not JSON, wrong types, missing result).
	ErrMalformedResponse = errors.New("eloverblik: malformed response")
)

// APIError is a non-200 answer from ElOverblik (or the simulator).
type APIError struct {
	Method string
	Path   string // request path without query; never holds a token
	Status int
	// Code and Message come from the body when it is the ElOverblik error
	// JSON ({"errorCode":…, "errorText":…}); otherwise Message is the start
	// of the body.
	Code       string
	Message    string
	RetryAfter time.Duration // parsed Retry-After, 0 when absent
}

// Error implements error.
func (e *APIError) Error() string {
	if e.Code != "" {
		return fmt.Sprintf("eloverblik %s %s: status %d: code %s: %s", e.Method, e.Path, e.Status, e.Code, e.Message)
	}
	return fmt.Sprintf("eloverblik %s %s: status %d: %s", e.Method, e.Path, e.Status, e.Message)
}

// Is maps the status onto the package's sentinel errors.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrUnauthorized:
		return e.Status == 401
	case ErrForbidden:
		return e.Status == 403
	case ErrNotFound:
		return e.Status == 404
	case ErrRateLimited:
		return e.Status == 429
	case ErrUnavailable:
		return e.Status >= 500
	}
	return false
}

// retryable reports whether a status is worth another attempt.
func retryable(status int) bool {
	return status == 429 || status >= 500
}
