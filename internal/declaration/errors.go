package declaration

import "errors"

// ErrInvalidInput is returned for inputs that cannot be declared: negative amounts or
// factors, hours that are not whole UTC hours, an empty sector, a sector-hour given twice.
var ErrInvalidInput = errors.New("invalid declaration input")

// ErrOverflow is returned when an amount or emission total leaves int64.
var ErrOverflow = errors.New("declaration total overflows int64")
