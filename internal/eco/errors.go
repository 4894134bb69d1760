package eco

import "errors"

// ErrInvalidInput is returned for a request that cannot be declared: a bad range, time
// zone or resolution, or GSRNs that are not the caller's consumption points. The message
// is safe to show to the client.
var ErrInvalidInput = errors.New("invalid declaration request")

// InputError is an ErrInvalidInput naming the field.
type InputError struct {
	Field, Message string
}

func (e *InputError) Error() string        { return e.Field + ": " + e.Message }
func (e *InputError) Is(target error) bool { return target == ErrInvalidInput }
