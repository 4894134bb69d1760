// Package input names the one error every domain returns for input it refuses, so the
// GraphQL layer maps all of them the same way (BAD_USER_INPUT with the field's path).
package input

import "errors"

// ErrInvalid matches every *Error.
var ErrInvalid = errors.New("invalid input")

// Error says which input field was wrong (a dotted path such as "input.amount") and why,
// in words meant for the user. A custom scalar that refuses a value leaves Field empty: it
// does not know where the value sits, and GraphQL reports the path with the error.
type Error struct{ Field, Message string }

func (e *Error) Error() string {
	if e.Field == "" {
		return e.Message
	}
	return e.Field + ": " + e.Message
}
func (e *Error) Is(target error) bool { return target == ErrInvalid }
