package datahub

import (
	"database/sql"
	"errors"
)

// Errors of the DataHub service.
var (
	ErrNotFound        = errors.New("not found")
	ErrNotLinked       = errors.New("no ElOverblik access granted yet: start onboarding first")
	ErrInvalidCallback = errors.New("onboarding callback does not answer a pending request")
	ErrInvalidInput    = errors.New("invalid input")
)

// InputError says which input was wrong; it matches ErrInvalidInput.
type InputError struct{ Field, Message string }

func (e *InputError) Error() string        { return e.Field + ": " + e.Message }
func (e *InputError) Is(target error) bool { return target == ErrInvalidInput }

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }
