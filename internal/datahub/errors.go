package datahub

import (
	"database/sql"
	"errors"

	"github.com/originhub/originhub/internal/input"
)

// Errors of the DataHub service.
var (
	ErrNotFound        = errors.New("not found")
	ErrNotLinked       = errors.New("no ElOverblik access granted yet: start onboarding first")
	ErrInvalidCallback = errors.New("onboarding callback does not answer a pending request")
	ErrInvalidInput    = input.ErrInvalid
)

// InputError says which input was wrong; it matches ErrInvalidInput.
type InputError = input.Error

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }
