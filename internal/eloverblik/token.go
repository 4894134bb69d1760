package eloverblik

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
)

// fallbackTokenLifetime is assumed when the data token is not a JWT with an
// exp claim. ElOverblik's tokens live about 24 h; an hour is safe.
const fallbackTokenLifetime = time.Hour

// DataAccessToken returns a data-access token, fetching one from /api/Token
// with the refresh token when none is cached or the cached one is about to
// expire. Concurrent callers share one fetch. Errors: ErrUnauthorized when
// the refresh token is refused, ErrMalformedResponse, ctx's error, or the
// last network or *APIError after retries.
func (c *Client) DataAccessToken(ctx context.Context) (string, error) {
	if t, ok := c.cachedToken(); ok {
		return t, nil
	}
	select {
	case c.refreshing <- struct{}{}:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	defer func() { <-c.refreshing }()
	// Another caller may have refreshed while this one waited.
	if t, ok := c.cachedToken(); ok {
		return t, nil
	}
	if t, ok := c.loadShared(ctx); ok {
		return t, nil
	}
	tok, exp, err := c.fetchToken(ctx)
	if err != nil {
		return "", err
	}
	c.mu.Lock()
	c.token, c.expiry = tok, exp
	c.mu.Unlock()
	if c.shared != nil {
		if err := c.shared.Store(ctx, tok, exp); err != nil {
			c.log.WarnContext(ctx, "eloverblik token cache store failed", "error", err)
		}
	}
	return tok, nil
}

// TokenCache shares the data-access token between processes (e.g. workers
// backed by one Redis), so that N processes do not fetch N tokens. Load
// returns "" when nothing is stored. The client keeps its own in-memory copy
// and consults the cache only when that is missing or expired; cache errors
// are logged and never fail a call.
type TokenCache interface {
	Load(ctx context.Context) (token string, expiry time.Time, err error)
	Store(ctx context.Context, token string, expiry time.Time) error
}

// loadShared adopts a live token from the shared cache, unless it is the one
// this client just saw rejected. Caller holds c.refreshing.
func (c *Client) loadShared(ctx context.Context) (string, bool) {
	if c.shared == nil {
		return "", false
	}
	tok, exp, err := c.shared.Load(ctx)
	if err != nil {
		c.log.WarnContext(ctx, "eloverblik token cache load failed", "error", err)
		return "", false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if tok == "" || tok == c.rejected || !c.now().Before(exp) {
		return "", false
	}
	c.token, c.expiry = tok, exp
	return tok, true
}

func (c *Client) cachedToken() (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token != "" && c.now().Before(c.expiry) {
		return c.token, true
	}
	return "", false
}

// invalidate drops the cached token if it is still tok, so a 401 seen by
// several callers at once causes one refresh, not one each.
func (c *Client) invalidate(tok string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token == tok {
		c.token, c.expiry = "", time.Time{}
	}
	c.rejected = tok
}

func (c *Client) fetchToken(ctx context.Context) (string, time.Time, error) {
	resp, err := c.do(ctx, request{method: "GET", base: c.base, path: "/api/Token", auth: authRefresh})
	if err != nil {
		return "", time.Time{}, fmt.Errorf("fetch data access token: %w", err)
	}
	defer resp.Body.Close()
	var body struct {
		Result *string `json:"result"`
	}
	dec := json.NewDecoder(io.LimitReader(resp.Body, 64<<10))
	if err := dec.Decode(&body); err != nil {
		return "", time.Time{}, fmt.Errorf("decode token response: %w: %v", ErrMalformedResponse, err)
	}
	if body.Result == nil || *body.Result == "" {
		return "", time.Time{}, fmt.Errorf("decode token response: %w: empty result", ErrMalformedResponse)
	}
	now := c.now()
	exp, ok := jwtExpiry(*body.Result)
	if !ok || !exp.After(now) {
		exp = now.Add(fallbackTokenLifetime)
	}
	margin := min(c.margin, exp.Sub(now)/10)
	return *body.Result, exp.Add(-margin), nil
}

// jwtExpiry reads the exp claim of a JWT without verifying it. The client is
// not the token's audience; exp only tells it when to fetch a new one, and
// a wrong value costs at most one 401 and a refresh.
func jwtExpiry(tok string) (time.Time, bool) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return time.Time{}, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return time.Time{}, false
	}
	var claims struct {
		Exp json.Number `json:"exp"`
	}
	if err := json.Unmarshal(raw, &claims); err != nil {
		return time.Time{}, false
	}
	secs, err := claims.Exp.Int64()
	if err != nil || secs <= 0 {
		return time.Time{}, false
	}
	return time.Unix(secs, 0).UTC(), true
}
