// Package datahub imports metering points and hourly measurements from the Danish DataHub.
package datahub

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// EnsurePartitions creates the monthly measurement partitions covering [from, to) that do
// not exist yet and returns how many it created. It is safe to call concurrently.
func EnsurePartitions(ctx context.Context, db bun.IDB, from, to time.Time) (int, error) {
	var created int
	if err := db.NewRaw("SELECT ensure_measurement_partitions(?, ?)", from.UTC(), to.UTC()).Scan(ctx, &created); err != nil {
		return 0, fmt.Errorf("ensure measurement partitions %s..%s: %w", from.Format(time.DateOnly), to.Format(time.DateOnly), err)
	}
	return created, nil
}
