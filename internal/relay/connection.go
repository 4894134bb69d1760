package relay

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/uptrace/bun"
)

// Page sizes: a client asks for 1 to MaxPageSize items, DefaultPageSize when it says nothing.
const (
	DefaultPageSize = 50
	MaxPageSize     = 100
)

// ErrInvalidArgs is returned for pagination arguments that cannot be honoured.
var ErrInvalidArgs = errors.New("invalid pagination arguments")

// ArgsError tells which pagination argument is wrong; it matches ErrInvalidArgs.
type ArgsError struct {
	Field, Message string
}

func (e *ArgsError) Error() string        { return e.Field + ": " + e.Message }
func (e *ArgsError) Is(target error) bool { return target == ErrInvalidArgs }

// Args are the Relay connection arguments.
type Args struct {
	First  *int
	After  *string
	Last   *int
	Before *string
}

// PageInfo is Relay's PageInfo.
type PageInfo struct {
	HasNextPage     bool
	HasPreviousPage bool
	StartCursor     *string
	EndCursor       *string
}

// Edge is one item with its cursor.
type Edge[T any] struct {
	Node   T
	Cursor string
}

// Connection is one page of a keyset-paginated list.
type Connection[T any] struct {
	Edges    []Edge[T]
	PageInfo PageInfo
	count    func(ctx context.Context) (int, error)
}

// Nodes returns the page's items.
func (c *Connection[T]) Nodes() []T {
	out := make([]T, len(c.Edges))
	for i, e := range c.Edges {
		out[i] = e.Node
	}
	return out
}

// TotalCount counts every item matching the filter, ignoring the page. It runs a query, so
// resolvers call it only when the client selected totalCount.
func (c *Connection[T]) TotalCount(ctx context.Context) (int, error) {
	if c.count == nil {
		return len(c.Edges), nil
	}
	return c.count(ctx)
}

// Order describes the keyset: the columns the list is sorted by, ending in a unique column so
// the order is total. All columns sort in the same direction, which lets the keyset condition
// be one row comparison that an index on the same columns serves.
type Order struct {
	Columns []string // SQL expressions, e.g. "ggo.begin_at", "ggo.id"
	Desc    bool
}

// Paginate runs q (a filtered select of T with no ORDER BY or LIMIT) one page at a time.
// key returns the values of order.Columns for an item; they are encoded in its cursor.
// Cursors from another order or list are rejected with ErrInvalidArgs.
func Paginate[T any](ctx context.Context, q *bun.SelectQuery, args Args, order Order, key func(*T) []any) (*Connection[T], error) {
	if len(order.Columns) == 0 {
		return nil, errors.New("paginate: order has no columns")
	}
	limit, backward, err := args.resolve()
	if err != nil {
		return nil, err
	}
	count := q.Clone()
	desc := order.Desc != backward // walking backward reads the list in reverse
	cols := strings.Join(order.Columns, ", ")
	if args.After != nil {
		vals, err := decodeCursor(*args.After, len(order.Columns))
		if err != nil {
			return nil, &ArgsError{Field: "after", Message: "is not a cursor of this list"}
		}
		q = q.Where("("+cols+") "+cmp(!order.Desc)+" ("+placeholders(len(vals))+")", vals...)
	}
	if args.Before != nil {
		vals, err := decodeCursor(*args.Before, len(order.Columns))
		if err != nil {
			return nil, &ArgsError{Field: "before", Message: "is not a cursor of this list"}
		}
		q = q.Where("("+cols+") "+cmp(order.Desc)+" ("+placeholders(len(vals))+")", vals...)
	}
	for _, c := range order.Columns {
		if desc {
			q = q.OrderExpr(c + " DESC")
		} else {
			q = q.OrderExpr(c + " ASC")
		}
	}
	var rows []T
	if err := q.Limit(int64(limit+1)).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("paginate: %w", err)
	}
	more := len(rows) > limit
	if more {
		rows = rows[:limit]
	}
	if backward {
		slices.Reverse(rows)
	}
	conn := &Connection[T]{
		Edges: make([]Edge[T], len(rows)),
		count: func(ctx context.Context) (int, error) {
			n, err := count.Count(ctx)
			if err != nil {
				return 0, fmt.Errorf("count: %w", err)
			}
			return int(n), nil
		},
	}
	for i := range rows {
		cur, err := encodeCursor(key(&rows[i]))
		if err != nil {
			return nil, err
		}
		conn.Edges[i] = Edge[T]{Node: rows[i], Cursor: cur}
	}
	if n := len(conn.Edges); n > 0 {
		conn.PageInfo.StartCursor = &conn.Edges[0].Cursor
		conn.PageInfo.EndCursor = &conn.Edges[n-1].Cursor
	}
	// Relay lets a server answer hasPreviousPage false when paginating forward (and the
	// reverse) if finding out is costly; we say whether a cursor was given, which is exact
	// for the cursors we hand out.
	if backward {
		conn.PageInfo.HasPreviousPage = more
		conn.PageInfo.HasNextPage = args.Before != nil
	} else {
		conn.PageInfo.HasNextPage = more
		conn.PageInfo.HasPreviousPage = args.After != nil
	}
	return conn, nil
}

func (a Args) resolve() (limit int, backward bool, err error) {
	if a.First != nil && a.Last != nil {
		return 0, false, &ArgsError{Field: "first", Message: "cannot be combined with last"}
	}
	check := func(field string, n *int) (int, error) {
		if n == nil {
			return DefaultPageSize, nil
		}
		if *n < 1 || *n > MaxPageSize {
			return 0, &ArgsError{Field: field, Message: fmt.Sprintf("must be between 1 and %d", MaxPageSize)}
		}
		return *n, nil
	}
	if a.Last != nil || (a.Before != nil && a.First == nil) {
		limit, err = check("last", a.Last)
		return limit, true, err
	}
	limit, err = check("first", a.First)
	return limit, false, err
}

func cmp(greater bool) string {
	if greater {
		return ">"
	}
	return "<"
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// A cursor is base64url of a JSON array of the keyset values. Values are passed back to SQL
// as text literals, which Postgres coerces to the column types.
func encodeCursor(vals []any) (string, error) {
	b, err := json.Marshal(vals)
	if err != nil {
		return "", fmt.Errorf("encode cursor: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func decodeCursor(s string, n int) ([]any, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	var vals []any
	if err := dec.Decode(&vals); err != nil {
		return nil, err
	}
	if len(vals) != n {
		return nil, errors.New("cursor has the wrong number of values")
	}
	for i, v := range vals {
		switch v := v.(type) {
		case string:
		case json.Number:
			vals[i] = v.String()
		default:
			return nil, errors.New("cursor value is not a string or number")
		}
	}
	return vals, nil
}
