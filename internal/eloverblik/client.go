// Package eloverblik is a client for the ElOverblik ThirdParty API: the
// refresh-token → data-access-token flow, metering points, authorizations and
// hourly time series, plus the energy-type look-up that the reference got
// from its EnergyTypeService. Its parsers are defensive (unknown fields are
// ignored; a bad reading is reported on its own and never fails the rest),
// and the time-series parser streams, so a response of any size is read in
// bounded memory.
//
// The sim subpackage serves the same API for development and tests.
package eloverblik

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Config configures a Client. Only BaseURL and RefreshToken are required.
type Config struct {
	// BaseURL is the ThirdParty API root, e.g.
	// https://api.eloverblik.dk/thirdpartyapi or http://127.0.0.1:8080/sim/eloverblik.
	BaseURL string
	// RefreshToken is the long-lived third-party token (ELOVERBLIK_TOKEN).
	RefreshToken string
	// EnergyTypeURL is the root of the energy-type service
	// (GET /get-energy-type?gsrn=). Defaults to BaseURL, where the simulator
	// serves it. No token is ever sent to it.
	EnergyTypeURL string
	// HTTPClient defaults to a client without an overall timeout (bodies are
	// streamed; see Timeout).
	HTTPClient *http.Client
	// Timeout bounds each attempt until the response headers arrive (default
	// 60 s). Reading a streamed body is bounded by the caller's ctx only,
	// because its length depends on the window asked for.
	Timeout time.Duration
	// Clock returns the current time (default time.Now().UTC()).
	Clock func() time.Time
	// Logger receives retry warnings (default: discard). Tokens are never logged.
	Logger *slog.Logger
	// MaxRetries is the number of retries after the first attempt on 429,
	// 5xx and network errors (default 4; a negative value means none).
	MaxRetries int
	// BaseDelay and MaxDelay shape the exponential backoff with full jitter:
	// attempt n waits a random duration in [0, min(MaxDelay, BaseDelay·2ⁿ)].
	// A Retry-After header overrides it (capped at MaxDelay). Defaults
	// 500 ms and 30 s.
	BaseDelay, MaxDelay time.Duration
	// TokenMargin is subtracted from a data token's expiry so it is renewed
	// before ElOverblik rejects it (default 5 min, at most a tenth of the
	// token's lifetime).
	TokenMargin time.Duration
	// TokenCache, when set, shares the data token between processes.
	TokenCache TokenCache
	// Sleep waits between attempts; tests replace it to record delays
	// instead of sleeping. Default: a timer that also watches ctx.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Client talks to the ThirdParty API. It is safe for concurrent use; the
// data-access token is shared by all callers and refreshed by one at a time.
type Client struct {
	base, energyBase string
	refresh          string
	hc               *http.Client
	timeout          time.Duration
	now              func() time.Time
	log              *slog.Logger
	maxRetries       int
	baseDelay        time.Duration
	maxDelay         time.Duration
	margin           time.Duration
	sleep            func(context.Context, time.Duration) error

	// refreshing is a one-slot semaphore: the holder fetches a token while
	// others wait on it (or on their ctx), so concurrent callers cause one
	// /api/Token call, not one each.
	refreshing chan struct{}
	mu         sync.Mutex // guards token, expiry and rejected
	token      string
	expiry     time.Time
	rejected   string // last token answered with 401; never adopted from the shared cache again
	shared     TokenCache

	parsers sync.Pool // *Parser
}

// New validates cfg and returns a Client.
func New(cfg Config) (*Client, error) {
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("eloverblik base url %q: must be an absolute http(s) URL", cfg.BaseURL)
	}
	if cfg.RefreshToken == "" {
		return nil, errors.New("eloverblik refresh token is empty")
	}
	c := &Client{
		base:       strings.TrimRight(cfg.BaseURL, "/"),
		energyBase: strings.TrimRight(cfg.EnergyTypeURL, "/"),
		refresh:    cfg.RefreshToken,
		hc:         cfg.HTTPClient,
		timeout:    cfg.Timeout,
		now:        cfg.Clock,
		log:        cfg.Logger,
		maxRetries: cfg.MaxRetries,
		baseDelay:  cfg.BaseDelay,
		maxDelay:   cfg.MaxDelay,
		margin:     cfg.TokenMargin,
		sleep:      cfg.Sleep,
		refreshing: make(chan struct{}, 1),
		shared:     cfg.TokenCache,
	}
	if c.energyBase == "" {
		c.energyBase = c.base
	}
	if c.hc == nil {
		c.hc = &http.Client{}
	}
	if c.timeout <= 0 {
		c.timeout = 60 * time.Second
	}
	if c.now == nil {
		c.now = func() time.Time { return time.Now().UTC() }
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxRetries == 0 {
		c.maxRetries = 4
	} else if cfg.MaxRetries < 0 {
		c.maxRetries = 0
	}
	if c.baseDelay <= 0 {
		c.baseDelay = 500 * time.Millisecond
	}
	if c.maxDelay <= 0 {
		c.maxDelay = 30 * time.Second
	}
	if c.margin <= 0 {
		c.margin = 5 * time.Minute
	}
	if c.sleep == nil {
		c.sleep = sleepCtx
	}
	return c, nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// authMode says which credential a request carries.
type authMode int

const (
	authNone    authMode = iota // energy-type service
	authRefresh                 // /api/Token
	authData                    // every data call
)

// request describes one logical call; do turns it into attempts.
type request struct {
	method string
	base   string
	path   string // escaped path, may carry a query
	body   []byte
	auth   authMode
}

// cancelBody cancels the attempt's context when the body is closed, so a
// streamed body stays readable after do returns.
type cancelBody struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

// do runs req with retries and returns a 200 response, whose body the caller
// must close. Errors: *APIError for a final non-200 answer (matching the
// sentinels), ctx's error, or the last network error.
func (c *Client) do(ctx context.Context, req request) (*http.Response, error) {
	refreshedAfter401 := false
	for attempt := 0; ; attempt++ {
		resp, err := c.attempt(ctx, req, &refreshedAfter401)
		if err == nil {
			return resp, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var te tokenError
		if errors.As(err, &te) {
			return nil, te.err
		}
		var apiErr *APIError
		isAPI := errors.As(err, &apiErr)
		if isAPI && !retryable(apiErr.Status) {
			return nil, err
		}
		if !isAPI && errors.Is(err, errNoRetry) {
			return nil, err
		}
		if attempt >= c.maxRetries {
			return nil, err
		}
		delay := c.backoff(attempt)
		if isAPI && apiErr.RetryAfter > 0 {
			delay = min(apiErr.RetryAfter, c.maxDelay)
		}
		c.log.WarnContext(ctx, "eloverblik retry", "method", req.method, "path", pathOnly(req.path),
			"attempt", attempt+1, "delay", delay, "error", err)
		if err := c.sleep(ctx, delay); err != nil {
			return nil, err
		}
	}
}

// tokenError carries a failed token fetch out of attempt unretried.
type tokenError struct{ err error }

func (e tokenError) Error() string { return e.err.Error() }
func (e tokenError) Unwrap() error { return e.err }

// errNoRetry marks errors that another attempt cannot fix (a token refused).
var errNoRetry = errors.New("not retryable")

func (c *Client) backoff(attempt int) time.Duration {
	ceiling := c.maxDelay
	if attempt < 30 {
		if d := c.baseDelay << attempt; d > 0 && d < ceiling {
			ceiling = d
		}
	}
	return rand.N(ceiling + 1)
}

func pathOnly(p string) string {
	if i := strings.IndexByte(p, '?'); i >= 0 {
		return p[:i]
	}
	return p
}

// attempt sends one request. A 401 on a data call drops the cached token and
// sends once more with a fresh one before giving up (the reference kept
// using a rejected token until its cache entry expired).
func (c *Client) attempt(ctx context.Context, req request, refreshed *bool) (*http.Response, error) {
	for {
		var token string
		switch req.auth {
		case authRefresh:
			token = c.refresh
		case authData:
			t, err := c.DataAccessToken(ctx)
			if err != nil {
				// The token fetch has spent its own retries; retrying the
				// data call around it would multiply them.
				return nil, tokenError{err}
			}
			token = t
		}
		resp, err := c.send(ctx, req, token)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode == http.StatusOK {
			return resp, nil
		}
		apiErr := readAPIError(req, resp, c.now())
		if resp.StatusCode == http.StatusUnauthorized && req.auth == authData && !*refreshed {
			*refreshed = true
			c.invalidate(token)
			continue
		}
		return nil, apiErr
	}
}

func (c *Client) send(ctx context.Context, req request, token string) (*http.Response, error) {
	actx, cancel := context.WithCancel(ctx)
	// The timeout covers the wait for headers only; see Config.Timeout.
	timer := time.AfterFunc(c.timeout, cancel)
	var body io.Reader
	if req.body != nil {
		body = bytes.NewReader(req.body)
	}
	hreq, err := http.NewRequestWithContext(actx, req.method, req.base+req.path, body)
	if err != nil {
		timer.Stop()
		cancel()
		return nil, fmt.Errorf("build request %s: %w", pathOnly(req.path), errors.Join(err, errNoRetry))
	}
	hreq.Header.Set("Accept", "application/json")
	if req.body != nil {
		hreq.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		hreq.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.hc.Do(hreq)
	if !timer.Stop() && err == nil {
		// The timer fired just as the headers arrived: the body is cancelled.
		resp.Body.Close()
		err = context.DeadlineExceeded
	}
	if err != nil {
		cancel()
		return nil, fmt.Errorf("%s %s: %w", req.method, pathOnly(req.path), err)
	}
	resp.Body = cancelBody{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

// readAPIError drains (a bounded part of) a non-200 body into an *APIError.
func readAPIError(req request, resp *http.Response, now time.Time) *APIError {
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	e := &APIError{Method: req.method, Path: pathOnly(req.path), Status: resp.StatusCode}
	var body struct {
		ErrorCode json.RawMessage `json:"errorCode"`
		ErrorText string          `json:"errorText"`
		Message   string          `json:"message"`
	}
	if json.Unmarshal(raw, &body) == nil && (len(body.ErrorCode) > 0 || body.ErrorText != "" || body.Message != "") {
		e.Code = strings.Trim(string(body.ErrorCode), `"`)
		e.Message = body.ErrorText
		if e.Message == "" {
			e.Message = body.Message
		}
	} else {
		e.Message = strings.TrimSpace(string(raw[:min(len(raw), 200)]))
	}
	if e.Message == "" {
		e.Message = http.StatusText(resp.StatusCode)
	}
	if ra := resp.Header.Get("Retry-After"); ra != "" {
		if s, err := strconv.Atoi(ra); err == nil && s >= 0 {
			e.RetryAfter = time.Duration(s) * time.Second
		} else if t, err := http.ParseTime(ra); err == nil {
			if d := t.Sub(now); d > 0 {
				e.RetryAfter = d
			}
		}
	}
	return e
}
