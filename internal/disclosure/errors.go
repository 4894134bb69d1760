package disclosure

import (
	"errors"
	"fmt"
)

// ErrNotFound is returned for a disclosure that does not exist or, for owner operations,
// is not the caller's (the two are not told apart).
var ErrNotFound = errors.New("disclosure not found")

// ErrInvalidInput is returned for settings or queries that cannot be accepted.
var ErrInvalidInput = errors.New("invalid disclosure input")

// InputError is an ErrInvalidInput naming the input field; its message is safe for clients.
type InputError struct {
	Field, Message string
}

func (e *InputError) Error() string        { return fmt.Sprintf("%s: %s", e.Field, e.Message) }
func (e *InputError) Is(target error) bool { return target == ErrInvalidInput }
