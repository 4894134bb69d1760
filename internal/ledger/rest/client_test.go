package rest_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/originhub/originhub/internal/ledger"
	"github.com/originhub/originhub/internal/ledger/rest"
	"github.com/originhub/originhub/internal/ledger/standin"
	"github.com/originhub/originhub/internal/ledger/standin/standintest"
	"github.com/originhub/originhub/internal/ledger/vectors"
)

func batchOf(bv vectors.Batch) ledger.Batch {
	return ledger.Batch{ID: bv.ID, Bytes: bv.Body()}
}

// faults wraps the stand-in: it records every POST body and fails the
// first requests as told.
type faults struct {
	next   http.Handler
	mu     sync.Mutex
	script []string // per request: "", "503", "429", "hang", "drop", "html"
	bodies [][]byte
}

func (f *faults) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	f.mu.Lock()
	if r.Method == http.MethodPost {
		f.bodies = append(f.bodies, body)
	}
	step := ""
	if len(f.script) > 0 {
		step, f.script = f.script[0], f.script[1:]
	}
	f.mu.Unlock()
	switch step {
	case "503":
		w.WriteHeader(503)
		_, _ = io.WriteString(w, `{"error": {"code": 15, "message": "The validator has no genesis block, and is not yet ready to be queried. Try your request again later.", "title": "Validator Not Ready"}}`)
	case "429":
		w.WriteHeader(429)
		_, _ = io.WriteString(w, `{"error": {"code": 31, "message": "The validator cannot currently accept more batches, due to a full queue.  Please submit your request again.", "title": "Unable to Accept Batches"}}`)
	case "hang":
		// Forward the request (the batch is accepted), then never answer:
		// the client times out and must resend the same bytes.
		f.next.ServeHTTP(httptest.NewRecorder(), r)
		<-r.Context().Done()
	case "drop":
		hj, _ := w.(http.Hijacker)
		conn, _, err := hj.Hijack()
		if err == nil {
			conn.Close()
		}
	case "html":
		w.WriteHeader(502)
		_, _ = io.WriteString(w, "<html>bad gateway</html>")
	default:
		f.next.ServeHTTP(w, r)
	}
}

func setup(t *testing.T, script ...string) (*standin.Ledger, *faults, *rest.Client) {
	l := standintest.Ledger(t, standin.Options{})
	f := &faults{next: http.StripPrefix(standintest.Prefix, l.Handler()), script: script}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	c := rest.New(srv.URL+standintest.Prefix, srv.Client()).WithRetry(rest.RetryPolicy{
		Attempts: 4, Initial: time.Millisecond, Max: 5 * time.Millisecond, AttemptTimeout: 500 * time.Millisecond,
	})
	return l, f, c
}

func status(t *testing.T, c *rest.Client, id string) rest.BatchStatus {
	t.Helper()
	ss, err := c.Statuses(t.Context(), id)
	if err != nil || len(ss) != 1 || ss[0].ID != id {
		t.Fatalf("Statuses() = %v, %v", ss, err)
	}
	return ss[0]
}

