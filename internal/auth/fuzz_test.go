package auth_test

import (
	"crypto/elliptic"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"

	"github.com/originhub/originhub/internal/auth"
)

// FuzzBearerToken checks that any header value yields either a token with
// no whitespace or one of the two sentinel errors, never a panic.
func FuzzBearerToken(f *testing.F) {
	for _, s := range []string{"", "Bearer a.b.c", "bearer  x ", "Basic abc", "Bearer a b", "Bearer\t\tx"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		tok, err := auth.BearerToken(header)
		if err != nil {
			if m := matchedSentinels(err); len(m) != 1 {
				t.Fatalf("BearerToken(%q) error %v matches %v, want exactly one sentinel", header, err, m)
			}
			return
		}
		if tok == "" || strings.ContainsAny(tok, " \t\r\n") {
			t.Fatalf("BearerToken(%q) = %q, want a non-empty token without whitespace", header, tok)
		}
	})
}

// FuzzVerify feeds arbitrary strings (seeded with real, crafted and broken
// tokens) to a Verifier: it must never panic, and every rejection must be a
// caller error matching exactly one sentinel.
func FuzzVerify(f *testing.F) {
	key := newEC(f, elliptic.P256(), "es", "ES256")
	v, err := auth.NewVerifier(f.Context(), auth.VerifierConfig{
		KeySet: publicSet(f, key), Issuer: testIssuer, Audience: testAudience,
		Clock: func() time.Time { return t0 },
	})
	if err != nil {
		f.Fatal(err)
	}
	good := sign(f, jwa.ES256(), key, goodClaims())
	for _, s := range []string{
		good, "", "a.b.c", "..", good + "x", craftNone(f, "es", goodClaims()),
		craftHS256(f, "es", []byte("k"), goodClaims()),
		strings.Replace(good, ".", "..", 1),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		c, err := v.Verify(t.Context(), raw)
		if err == nil {
			if c.Subject == "" {
				t.Fatalf("Verify(%q) accepted a token without subject", raw)
			}
			return
		}
		if m := matchedSentinels(err); len(m) != 1 || !auth.Unauthenticated(err) {
			t.Fatalf("Verify(%q) error %v matches %v, want exactly one caller-error sentinel", raw, err, m)
		}
	})
}
