package auth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/lestrrat-go/httprc/v3"
	"github.com/lestrrat-go/httprc/v3/errsink"
	"github.com/lestrrat-go/jwx/v3/jwk"
)

// remoteKeys is a JWKS fetched over HTTP and kept in a jwk.Cache, which
// refreshes it in the background (honouring Cache-Control within
// [MinRefreshInterval, MaxRefreshInterval]).
type remoteKeys struct {
	url        string
	cache      *jwk.Cache
	res        *httprc.ResourceBase[jwk.Set]
	timeout    time.Duration
	minRefresh time.Duration
	clock      func() time.Time

	// mu serialises forced refreshes; lastForced rate-limits them so a
	// stream of tokens with made-up kids cannot turn us into a load
	// generator against the issuer.
	mu         sync.Mutex
	lastForced time.Time
}

func newRemoteKeys(ctx context.Context, cfg VerifierConfig) (*remoteKeys, error) {
	if cfg.HTTPTimeout <= 0 {
		cfg.HTTPTimeout = DefaultHTTPTimeout
	}
	if cfg.MinRefreshInterval <= 0 {
		cfg.MinRefreshInterval = DefaultMinRefreshInterval
	}
	if cfg.MaxRefreshInterval <= 0 {
		cfg.MaxRefreshInterval = DefaultMaxRefreshInterval
	}
	if cfg.MaxRefreshInterval < cfg.MinRefreshInterval {
		return nil, errors.New("verifier config: max refresh interval is below the min refresh interval")
	}
	// Copy the client so we can bound its timeout without touching the
	// caller's: httprc fetches with a context that has no deadline, so the
	// client timeout is the only thing that stops a hung JWKS server from
	// pinning a worker.
	hc := &http.Client{}
	if cfg.HTTPClient != nil {
		c := *cfg.HTTPClient
		hc = &c
	}
	if hc.Timeout == 0 || hc.Timeout > cfg.HTTPTimeout {
		hc.Timeout = cfg.HTTPTimeout
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	sink := errsink.NewFunc(func(ctx context.Context, err error) {
		logger.WarnContext(ctx, "jwks refresh failed", "jwks_url", cfg.JWKSURL, "error", err)
	})

	cache, err := jwk.NewCache(ctx, httprc.NewClient(
		httprc.WithHTTPClient(hc),
		httprc.WithErrorSink(sink),
		// Two workers: registering starts a background fetch, and the
		// synchronous fetch in start (or for an unknown kid) must not queue
		// behind it, or a stalled issuer would cost two timeouts and hide
		// the real cause behind our own deadline. The default five would idle.
		httprc.WithWorkers(2),
	))
	if err != nil {
		return nil, fmt.Errorf("start jwks cache: %w", err)
	}
	rk := &remoteKeys{
		url:        cfg.JWKSURL,
		cache:      cache,
		timeout:    cfg.HTTPTimeout,
		minRefresh: cfg.MinRefreshInterval,
		clock:      cfg.Clock,
	}
	if err := rk.start(ctx, hc, cfg); err != nil {
		// Stop the cache goroutines we just started; ctx may be cancelled
		// already, so the wait needs its own bound.
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if serr := cache.Shutdown(sctx); serr != nil {
			return nil, errors.Join(err, fmt.Errorf("stop jwks cache: %w", serr))
		}
		return nil, err
	}
	return rk, nil
}

// start registers the URL and fetches it once synchronously. We register
// without waiting and then Refresh, rather than waiting for readiness,
// because Refresh reports why the fetch failed (connection refused, status
// 500, timeout) where readiness only reports that the wait ended.
func (rk *remoteKeys) start(ctx context.Context, hc *http.Client, cfg VerifierConfig) error {
	if err := rk.cache.Register(ctx, rk.url,
		jwk.WithWaitReady(false),
		jwk.WithHTTPClient(hc),
		jwk.WithMinInterval(cfg.MinRefreshInterval),
		jwk.WithMaxInterval(cfg.MaxRefreshInterval),
	); err != nil {
		return fmt.Errorf("register jwks url: %w", err)
	}
	res, err := rk.cache.LookupResource(ctx, rk.url)
	if err != nil {
		return fmt.Errorf("look up jwks resource: %w", err)
	}
	rk.res = res
	if _, err := rk.refresh(ctx); err != nil {
		return err
	}
	return nil
}

// refresh fetches the key set now.
func (rk *remoteKeys) refresh(ctx context.Context) (jwk.Set, error) {
	// The fetch itself is bounded by the client timeout; this bounds the
	// wait for a busy worker as well.
	rctx, cancel := context.WithTimeout(ctx, 2*rk.timeout)
	defer cancel()
	set, err := rk.cache.Refresh(rctx, rk.url)
	if err != nil {
		return nil, fmt.Errorf("%w: fetch %s: %w", ErrJWKSUnavailable, rk.url, err)
	}
	return set, nil
}

// lookup reads the cached set without blocking on the cache's goroutines.
func (rk *remoteKeys) lookup(kid string) (jwk.Key, bool) {
	set := rk.res.Resource()
	if set == nil {
		return nil, false
	}
	return set.LookupKeyID(kid)
}

// key returns the key for kid. An unknown kid (a rotation we have not seen
// yet, or a forged token) triggers one refresh unless another forced
// refresh happened within MinRefreshInterval.
func (rk *remoteKeys) key(ctx context.Context, kid string) (jwk.Key, error) {
	if k, ok := rk.lookup(kid); ok {
		return k, nil
	}
	rk.mu.Lock()
	defer rk.mu.Unlock()
	// Another request may have refreshed while we waited for the lock.
	if k, ok := rk.lookup(kid); ok {
		return k, nil
	}
	now := rk.clock()
	if !rk.lastForced.IsZero() && now.Sub(rk.lastForced) < rk.minRefresh {
		return nil, fmt.Errorf("%w: unknown key id %q (jwks refreshed %s ago)", ErrInvalidSignature, clip(kid), now.Sub(rk.lastForced))
	}
	rk.lastForced = now
	set, err := rk.refresh(ctx)
	if err != nil {
		return nil, err
	}
	if k, ok := set.LookupKeyID(kid); ok {
		return k, nil
	}
	return nil, fmt.Errorf("%w: unknown key id %q", ErrInvalidSignature, clip(kid))
}

func (rk *remoteKeys) close(ctx context.Context) error {
	if err := rk.cache.Shutdown(ctx); err != nil {
		return fmt.Errorf("stop jwks cache: %w", err)
	}
	return nil
}
