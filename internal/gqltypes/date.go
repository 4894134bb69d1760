package gqltypes

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"github.com/originhub/originhub/internal/input"
)

// MarshalDate writes the Date scalar: the calendar day of t as "YYYY-MM-DD". The
// clock time and zone are ignored: a Date names a day, not an instant.
func MarshalDate(t time.Time) graphql.ContextMarshaler {
	return graphql.ContextWriterFunc(func(_ context.Context, w io.Writer) error {
		_, err := io.WriteString(w, strconv.Quote(t.Format(time.DateOnly)))
		return err
	})
}

// UnmarshalDate reads the Date scalar, "YYYY-MM-DD", as midnight UTC of that day. A refused
// value is an *input.Error, which clients see as BAD_USER_INPUT.
func UnmarshalDate(_ context.Context, v any) (time.Time, error) {
	s, ok := v.(string)
	if !ok {
		return time.Time{}, &input.Error{Message: fmt.Sprintf("Date must be a string YYYY-MM-DD, got %T", v)}
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, &input.Error{Message: fmt.Sprintf("Date must be YYYY-MM-DD, got %q", s)}
	}
	return t, nil
}
