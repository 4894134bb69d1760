// Package account is the GGO wallet: issuance, transfers, retirement, composition and the
// account views, kept consistent with the ledger through the outbox.
package account

import (
	"errors"
	"fmt"

	"github.com/originhub/originhub/models"
)

// Errors of the account service.
var (
	ErrNotFound     = errors.New("not found")
	ErrInvalidInput = errors.New("invalid input")
	// ErrInsufficient is matched by *InsufficientError.
	ErrInsufficient = errors.New("not enough GGOs")
	// ErrConflict: the GGOs changed under the request (another operation took them).
	ErrConflict = errors.New("conflict")
)

// InputError says which input was wrong; it matches ErrInvalidInput.
type InputError struct{ Field, Message string }

func (e *InputError) Error() string        { return e.Field + ": " + e.Message }
func (e *InputError) Is(target error) bool { return target == ErrInvalidInput }

// InsufficientError tells how much was available when more was asked for.
type InsufficientError struct {
	Requested, Available models.WattHours
}

func (e *InsufficientError) Error() string {
	return fmt.Sprintf("only %d Wh available, %d Wh requested", e.Available, e.Requested)
}

func (e *InsufficientError) Is(target error) bool { return target == ErrInsufficient }
