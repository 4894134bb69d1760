package models

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"

	"github.com/originhub/originhub/internal/input"
)

// WattHours is an amount of energy in Wh. GraphQL's Int is 32-bit, so amounts travel as the
// WattHours scalar: a JSON number with no fraction, from -2^53 to 2^53 so that every
// JavaScript client reads it exactly.
type WattHours int64

// MaxWattHours is the largest amount the scalar carries (2^53).
const MaxWattHours WattHours = 1 << 53

// MarshalGQLContext writes the amount as a JSON number.
func (w WattHours) MarshalGQLContext(_ context.Context, out io.Writer) error {
	if w > MaxWattHours || w < -MaxWattHours {
		return fmt.Errorf("WattHours %d is outside ±2^53", int64(w))
	}
	_, err := io.WriteString(out, strconv.FormatInt(int64(w), 10))
	return err
}

// UnmarshalGQLContext reads an integral JSON number (or a decimal string of one) within ±2^53.
// A refused value is an *input.Error, which clients see as BAD_USER_INPUT.
func (w *WattHours) UnmarshalGQLContext(_ context.Context, v any) error {
	var n int64
	switch v := v.(type) {
	case int:
		n = int64(v)
	case int32:
		n = int64(v)
	case int64:
		n = v
	case json.Number:
		i, err := strconv.ParseInt(string(v), 10, 64)
		if err != nil {
			return &input.Error{Message: fmt.Sprintf("WattHours must be a whole number of Wh, got %s", v)}
		}
		n = i
	case float64:
		if v != math.Trunc(v) || math.IsInf(v, 0) || math.IsNaN(v) {
			return &input.Error{Message: fmt.Sprintf("WattHours must be a whole number of Wh, got %v", v)}
		}
		if math.Abs(v) > float64(MaxWattHours) {
			return &input.Error{Message: fmt.Sprintf("WattHours must be within ±2^53, got %v", v)}
		}
		n = int64(v)
	case string:
		i, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return &input.Error{Message: fmt.Sprintf("WattHours must be a whole number of Wh, got %q", v)}
		}
		n = i
	default:
		return &input.Error{Message: fmt.Sprintf("WattHours must be a number, got %T", v)}
	}
	if n > int64(MaxWattHours) || n < -int64(MaxWattHours) {
		return &input.Error{Message: fmt.Sprintf("WattHours must be within ±2^53, got %d", n)}
	}
	*w = WattHours(n)
	return nil
}
