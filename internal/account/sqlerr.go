package account

import (
	"errors"

	"github.com/jackc/pgx/v5/pgconn"
)

// retryable reports serialization failures and deadlocks, which a retry of the whole
// transaction resolves.
func retryable(err error) bool {
	var pg *pgconn.PgError
	return errors.As(err, &pg) && (pg.Code == "40001" || pg.Code == "40P01")
}

// isLockNotAvailable reports a NOWAIT lock that another transaction holds.
func isLockNotAvailable(err error) bool {
	var pg *pgconn.PgError
	return errors.As(err, &pg) && pg.Code == "55P03"
}
