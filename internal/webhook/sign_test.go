package webhook_test

import (
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/originhub/originhub/internal/webhook"
)

func TestVerify(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	body := []byte(`{"id":"e1","event":"GGO_RECEIVED","createdAt":"2026-11-23T12:00:00Z","data":{"amount":1000}}`)
	const secret = "a-receivers-own-secret"
	ts := now.Unix()
	sig := webhook.Sign(secret, ts, body)
	tests := []struct {
		name      string
		secret    string
		timestamp string
		body      []byte
		signature string
		wantErr   error
	}{
		{"valid", secret, strconv.FormatInt(ts, 10), body, sig, nil},
		{"valid a little old", secret, strconv.FormatInt(ts-240, 10), body, webhook.Sign(secret, ts-240, body), nil},
		{"tampered body", secret, strconv.FormatInt(ts, 10), []byte(`{"id":"e1","event":"GGO_RECEIVED","data":{"amount":9000}}`), sig, webhook.ErrBadSignature},
		{"wrong secret", "someone-elses-secret", strconv.FormatInt(ts, 10), body, sig, webhook.ErrBadSignature},
		{"timestamp swapped", secret, strconv.FormatInt(ts+1, 10), body, sig, webhook.ErrBadSignature},
		{"replayed later", secret, strconv.FormatInt(ts-3600, 10), body, webhook.Sign(secret, ts-3600, body), webhook.ErrStaleTimestamp},
		{"from the future", secret, strconv.FormatInt(ts+3600, 10), body, webhook.Sign(secret, ts+3600, body), webhook.ErrStaleTimestamp},
		{"timestamp not a number", secret, "soon", body, sig, webhook.ErrStaleTimestamp},
		{"no prefix", secret, strconv.FormatInt(ts, 10), body, sig[len("sha256="):], webhook.ErrBadSignature},
		{"empty signature", secret, strconv.FormatInt(ts, 10), body, "", webhook.ErrBadSignature},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := webhook.VerifyAt(tc.secret, tc.timestamp, tc.body, tc.signature, 5*time.Minute, now)
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
				t.Fatalf("VerifyAt() = %v, want %v", err, tc.wantErr)
			}
		})
	}
}

// TestSignFormat pins the signature to an independently computed value, so a change of
// the signing input (which every receiver depends on) cannot pass unnoticed.
func TestSignFormat(t *testing.T) {
	// printf '1700000000.{}' | openssl dgst -sha256 -hmac 'secret-of-sixteen'
	const want = "sha256=392db33d6f2a0f4fbeb9ccc6adda8cff2aa84622afe4c9353c909534d99d6f08"
	got := webhook.Sign("secret-of-sixteen", 1700000000, []byte("{}"))
	if got != want {
		t.Fatalf("Sign() = %s, want %s", got, want)
	}
}

func FuzzVerify(f *testing.F) {
	f.Add("1700000000", []byte("{}"), "sha256=00")
	f.Add("-1", []byte(""), "")
	f.Fuzz(func(t *testing.T, ts string, body []byte, sig string) {
		now := time.Unix(1700000000, 0)
		err := webhook.VerifyAt("fuzz-secret-value", ts, body, sig, time.Minute, now)
		if err == nil {
			// Only a correct signature over this exact input may pass.
			n, perr := strconv.ParseInt(ts, 10, 64)
			if perr != nil || webhook.Sign("fuzz-secret-value", n, body) != sig {
				t.Fatalf("VerifyAt accepted %q %q %q", ts, body, sig)
			}
		}
	})
}
