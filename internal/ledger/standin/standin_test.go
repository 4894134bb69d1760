package standin_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/originhub/originhub/internal/ledger/standin"
	"github.com/originhub/originhub/internal/ledger/standin/standintest"
	"github.com/originhub/originhub/internal/ledger/vectors"
)

// client is a tiny raw HTTP client: the stand-in tests look at exact bodies.
type client struct {
	t    *testing.T
	base string
}

func (c client) do(method, path, ctype string, body []byte) (int, string) {
	c.t.Helper()
	req, err := http.NewRequestWithContext(c.t.Context(), method, c.base+path, bytes.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (c client) submit(body []byte) (int, string) {
	return c.do("POST", "/batches", "application/octet-stream", body)
}

type statusBody struct {
	Data []struct {
		ID                  string `json:"id"`
		Status              string `json:"status"`
		InvalidTransactions []struct {
			ID      string `json:"id"`
			Message string `json:"message"`
		} `json:"invalid_transactions"`
	} `json:"data"`
	Link string `json:"link"`
}

func (c client) status(id string) (status, txID, msg string) {
	c.t.Helper()
	code, body := c.do("GET", "/batch_statuses?id="+id, "", nil)
	if code != 200 {
		c.t.Fatalf("GET batch_statuses = %d %s", code, body)
	}
	var s statusBody
	if err := json.Unmarshal([]byte(body), &s); err != nil || len(s.Data) != 1 {
		c.t.Fatalf("status body %s: %v", body, err)
	}
	d := s.Data[0]
	if len(d.InvalidTransactions) > 0 {
		return d.Status, d.InvalidTransactions[0].ID, d.InvalidTransactions[0].Message
	}
	return d.Status, "", ""
}

func (c client) state(addr string) (int, []byte) {
	c.t.Helper()
	code, body := c.do("GET", "/state/"+addr, "", nil)
	if code != 200 {
		return code, nil
	}
	var s struct {
		Data string `json:"data"`
	}
	if err := json.Unmarshal([]byte(body), &s); err != nil {
		c.t.Fatal(err)
	}
	b, err := base64.StdEncoding.DecodeString(s.Data)
	if err != nil {
		c.t.Fatal(err)
	}
	return code, b
}

func commit(t *testing.T, l *standin.Ledger) int {
	t.Helper()
	n, err := l.CommitDue(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestScenario replays the vector scenario in both modes: batches A-E
// commit and leave exactly the vector state; every invalid batch is INVALID
// with the vector message and leaves the state untouched (all or nothing).
func TestScenario(t *testing.T) {
	v := vectors.Load(t)
	for _, mode := range []standin.Mode{standin.Strict, standin.Compatible} {
		t.Run(mode.String(), func(t *testing.T) {
			t.Parallel()
			l, srv := standintest.Server(t, standin.Options{Mode: mode})
			c := client{t, srv.URL + standintest.Prefix}
			for i, bv := range v.Valid {
				code, body := c.submit(bv.Body())
				wantLink := srv.URL + standintest.Prefix + "/batch_statuses?id=" + bv.ID
				if code != 202 || !strings.Contains(body, `"link": "`+wantLink+`"`) {
					t.Fatalf("POST %s = %d %s", bv.Name, code, body)
				}
				if s, _, _ := c.status(bv.ID); s != "PENDING" {
					t.Fatalf("%s status before commit = %s", bv.Name, s)
				}
				if n := commit(t, l); n != 1 {
					t.Fatalf("CommitDue() = %d, want 1", n)
				}
				if s, _, msg := c.status(bv.ID); s != "COMMITTED" {
					t.Fatalf("%s status = %s %s", bv.Name, s, msg)
				}
				for addr, want := range v.States[i].State {
					if code, got := c.state(addr); code != 200 || string(got) != want.JSON {
						t.Errorf("after %s state %s = %d %s\nwant %s", bv.Name, addr, code, got, want.JSON)
					}
				}
			}
			final := v.States[len(v.States)-1].State
			for _, bv := range v.Invalid {
				iv := v.Outcomes[bv.ID]
				if code, body := c.submit(bv.Body()); code != 202 {
					t.Fatalf("POST %s = %d %s", bv.Name, code, body)
				}
				commit(t, l)
				s, txID, msg := c.status(bv.ID)
				if s != "INVALID" || txID != iv.TxID || msg != iv.Message {
					t.Errorf("%s: status = %s %s %q, want INVALID %s %q", bv.Name, s, txID, msg, iv.TxID, iv.Message)
				}
			}
			for addr, want := range final {
				if _, got := c.state(addr); string(got) != want.JSON {
					t.Errorf("state %s changed by an invalid batch: %s", addr, got)
				}
			}
		})
	}
}

// TestRESTBodies compares every answer with rest.json byte for byte, with
// the stand-in mounted at the root of localhost:8008 as there.
func TestRESTBodies(t *testing.T) {
	v := vectors.Load(t)
	l, _ := standintest.Server(t, standin.Options{})
	h := l.Handler()
	call := func(method, target, ctype string, body []byte) (int, string) {
		req := httptest.NewRequestWithContext(t.Context(), method, target, bytes.NewReader(body))
		req.Host = "localhost:8008"
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code, rec.Body.String()
	}
	octet := "application/octet-stream"
	a := v.Valid[0]
	x := v.Invalid[0] // X_issue_again, INVALID once A committed
	steps := []struct {
		name, method, target, ctype string
		body                        []byte
		before                      func()
		want                        string
	}{
		{"status unknown", "GET", "/batch_statuses?id=" + a.ID, "", nil, nil, "status_unknown_200"},
		{"post", "POST", "/batches", octet, a.Body(), nil, "post_batches_202"},
		{"status pending", "GET", "/batch_statuses?id=" + a.ID, "", nil, nil, "status_pending_200"},
		{"status committed", "GET", "/batch_statuses?id=" + a.ID, "", nil, func() { commit(t, l) }, "status_committed_200"},
		{"status invalid", "GET", "/batch_statuses?id=" + x.ID, "", nil, func() {
			call("POST", "/batches", octet, x.Body())
			commit(t, l)
		}, "status_invalid_200"},
		{"state not found", "GET", "/state/" + strings.Repeat("0", 70), "", nil, nil, "state_not_found_404"},
		{"bad address", "GET", "/state/5A9839", "", nil, nil, "invalid_state_address_400"},
		{"wrong content type", "POST", "/batches", "application/json", a.Body(), nil, "wrong_content_type_400"},
		{"no batches", "POST", "/batches", octet, nil, nil, "no_batches_400"},
		{"bad protobuf", "POST", "/batches", octet, []byte{0x0a, 0x80}, nil, "bad_protobuf_400"},
		{"bad id", "GET", "/batch_statuses?id=abc", "", nil, nil, "invalid_resource_id_400_example"},
		{"no id", "GET", "/batch_statuses", "", nil, nil, "status_id_query_invalid_400"},
	}
	for _, s := range steps {
		if s.before != nil {
			s.before()
		}
		code, body := call(s.method, s.target, s.ctype, s.body)
		want := v.REST[s.want]
		if code != want.Status || body != want.Body {
			t.Errorf("%s: %d %s\nwant %d %s", s.name, code, body, want.Status, want.Body)
		}
	}
	// The state answer matches the template apart from the head id.
	code, body := call("GET", "/state/5a9839833e64a198b958aeef9710a973e881861d974ea711fd8bf018c27149c9d36277", "", nil)
	var got struct{ Data, Head, Link string }
	if err := json.Unmarshal([]byte(body), &got); err != nil || code != 200 {
		t.Fatalf("state = %d %s", code, body)
	}
	want := strings.ReplaceAll(v.REST["state_200_template"].Body, "<128-hex id of the chain head block>", got.Head)
	if body != want || len(got.Head) != 128 {
		t.Errorf("state body = %s\nwant %s", body, want)
	}
}

func contextWithCancel(t *testing.T) (context.Context, context.CancelFunc) {
	return context.WithCancel(t.Context())
}

func TestQueueFull(t *testing.T) {
	v := vectors.Load(t)
	l, srv := standintest.Server(t, standin.Options{MaxPending: 1})
	c := client{t, srv.URL + standintest.Prefix}
	if code, body := c.submit(v.Valid[0].Body()); code != 202 {
		t.Fatalf("first POST = %d %s", code, body)
	}
	full := v.REST["queue_full_429"]
	if code, body := c.submit(v.Valid[1].Body()); code != full.Status || body != full.Body {
		t.Errorf("second POST = %d %s, want %d %s", code, body, full.Status, full.Body)
	}
	commit(t, l)
	if code, body := c.submit(v.Valid[1].Body()); code != 202 {
		t.Errorf("POST after commit = %d %s", code, body)
	}
}

// TestRestartKeepsStatuses: a new Ledger on the same database (after a
// second, idempotent Migrate) still reports the batches and state.
func TestRestartKeepsStatuses(t *testing.T) {
	v := vectors.Load(t)
	db := standintest.DB(t)
	first, err := standin.New(db, standin.Options{Schema: "sim_ledger"})
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	srv1 := httptest.NewServer(first.Handler())
	c1 := client{t, srv1.URL}
	c1.submit(v.Valid[0].Body())
	c1.submit(v.Valid[1].Body())
	commit(t, first)
	srv1.Close()

	second, err := standin.New(db, standin.Options{Schema: "sim_ledger"})
	if err != nil {
		t.Fatal(err)
	}
	if err := second.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	srv2 := httptest.NewServer(second.Handler())
	defer srv2.Close()
	c2 := client{t, srv2.URL}
	for _, bv := range v.Valid[:2] {
		if s, _, _ := c2.status(bv.ID); s != "COMMITTED" {
			t.Errorf("%s after restart = %s", bv.Name, s)
		}
	}
	for addr, want := range v.States[1].State {
		if _, got := c2.state(addr); string(got) != want.JSON {
			t.Errorf("state %s after restart = %s", addr, got)
		}
	}
}
