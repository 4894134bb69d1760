package db

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/uptrace/bun"
)

// ExecBinary runs query ($1, $2, … placeholders) on idb with args sent as bind parameters in
// binary. bun writes values into the SQL text, and the pool's default mode (see Open) sends
// parameters as text: for a megabyte of bytea or thousands of rows as arrays, both cost
// more to build and for Postgres to parse than the values themselves. Describing the
// statement first (one more round trip) tells pgx each parameter's type, so it can send
// binary. Slices go as arrays; nil pointers in them as NULLs.
func ExecBinary(ctx context.Context, idb bun.IDB, query string, args ...any) (sql.Result, error) {
	full := append([]any{pgx.QueryExecModeDescribeExec}, args...)
	switch t := idb.(type) {
	case bun.Tx:
		return t.Tx.ExecContext(ctx, query, full...)
	case *bun.DB:
		return t.DB.ExecContext(ctx, query, full...)
	case bun.Conn:
		return t.Conn.ExecContext(ctx, query, full...)
	}
	return nil, fmt.Errorf("exec: unsupported database handle %T", idb)
}
