package webhook

import (
	"errors"
	"time"

	"github.com/originhub/originhub/internal/input"
)

// Errors of the webhook service.
var (
	ErrNotFound     = errors.New("not found")
	ErrConflict     = errors.New("conflict")
	ErrInvalidInput = input.ErrInvalid
	// ErrForbiddenTarget is returned (and wrapped in attempt errors) when a URL points at a
	// loopback, private or link-local address and such targets are not allowed.
	ErrForbiddenTarget = errors.New("target address is loopback, private or link-local")
	// ErrBadSignature is returned by Verify when the signature does not match.
	ErrBadSignature = errors.New("webhook signature does not match")
	// ErrStaleTimestamp is returned by Verify when the timestamp is too old (a replay) or
	// too far in the future.
	ErrStaleTimestamp = errors.New("webhook timestamp outside the accepted window")
)

// InputError says which input was wrong and why; it matches ErrInvalidInput.
type InputError = input.Error

// ConflictError says why an input conflicts with existing state; it matches ErrConflict.
type ConflictError struct{ Field, Message string }

func (e *ConflictError) Error() string        { return e.Field + ": " + e.Message }
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

// RetryError is returned by Deliver when an attempt failed and another is due after Delay.
// The task queue's retry delay function reads it through RetryAfter, so the queue retries
// exactly when the delivery log says it will.
type RetryError struct {
	Delay time.Duration
	Err   error
}

func (e *RetryError) Error() string {
	return "webhook attempt failed, retry in " + e.Delay.String() + ": " + e.Err.Error()
}

// Unwrap returns the attempt's error.
func (e *RetryError) Unwrap() error { return e.Err }

// RetryAfter is how long to wait before the next attempt.
func (e *RetryError) RetryAfter() time.Duration { return e.Delay }
