package auth_test

import (
	"crypto/elliptic"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"

	"github.com/originhub/originhub/internal/auth"
)

// BenchmarkVerify measures one token verification per algorithm family, the
// cost every authenticated request pays.
func BenchmarkVerify(b *testing.B) {
	es := newEC(b, elliptic.P256(), "es", "ES256")
	rs := newRSA(b, "rs", "RS256")
	ed := newEd25519(b, "ed")
	v, err := auth.NewVerifier(b.Context(), auth.VerifierConfig{
		KeySet: publicSet(b, es, rs, ed), Issuer: testIssuer, Audience: testAudience,
		Clock: func() time.Time { return t0 },
	})
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		alg  jwa.SignatureAlgorithm
		key  jwk.Key
	}{
		{"ES256", jwa.ES256(), es},
		{"RS256", jwa.RS256(), rs},
		{"EdDSA", jwa.EdDSA(), ed},
	} {
		b.Run(bc.name, func(b *testing.B) {
			token := sign(b, bc.alg, bc.key, goodClaims())
			b.ReportAllocs()
			start := time.Now()
			for b.Loop() {
				if _, err := v.Verify(b.Context(), token); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "verifies/s")
		})
	}
}
