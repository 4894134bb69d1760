package api

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"
)

// apqTTL is how long an automatic persisted query stays known after its last registration.
const apqTTL = 24 * time.Hour

// apqCache keeps automatic persisted queries in Redis, so every API replica knows a query
// any of them has seen.
type apqCache struct{ rdb *redis.Client }

func newAPQCache(rdb *redis.Client) apqCache { return apqCache{rdb: rdb} }

func (c apqCache) Get(ctx context.Context, hash string) (string, bool) {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	s, err := c.rdb.Get(ctx, "originhub:apq:"+hash).Result()
	return s, err == nil
}

func (c apqCache) Add(ctx context.Context, hash, query string) {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	// Losing a registration only costs the client one more round trip.
	_ = c.rdb.Set(ctx, "originhub:apq:"+hash, query, apqTTL).Err()
}
