// Package rest is a client for the Sawtooth 1.2 REST API as the Project
// Origin ledger uses it: POST /batches, GET /batch_statuses and
// GET /state/{address}. It works the same against the real ledger and the
// stand-in (internal/ledger/standin).
//
// Every call has a per-attempt timeout and is retried with exponential
// backoff on network errors, timeouts, HTTP 5xx and 429 (Sawtooth codes 10,
// 15, 17, 18, 19 and 31). A retried Submit resends the very same bytes, so
// it can only ever deliver the one batch it was given: the ledger ignores a
// batch id it has already seen.
package rest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/originhub/originhub/internal/ledger"
)

// Status is a batch status.
type Status string

// Batch statuses (spec 9.3). UNKNOWN right after a submission means "not
// queued yet": keep polling.
const (
	Pending   Status = "PENDING"
	Committed Status = "COMMITTED"
	Invalid   Status = "INVALID"
	Unknown   Status = "UNKNOWN"
)

// InvalidTransaction names a rejected transaction and the processor's text.
type InvalidTransaction struct {
	ID      string `json:"id"`
	Message string `json:"message"`
}

// BatchStatus is the status of one batch.
type BatchStatus struct {
	ID                  string               `json:"id"`
	Status              Status               `json:"status"`
	InvalidTransactions []InvalidTransaction `json:"invalid_transactions"`
}

// Message returns the first invalid transaction's message, "" if none.
func (s BatchStatus) Message() string {
	if len(s.InvalidTransactions) == 0 {
		return ""
	}
	return s.InvalidTransactions[0].Message
}

// Sawtooth error codes a client meets (spec 8.4).
const (
	CodeUnknownValidatorError = 10
	CodeValidatorNotReady     = 15
	CodeValidatorTimedOut     = 17
	CodeValidatorDisconnected = 18
	CodeSendTimedOut          = 19
	CodeSubmittedInvalid      = 30
	CodeQueueFull             = 31
	CodeNoBatches             = 34
	CodeProtobufNotDecodable  = 35
	CodeWrongContentType      = 42
	CodeInvalidResourceID     = 60
	CodeInvalidStateAddress   = 62
	CodeIDQueryInvalid        = 66
	CodeBlockNotFound         = 70
	CodeStateNotFound         = 75
)

// Error is an error body of the REST API.
type Error struct {
	HTTPStatus int
	Code       int    `json:"code"`
	Title      string `json:"title"`
	Message    string `json:"message"`
}

// Error implements error.
func (e *Error) Error() string {
	return fmt.Sprintf("ledger REST error %d (%s, HTTP %d): %s", e.Code, e.Title, e.HTTPStatus, e.Message)
}

// Sentinels matched by errors.Is against an *Error.
var (
	// ErrStateNotFound: nothing is stored at the address (code 75).
	ErrStateNotFound = errors.New("no state at address")
	// ErrBatchRejected: the validator refused the batch at submission
	// (code 30: bad signature or structure). Resending cannot help.
	ErrBatchRejected = errors.New("batch rejected at submission")
	// ErrBadResponse: the answer was not the API's JSON.
	ErrBadResponse = errors.New("invalid response from ledger")
)

// Is maps codes onto the package sentinels.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrStateNotFound:
		return e.Code == CodeStateNotFound
	case ErrBatchRejected:
		return e.Code == CodeSubmittedInvalid
	}
	return false
}

// Retryable reports whether the same request may succeed later.
func (e *Error) Retryable() bool {
	switch e.Code {
	case CodeUnknownValidatorError, CodeValidatorNotReady, CodeValidatorTimedOut, CodeValidatorDisconnected, CodeSendTimedOut, CodeQueueFull:
		return true
	}
	return e.HTTPStatus >= 500 || e.HTTPStatus == http.StatusTooManyRequests
}

// RetryPolicy bounds retries.
type RetryPolicy struct {
	// Attempts is the total number of tries (default 5).
	Attempts int
	// Initial is the first backoff (default 200 ms); it doubles per retry
	// up to Max (default 5 s), with ±25 % jitter.
	Initial, Max time.Duration
	// AttemptTimeout bounds one HTTP exchange (default 10 s).
	AttemptTimeout time.Duration
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.Attempts <= 0 {
		p.Attempts = 5
	}
	if p.Initial <= 0 {
		p.Initial = 200 * time.Millisecond
	}
	if p.Max <= 0 {
		p.Max = 5 * time.Second
	}
	if p.AttemptTimeout <= 0 {
		p.AttemptTimeout = 10 * time.Second
	}
	return p
}

// Client talks to one ledger REST API. It is safe for concurrent use.
type Client struct {
	base  string
	hc    *http.Client
	retry RetryPolicy
}

