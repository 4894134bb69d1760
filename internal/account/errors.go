// Package account is the GGO wallet: issuance, transfers, retirement, composition and the
// account views, kept consistent with the ledger through the outbox.
package account

import (
	"errors"
	"fmt"

	"github.com/originhub/originhub/internal/input"
	"github.com/originhub/originhub/models"
)

// Errors of the account service.
var (
	ErrNotFound     = errors.New("not found")
	ErrInvalidInput = input.ErrInvalid
	// ErrInsufficient is matched by *InsufficientError.
	ErrInsufficient = errors.New("not enough GGOs")
	// ErrConflict: the GGOs changed under the request (another operation took them).
	ErrConflict = errors.New("conflict")
)

// InputError says which input was wrong; it matches ErrInvalidInput.
type InputError = input.Error

// InsufficientError tells how much was available when more was asked for.
type InsufficientError struct {
	Requested, Available models.WattHours
	// InFlight is the owner's amount held by operations still waiting for the ledger: it
	// may become available again in a moment.
	InFlight models.WattHours
}

func (e *InsufficientError) Error() string {
	msg := fmt.Sprintf("only %d Wh available, %d Wh requested", e.Available, e.Requested)
	if e.InFlight > 0 {
		msg += fmt.Sprintf(" (%d Wh more are in operations waiting for the ledger; try again shortly)", e.InFlight)
	}
	return msg
}

func (e *InsufficientError) Is(target error) bool { return target == ErrInsufficient }