func TestScenarioThroughClient(t *testing.T) {
	v := vectors.Load(t)
	l, _, c := setup(t)
	ctx := t.Context()
	for i, bv := range v.Valid {
		if err := c.Submit(ctx, batchOf(bv)); err != nil {
			t.Fatalf("Submit(%s) = %v", bv.Name, err)
		}
		if s := status(t, c, bv.ID); s.Status != rest.Pending {
			t.Fatalf("%s = %s", bv.Name, s.Status)
		}
		if _, err := l.CommitDue(ctx); err != nil {
			t.Fatal(err)
		}
		if s := status(t, c, bv.ID); s.Status != rest.Committed {
			t.Fatalf("%s = %s %s", bv.Name, s.Status, s.Message())
		}
		for addr, want := range v.States[i].State {
			got, err := c.State(ctx, addr)
			if err != nil || string(got) != want.JSON {
				t.Errorf("State(%s) = %s, %v; want %s", addr, got, err, want.JSON)
			}
		}
	}
	x := v.Invalid[0]
	if err := c.Submit(ctx, batchOf(x)); err != nil {
		t.Fatal(err)
	}
	if _, err := l.CommitDue(ctx); err != nil {
		t.Fatal(err)
	}
	ss, err := c.Statuses(ctx, x.ID, v.Valid[0].ID, strings.Repeat("ab", 64))
	if err != nil {
		t.Fatal(err)
	}
	want := []rest.Status{rest.Invalid, rest.Committed, rest.Unknown}
	for i, s := range ss {
		if s.Status != want[i] {
			t.Errorf("status %d = %s, want %s", i, s.Status, want[i])
		}
	}
	if ss[0].Message() != "GGO already issued!" {
		t.Errorf("message = %q", ss[0].Message())
	}
	_, err = c.State(ctx, strings.Repeat("0", 70))
	if !errors.Is(err, rest.ErrStateNotFound) {
		t.Errorf("State(empty) = %v, want ErrStateNotFound", err)
	}
	var re *rest.Error
	if _, err := c.State(ctx, "abc"); !errors.As(err, &re) || re.Code != rest.CodeInvalidStateAddress {
		t.Errorf("State(bad) = %v, want code 62", err)
	}
}

func TestSubmitRetries(t *testing.T) {
	valid := vectors.Load(t).Valid
	tests := []struct {
		name     string
		script   []string
		wantErr  bool
		attempts int
	}{
		{"validator not ready then ok", []string{"503", "503"}, false, 3},
		{"queue full then ok", []string{"429"}, false, 2},
		{"connection dropped then ok", []string{"drop"}, false, 2},
		{"proxy html then ok", []string{"html"}, false, 2},
		{"timeout after acceptance then ok", []string{"hang"}, false, 2},
		{"gives up", []string{"503", "503", "503", "503", "503"}, true, 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l, f, c := setup(t, tc.script...)
			b := batchOf(valid[0])
			err := c.Submit(t.Context(), b)
			if (err != nil) != tc.wantErr {
				t.Fatalf("Submit() = %v, wantErr %v", err, tc.wantErr)
			}
			f.mu.Lock()
			bodies := f.bodies
			f.mu.Unlock()
			if len(bodies) != tc.attempts {
				t.Errorf("attempts = %d, want %d", len(bodies), tc.attempts)
			}
			for i, body := range bodies {
				if !bytes.Equal(body, b.Bytes) {
					t.Errorf("attempt %d sent different bytes", i)
				}
			}
			if tc.wantErr {
				return
			}
			n, err := l.CommitDue(t.Context())
			if err != nil || n != 1 {
				t.Errorf("CommitDue() = %d, %v; want exactly one batch", n, err)
			}
			if s := status(t, c, b.ID); s.Status != rest.Committed {
				t.Errorf("status = %s", s.Status)
			}
		})
	}
}

func TestSubmitRejectedIsNotRetried(t *testing.T) {
	valid := vectors.Load(t).Valid
	_, f, c := setup(t)
	b := batchOf(valid[0])
	b.Bytes = bytes.Clone(b.Bytes)
	b.Bytes[len(b.Bytes)-3] ^= 1 // payload no longer matches its hash
	err := c.Submit(t.Context(), b)
	if !errors.Is(err, rest.ErrBatchRejected) {
		t.Fatalf("Submit() = %v, want ErrBatchRejected", err)
	}
	if len(f.bodies) != 1 {
		t.Errorf("attempts = %d, want 1", len(f.bodies))
	}
}

func TestSubmitStopsOnCancel(t *testing.T) {
	valid := vectors.Load(t).Valid
	_, _, c := setup(t, "503", "503", "503", "503")
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := c.Submit(ctx, batchOf(valid[0])); !errors.Is(err, context.Canceled) {
		t.Errorf("Submit(cancelled) = %v", err)
	}
}
