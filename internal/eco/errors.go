package eco

import "github.com/originhub/originhub/internal/input"

// ErrInvalidInput is returned for a request that cannot be declared: a bad range, time
// zone or resolution, or GSRNs that are not the caller's consumption points.
var ErrInvalidInput = input.ErrInvalid

// InputError names the refused field; its message is safe to show to the client.
type InputError = input.Error