// New returns a client for the REST API at baseURL (for the stand-in, the
// URL it is mounted at, e.g. http://127.0.0.1:8080/sim/ledger). A nil
// httpClient means http.DefaultClient.
func New(baseURL string, httpClient *http.Client) *Client {
	if httpClient == nil {
		httpClient = http.DefaultClient
	}
	return &Client{base: strings.TrimSuffix(baseURL, "/"), hc: httpClient, retry: RetryPolicy{}.withDefaults()}
}

// WithRetry returns a copy of c using p (zero fields take defaults).
func (c *Client) WithRetry(p RetryPolicy) *Client {
	cp := *c
	cp.retry = p.withDefaults()
	return &cp
}

// Submit posts b.Bytes to /batches. It returns nil once the ledger has
// accepted the batch (HTTP 202); the batch is then PENDING or, briefly,
// UNKNOWN. Errors: an *Error (errors.Is ErrBatchRejected for a refused
// batch), ErrBadResponse, or the last network error after the retries.
func (c *Client) Submit(ctx context.Context, b ledger.Batch) error {
	if len(b.Bytes) == 0 {
		return errors.New("submit batch: empty body")
	}
	var link struct {
		Link string `json:"link"`
	}
	err := c.do(ctx, http.MethodPost, "/batches", b.Bytes, http.StatusAccepted, &link)
	if err != nil {
		return fmt.Errorf("submit batch %s: %w", b.ID, err)
	}
	return nil
}

// maxIDsPerRequest keeps status URLs well under common URL limits.
const maxIDsPerRequest = 40

// Statuses returns the status of each id, in the order given.
func (c *Client) Statuses(ctx context.Context, ids ...string) ([]BatchStatus, error) {
	out := make([]BatchStatus, 0, len(ids))
	for start := 0; start < len(ids); start += maxIDsPerRequest {
		chunk := ids[start:min(start+maxIDsPerRequest, len(ids))]
		var body struct {
			Data []BatchStatus `json:"data"`
		}
		q := url.Values{"id": {strings.Join(chunk, ",")}}
		if err := c.do(ctx, http.MethodGet, "/batch_statuses?"+q.Encode(), nil, http.StatusOK, &body); err != nil {
			return nil, fmt.Errorf("batch statuses: %w", err)
		}
		byID := make(map[string]BatchStatus, len(body.Data))
		for _, s := range body.Data {
			byID[s.ID] = s
		}
		for _, id := range chunk {
			s, ok := byID[id]
			if !ok {
				s = BatchStatus{ID: id, Status: Unknown}
			}
			out = append(out, s)
		}
	}
	return out, nil
}

// State returns the committed bytes stored at address. Errors: an *Error
// matching ErrStateNotFound when nothing is stored there, ErrBadResponse,
// or the last network error after the retries.
func (c *Client) State(ctx context.Context, address string) ([]byte, error) {
	var body struct {
		Data string `json:"data"`
		Head string `json:"head"`
	}
	if err := c.do(ctx, http.MethodGet, "/state/"+url.PathEscape(address), nil, http.StatusOK, &body); err != nil {
		return nil, fmt.Errorf("read state %s: %w", address, err)
	}
	data, err := base64.StdEncoding.DecodeString(body.Data)
	if err != nil {
		return nil, fmt.Errorf("read state %s: %w: data is not base64", address, ErrBadResponse)
	}
	return data, nil
}

// do runs one request with retries. body is resent byte for byte.
func (c *Client) do(ctx context.Context, method, path string, body []byte, want int, out any) error {
	backoff := c.retry.Initial
	var last error
	for attempt := 1; ; attempt++ {
		retry, err := c.once(ctx, method, path, body, want, out)
		if err == nil {
			return nil
		}
		last = err
		if !retry || attempt >= c.retry.Attempts || ctx.Err() != nil {
			return last
		}
		d := backoff + time.Duration(rand.Int64N(int64(backoff)/2+1)) - backoff/4
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (after: %w)", ctx.Err(), last)
		case <-t.C:
		}
		backoff = min(backoff*2, c.retry.Max)
	}
}

func (c *Client) once(ctx context.Context, method, path string, body []byte, want int, out any) (retry bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, c.retry.AttemptTimeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return false, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/octet-stream")
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		return true, err // connection refused, reset, attempt timeout
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return true, fmt.Errorf("read response: %w", err)
	}
	// The SDK looks at the body, not the status: an "error" member wins.
	var env struct {
		Error *Error `json:"error"`
	}
	if jerr := json.Unmarshal(raw, &env); jerr != nil {
		// Proxies answer 502/503/504 with HTML: worth a retry.
		return resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests,
			fmt.Errorf("%w: HTTP %d, body is not JSON", ErrBadResponse, resp.StatusCode)
	}
	if env.Error != nil {
		env.Error.HTTPStatus = resp.StatusCode
		return env.Error.Retryable(), env.Error
	}
	if resp.StatusCode != want {
		return resp.StatusCode >= 500, fmt.Errorf("%w: HTTP %d", ErrBadResponse, resp.StatusCode)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return false, fmt.Errorf("%w: %v", ErrBadResponse, err)
	}
	return false, nil
}
