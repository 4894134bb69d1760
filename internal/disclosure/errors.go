package disclosure

import (
	"errors"

	"github.com/originhub/originhub/internal/input"
)

// ErrNotFound is returned for a disclosure that does not exist or, for owner operations,
// is not the caller's (the two are not told apart).
var ErrNotFound = errors.New("disclosure not found")

// ErrInvalidInput is returned for settings or queries that cannot be accepted.
var ErrInvalidInput = input.ErrInvalid

// InputError names the refused field; its message is safe for clients.
type InputError = input.Error
