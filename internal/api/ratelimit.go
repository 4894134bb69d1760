package api

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/redis/go-redis/v9"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/originhub/originhub/internal/user"
)

// CodeRateLimited is the extensions.code of an operation refused by the rate limit.
const CodeRateLimited = "RATE_LIMITED"

type clientIPKey struct{}

// withClientIP records the peer address, the rate-limit key of anonymous requests. Proxy
// headers are not trusted: behind a load balancer, anonymous callers share its limit.
func withClientIP(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			host = r.RemoteAddr
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), clientIPKey{}, host)))
	})
}

// rateLimit allows each subject (or anonymous address) perMinute operations per calendar
// minute, counted in Redis so that all replicas share the budget. When Redis fails the
// request goes through: availability over strictness.
type rateLimit struct {
	rdb       *redis.Client
	perMinute int
	log       *slog.Logger
	now       func() time.Time
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationInterceptor
} = rateLimit{}

func (rateLimit) ExtensionName() string                   { return "RateLimit" }
func (rateLimit) Validate(graphql.ExecutableSchema) error { return nil }

func (l rateLimit) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	key := "anon:"
	if v, ok := user.ViewerFrom(ctx); ok {
		key = "user:" + strconv.FormatInt(v.UserID, 10)
	} else if ip, ok := ctx.Value(clientIPKey{}).(string); ok {
		key += ip
	}
	minute := l.now().Unix() / 60
	rkey := fmt.Sprintf("originhub:ratelimit:%s:%d", key, minute)
	rctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	pipe := l.rdb.TxPipeline()
	incr := pipe.Incr(rctx, rkey)
	pipe.Expire(rctx, rkey, 2*time.Minute)
	if _, err := pipe.Exec(rctx); err != nil {
		l.log.WarnContext(ctx, "rate limit unavailable", "err", err)
		return next(ctx)
	}
	if incr.Val() > int64(l.perMinute) {
		retry := 60 - l.now().Unix()%60
		e := gqlerror.Errorf("rate limit of %d operations per minute exceeded; retry in %d s", l.perMinute, retry)
		e.Extensions = map[string]any{"code": CodeRateLimited, "retryAfterSeconds": retry}
		return graphql.OneShot(&graphql.Response{Errors: gqlerror.List{e}})
	}
	return next(ctx)
}

// costReport puts the operation's complexity in the response's extensions, so clients can
// see how close they are to the limit.
type costReport struct{ limit int }

func (costReport) ExtensionName() string                   { return "CostReport" }
func (costReport) Validate(graphql.ExecutableSchema) error { return nil }

func (c costReport) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(ctx)
	if resp == nil {
		return nil
	}
	if stats := extension.GetComplexityStats(ctx); stats != nil {
		if resp.Extensions == nil {
			resp.Extensions = map[string]any{}
		}
		resp.Extensions["cost"] = map[string]int{"complexity": stats.Complexity, "limit": c.limit}
	}
	return resp
}
