package standin_test

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"

	"github.com/originhub/originhub/internal/ledger"
	"github.com/originhub/originhub/internal/ledger/standin"
	"github.com/originhub/originhub/internal/ledger/standin/standintest"
	"github.com/originhub/originhub/internal/ledger/vectors"
)

// env is a stand-in with the vector seed's keys, able to mint fresh GGOs.
type env struct {
	t      *testing.T
	l      *standin.Ledger
	c      client
	m, mp0 *ledger.Key
	hour   int
}

func newEnv(t *testing.T, mode standin.Mode) *env {
	l, srv := standintest.Server(t, standin.Options{Mode: mode})
	m, err := ledger.NewMasterKey(bytes.Repeat([]byte{1}, 32))
	if err != nil {
		t.Fatal(err)
	}
	mp0, _ := m.MeteringPointKey(0)
	return &env{t: t, l: l, c: client{t, srv.URL + standintest.Prefix}, m: m, mp0: mp0}
}

func (e *env) key(path string) *ledger.Key {
	k, err := e.m.DerivePath(path)
	if err != nil {
		e.t.Fatal(err)
	}
	return k
}

func (e *env) must(tx ledger.Tx, err error) ledger.Tx {
	e.t.Helper()
	if err != nil {
		e.t.Fatal(err)
	}
	return tx
}

func (e *env) batch(batcher *ledger.Key, txs ...ledger.Tx) ledger.Batch {
	e.t.Helper()
	b, err := ledger.NewBatch(batcher, txs...)
	if err != nil {
		e.t.Fatal(err)
	}
	return b
}

// submitAndCommit posts b, runs a commit round and returns its status.
func (e *env) submitAndCommit(b ledger.Batch) (status, txID, msg string) {
	e.t.Helper()
	if code, body := e.c.submit(b.Bytes); code != 202 {
		e.t.Fatalf("POST = %d %s", code, body)
	}
	commit(e.t, e.l)
	return e.c.status(b.ID)
}

// freshGGO publishes and issues a 100 Wh production hour and returns the
// hour's key, which owns the GGO.
func (e *env) freshGGO() *ledger.Key {
	e.t.Helper()
	e.hour++
	begin := time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(e.hour) * time.Hour)
	mk, err := e.mp0.MeasurementKey(begin)
	if err != nil {
		e.t.Fatal(err)
	}
	pub := e.must(ledger.PublishMeasurement(e.mp0, ledger.Measurement{Address: mk.Address(ledger.PrefixMeasurement), Begin: begin, Sector: "DK1", Type: ledger.Production, Amount: 100}))
	iss := e.must(ledger.IssueGGO(e.mp0, ledger.Issue{MeasurementAddress: mk.Address(ledger.PrefixMeasurement), GGOAddress: mk.Address(ledger.PrefixGGO), TechType: "T020001", FuelType: "F01050100"}))
	if s, _, msg := e.submitAndCommit(e.batch(e.mp0, pub, iss)); s != "COMMITTED" {
		e.t.Fatalf("fresh GGO: %s %s", s, msg)
	}
	return mk
}

func rawTransfer(e *env, signer *ledger.Key, origin, dest string) ledger.Tx {
	return e.must(ledger.NewTx(signer, ledger.TransferGGORequest{Origin: origin, Destination: dest}, []string{origin, dest}, []string{origin, dest}))
}

// highS replaces the batch signature s by n - s: still valid ECDSA, but
// libsecp256k1 (and so the validator) refuses it.
func highS(t *testing.T, b ledger.Batch) []byte {
	list, err := ledger.UnmarshalBatchList(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := hex.DecodeString(list[0].HeaderSignature)
	if err != nil {
		t.Fatal(err)
	}
	var s secp256k1.ModNScalar
	s.SetByteSlice(sig[32:])
	s.Negate()
	sb := s.Bytes()
	copy(sig[32:], sb[:])
	list[0].HeaderSignature = hex.EncodeToString(sig)
	return ledger.MarshalBatchList(list[0].Marshal())
}

type outcome struct {
	status string
	msg    string // exact, or a prefix when it ends in "…"
}

func (o outcome) match(status, msg string) bool {
	if status != o.status {
		return false
	}
	if p, ok := strings.CutSuffix(o.msg, "…"); ok {
		return strings.HasPrefix(msg, p)
	}
	return msg == o.msg
}

func TestRejections(t *testing.T) {
	v := vectors.Load(t)
	submitted := v.REST["submitted_batches_invalid_400"]
	type tcase struct {
		name           string
		run            func(e *env) (status, msg string)
		strict, compat outcome
	}
	cases := []tcase{
		{
			name: "tampered transaction signature",
			run: func(e *env) (string, string) {
				g := e.freshGGO()
				b := e.batch(e.m, e.must(ledger.TransferGGO(g, g.Address(ledger.PrefixGGO), e.key("m/0/10").Address(ledger.PrefixGGO))))
				body := []byte(strings.Replace(string(b.Bytes), b.Transactions[0].ID[:8], "00000000", 1))
				code, resp := e.c.submit(body)
				if code != submitted.Status || resp != submitted.Body {
					t.Errorf("POST tampered = %d %s", code, resp)
				}
				s, _, _ := e.c.status(b.ID)
				return s, ""
			},
			strict: outcome{"UNKNOWN", ""}, compat: outcome{"UNKNOWN", ""},
		},
		{
			name: "high-S batch signature",
			run: func(e *env) (string, string) {
				g := e.freshGGO()
				b := e.batch(e.m, e.must(ledger.TransferGGO(g, g.Address(ledger.PrefixGGO), e.key("m/0/11").Address(ledger.PrefixGGO))))
				code, resp := e.c.submit(highS(t, b))
				if code != submitted.Status || resp != submitted.Body {
					t.Errorf("POST high-S = %d %s", code, resp)
				}
				s, _, _ := e.c.status(b.ID)
				return s, ""
			},
			strict: outcome{"UNKNOWN", ""}, compat: outcome{"UNKNOWN", ""},
		},
		{
			name: "unknown family",
			run: func(e *env) (string, string) {
				g := e.freshGGO()
				tx := e.must(ledger.TransferGGO(g, g.Address(ledger.PrefixGGO), e.key("m/0/12").Address(ledger.PrefixGGO)))
				tx.Family = "GGORequest"
				s, _, msg := e.submitAndCommit(e.batch(e.m, tx))
				return s, msg
			},
			strict: outcome{"INVALID", "stand-in: no transaction processor for GGORequest 0.1"},
			compat: outcome{"PENDING", ""},
		},
		{
			name: "payload of another family",
			run: func(e *env) (string, string) {
				g := e.freshGGO()
				tx := e.must(ledger.TransferGGO(g, g.Address(ledger.PrefixGGO), e.key("m/0/13").Address(ledger.PrefixGGO)))
				tx.Family = ledger.FamilyRetireGGO
				s, _, msg := e.submitAndCommit(e.batch(e.m, tx))
				return s, msg
			},
			strict: outcome{"INVALID", "{'settlement_address': ['Missing data for required field.'], 'destination': ['Unknown field.']}"},
			compat: outcome{"INVALID", "{'settlement_address': ['Missing data for required field.'], 'destination': ['Unknown field.']}"},
		},
		{
			name: "signer does not own the GGO",
			run: func(e *env) (string, string) {
				g := e.freshGGO()
				s, _, msg := e.submitAndCommit(e.batch(e.m, rawTransfer(e, e.key("m/0/14"), g.Address(ledger.PrefixGGO), e.key("m/0/15").Address(ledger.PrefixGGO))))
				return s, msg
			},
			strict: outcome{"INVALID", "Invalid key for GGO"}, compat: outcome{"INVALID", "Invalid key for GGO"},
		},
		{
			name: "destination in the measurement namespace",
			run: func(e *env) (string, string) {
				g := e.freshGGO()
				s, _, msg := e.submitAndCommit(e.batch(e.m, rawTransfer(e, g, g.Address(ledger.PrefixGGO), e.key("m/5/5").Address(ledger.PrefixMeasurement))))
				return s, msg
			},
			strict: outcome{"INVALID", "stand-in: destination 5a9839…"}, compat: outcome{"COMMITTED", ""},
		},
		{
			name: "double spend in one round",
			run: func(e *env) (string, string) {
				g := e.freshGGO()
				first := e.batch(e.m, e.must(ledger.TransferGGO(g, g.Address(ledger.PrefixGGO), e.key("m/0/16").Address(ledger.PrefixGGO))))
				second := e.batch(e.m, e.must(ledger.TransferGGO(g, g.Address(ledger.PrefixGGO), e.key("m/0/17").Address(ledger.PrefixGGO))))
				e.c.submit(first.Bytes)
				e.c.submit(second.Bytes)
				if n := commit(t, e.l); n != 2 {
					t.Errorf("CommitDue() = %d, want 2", n)
				}
				if s, _, _ := e.c.status(first.ID); s != "COMMITTED" {
					t.Errorf("first spend = %s", s)
				}
				s, _, msg := e.c.status(second.ID)
				return s, msg
			},
			strict: outcome{"INVALID", "GGO already has been used"}, compat: outcome{"INVALID", "GGO already has been used"},
		},
		{
			name: "over-split",
			run: func(e *env) (string, string) {
				g := e.freshGGO()
				parts := []ledger.SplitPart{{Address: e.key("m/0/18").Address(ledger.PrefixGGO), Amount: 60}, {Address: e.key("m/0/19").Address(ledger.PrefixGGO), Amount: 50}}
				s, _, msg := e.submitAndCommit(e.batch(e.m, e.must(ledger.SplitGGO(g, g.Address(ledger.PrefixGGO), parts))))
				return s, msg
			},
			strict: outcome{"INVALID", "The sum of the parts does not equal the whole"},
			compat: outcome{"INVALID", "The sum of the parts does not equal the whole"},
		},
		{
			name: "negative split part",
			run: func(e *env) (string, string) {
				g := e.freshGGO()
				a, b := e.key("m/0/20").Address(ledger.PrefixGGO), e.key("m/0/21").Address(ledger.PrefixGGO)
				o := g.Address(ledger.PrefixGGO)
				req := ledger.SplitGGORequest{Origin: o, Parts: []ledger.SplitPart{{Address: a, Amount: 110}, {Address: b, Amount: -10}}}
				s, _, msg := e.submitAndCommit(e.batch(e.m, e.must(ledger.NewTx(g, req, []string{o, a, b}, []string{o, a, b}))))
				return s, msg
			},
			strict: outcome{"INVALID", "stand-in: part 1 amount -10 is not positive"}, compat: outcome{"COMMITTED", ""},
		},
		{
			name: "retire without its settlement",
			run: func(e *env) (string, string) {
				g := e.freshGGO()
				o := g.Address(ledger.PrefixGGO)
				req := ledger.RetireGGORequest{Origin: o, SettlementAddress: e.key("m/1/1/1577836800").Address(ledger.PrefixSettlement)}
				s, _, msg := e.submitAndCommit(e.batch(e.m, e.must(ledger.NewTx(g, req, []string{o}, []string{o}))))
				return s, msg
			},
			strict: outcome{"INVALID", "stand-in: retired GGO " + "…"}, compat: outcome{"COMMITTED", ""},
		},
		{
			name: "committed transaction in a new batch",
			run: func(e *env) (string, string) {
				g := e.freshGGO()
				tx := e.must(ledger.TransferGGO(g, g.Address(ledger.PrefixGGO), e.key("m/0/22").Address(ledger.PrefixGGO)))
				if s, _, msg := e.submitAndCommit(e.batch(e.m, tx)); s != "COMMITTED" {
					t.Fatalf("transfer = %s %s", s, msg)
				}
				other := e.freshGGO()
				tx2 := e.must(ledger.TransferGGO(other, other.Address(ledger.PrefixGGO), e.key("m/0/23").Address(ledger.PrefixGGO)))
				s, _, msg := e.submitAndCommit(e.batch(e.m, tx2, tx))
				return s, msg
			},
			strict: outcome{"INVALID", "stand-in: transaction …"}, compat: outcome{"PENDING", ""},
		},
		{
			name: "resubmitted batch is not executed again",
			run: func(e *env) (string, string) {
				g := e.freshGGO()
				b := e.batch(e.m, e.must(ledger.TransferGGO(g, g.Address(ledger.PrefixGGO), e.key("m/0/24").Address(ledger.PrefixGGO))))
				if s, _, _ := e.submitAndCommit(b); s != "COMMITTED" {
					t.Fatalf("first = %s", s)
				}
				if code, _ := e.c.submit(b.Bytes); code != 202 {
					t.Errorf("re-POST = %d", code)
				}
				if n := commit(t, e.l); n != 0 {
					t.Errorf("CommitDue() after re-POST = %d, want 0", n)
				}
				s, _, msg := e.c.status(b.ID)
				return s, msg
			},
			strict: outcome{"COMMITTED", ""}, compat: outcome{"COMMITTED", ""},
		},
	}
	for _, mode := range []standin.Mode{standin.Strict, standin.Compatible} {
		t.Run(mode.String(), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, mode)
			for _, tc := range cases {
				want := tc.strict
				if mode == standin.Compatible {
					want = tc.compat
				}
				status, msg := tc.run(e)
				if !want.match(status, msg) {
					t.Errorf("%s: got %s %q, want %s %q", tc.name, status, msg, want.status, want.msg)
				}
			}
		})
	}
}

// TestRunCommitsAfterDelay runs the committer goroutine with a real delay
// and checks it commits, then stops cleanly on cancel.
func TestRunCommitsAfterDelay(t *testing.T) {
	l, srv := standintest.Server(t, standin.Options{CommitDelay: 50 * time.Millisecond, PollInterval: 20 * time.Millisecond})
	c := client{t, srv.URL + standintest.Prefix}
	v := vectors.Load(t)
	ctx, cancel := contextWithCancel(t)
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	if code, body := c.submit(v.Valid[0].Body()); code != 202 {
		t.Fatalf("POST = %d %s", code, body)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		s, _, _ := c.status(v.Valid[0].ID)
		if s == "COMMITTED" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("status still %s after 10 s", s)
		}
		time.Sleep(10 * time.Millisecond) // polling a condition, not waiting blind
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run() = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}
