package auth_test

import (
	"crypto/elliptic"
	"encoding/base64"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"

	"github.com/originhub/originhub/internal/auth"
)

// staticFixture is a Verifier over a static key set that holds every kind of
// key the tests need, including an oct key a naive verifier would use for HS256.
type staticFixture struct {
	v       *auth.Verifier
	es256   jwk.Key // alg pinned to ES256
	rsa     jwk.Key // no alg: serves RS* and PS*
	rsaRS   jwk.Key // alg pinned to RS256
	ed      jwk.Key
	encKey  jwk.Key // use=enc
	octKid  string
	octRaw  []byte
	rsaPubN []byte // the RSA public key's modulus, a known-to-attacker HMAC secret
}

func newStaticFixture(t *testing.T) *staticFixture {
	t.Helper()
	f := &staticFixture{
		es256:  newEC(t, elliptic.P256(), "es", "ES256"),
		rsa:    newRSA(t, "rsa", ""),
		rsaRS:  newRSA(t, "rsa-rs256", "RS256"),
		ed:     newEd25519(t, "ed"),
		encKey: newEC(t, elliptic.P256(), "enc", ""),
		octKid: "hmac",
		octRaw: []byte("a shared secret that must never verify anything"),
	}
	if err := f.encKey.Set(jwk.KeyUsageKey, jwk.ForEncryption); err != nil {
		t.Fatal(err)
	}
	set := publicSet(t, f.es256, f.rsa, f.rsaRS, f.ed, f.encKey)
	oct, err := jwk.Import(f.octRaw)
	if err != nil {
		t.Fatal(err)
	}
	if err := oct.Set(jwk.KeyIDKey, f.octKid); err != nil {
		t.Fatal(err)
	}
	if err := set.AddKey(oct); err != nil {
		t.Fatal(err)
	}
	var n []byte
	if err := f.rsa.Get("n", &n); err != nil {
		t.Fatal(err)
	}
	f.rsaPubN = n
	f.v, err = auth.NewVerifier(t.Context(), auth.VerifierConfig{
		KeySet:   set,
		Issuer:   testIssuer,
		Audience: testAudience,
		Clock:    func() time.Time { return t0 },
	})
	if err != nil {
		t.Fatalf("NewVerifier() error = %v", err)
	}
	return f
}

func TestVerifyAccepts(t *testing.T) {
	t.Parallel()
	f := newStaticFixture(t)
	tests := []struct {
		name       string
		token      string
		wantScopes []string
	}{
		{"ES256", sign(t, jwa.ES256(), f.es256, goodClaims()), []string{"ggo:read", "ggo:transfer"}},
		{"RS256", sign(t, jwa.RS256(), f.rsa, goodClaims()), []string{"ggo:read", "ggo:transfer"}},
		{"RS256 pinned key", sign(t, jwa.RS256(), f.rsaRS, goodClaims()), []string{"ggo:read", "ggo:transfer"}},
		{"PS256", sign(t, jwa.PS256(), f.rsa, goodClaims()), []string{"ggo:read", "ggo:transfer"}},
		{"RS512", sign(t, jwa.RS512(), f.rsa, goodClaims()), []string{"ggo:read", "ggo:transfer"}},
		{"EdDSA", sign(t, jwa.EdDSA(), f.ed, goodClaims()), []string{"ggo:read", "ggo:transfer"}},
		{"scp list", sign(t, jwa.ES256(), f.es256, with(map[string]any{"scope": nil, "scp": []string{"a", "b"}})), []string{"a", "b"}},
		{"no scopes", sign(t, jwa.ES256(), f.es256, with(map[string]any{"scope": nil})), nil},
		{"aud as string", sign(t, jwa.ES256(), f.es256, with(map[string]any{"aud": testAudience})), []string{"ggo:read", "ggo:transfer"}},
		{"aud among others", sign(t, jwa.ES256(), f.es256, with(map[string]any{"aud": []string{"other", testAudience}})), []string{"ggo:read", "ggo:transfer"}},
		{"expired within skew", sign(t, jwa.ES256(), f.es256, with(map[string]any{"exp": t0.Add(-20 * time.Second).Unix()})), []string{"ggo:read", "ggo:transfer"}},
		{"nbf within skew", sign(t, jwa.ES256(), f.es256, with(map[string]any{"nbf": t0.Add(20 * time.Second).Unix()})), []string{"ggo:read", "ggo:transfer"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := f.v.Verify(t.Context(), tc.token)
			if err != nil {
				t.Fatalf("Verify() error = %v, want nil", err)
			}
			if got.Subject != "alice" || got.Issuer != testIssuer || !slices.Contains(got.Audience, testAudience) {
				t.Errorf("Verify() = %+v, want sub alice, iss %q, aud containing %q", got, testIssuer, testAudience)
			}
			if !slices.Equal(got.Scopes, tc.wantScopes) {
				t.Errorf("Verify().Scopes = %q, want %q", got.Scopes, tc.wantScopes)
			}
			if got.Expires.Location() != time.UTC || got.Expires.IsZero() {
				t.Errorf("Verify().Expires = %v, want a UTC time", got.Expires)
			}
		})
	}
}

func TestVerifyRejects(t *testing.T) {
	t.Parallel()
	f := newStaticFixture(t)
	good := sign(t, jwa.ES256(), f.es256, goodClaims())
	parts := strings.Split(good, ".")

	// A key with the same kid as the trusted one, but not trusted.
	impostor := newEC(t, elliptic.P256(), "es", "ES256")
	// A P-384 key presenting the ES256 key's kid, signing ES384.
	p384 := newEC(t, elliptic.P384(), "es", "")
	// An EC key presenting the (alg-less) RSA key's kid.
	ecAsRSA := newEC(t, elliptic.P256(), "rsa", "")
	// The RSA key signing PS256 under the kid of the RS256-pinned key.
	rsaAsPinned := f.rsa
	if k, err := f.rsa.Clone(); err == nil {
		_ = k.Set(jwk.KeyIDKey, "rsa-rs256")
		rsaAsPinned = k
	}
	unknownKid := newEC(t, elliptic.P256(), "nobody", "ES256")
	encSigner := newEC(t, elliptic.P256(), "enc", "")

	signedGarbage, err := jws.Sign([]byte("not json"), jws.WithKey(jwa.ES256(), f.es256))
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		token   string
		wantErr error
	}{
		{"missing", "", auth.ErrMissingToken},
		{"one part", "abc", auth.ErrMalformedToken},
		{"two parts", "abc.def", auth.ErrMalformedToken},
		{"JWE-like five parts", "a.b.c.d.e", auth.ErrMalformedToken},
		{"header not base64", "!!!." + parts[1] + "." + parts[2], auth.ErrMalformedToken},
		{"header not JSON", base64.RawURLEncoding.EncodeToString([]byte("nope")) + "." + parts[1] + "." + parts[2], auth.ErrMalformedToken},
		{"header without alg", b64json(t, map[string]any{"kid": "es"}) + "." + parts[1] + "." + parts[2], auth.ErrMalformedToken},
		{"header without kid", b64json(t, map[string]any{"alg": "ES256"}) + "." + parts[1] + "." + parts[2], auth.ErrMalformedToken},
		{"payload not JSON", string(signedGarbage), auth.ErrMalformedToken},
		{"no exp", sign(t, jwa.ES256(), f.es256, with(map[string]any{"exp": nil})), auth.ErrMalformedToken},
		{"oversized", strings.Repeat("a", 20000), auth.ErrMalformedToken},
		{"expired", sign(t, jwa.ES256(), f.es256, with(map[string]any{"exp": t0.Add(-time.Minute).Unix()})), auth.ErrExpired},
		{"not yet valid", sign(t, jwa.ES256(), f.es256, with(map[string]any{"nbf": t0.Add(time.Minute).Unix()})), auth.ErrNotYetValid},
		{"issued in the future", sign(t, jwa.ES256(), f.es256, with(map[string]any{"iat": t0.Add(time.Hour).Unix(), "nbf": nil})), auth.ErrNotYetValid},
		{"wrong issuer", sign(t, jwa.ES256(), f.es256, with(map[string]any{"iss": "https://evil.example/"})), auth.ErrWrongIssuer},
		{"no issuer", sign(t, jwa.ES256(), f.es256, with(map[string]any{"iss": nil})), auth.ErrWrongIssuer},
		{"wrong audience", sign(t, jwa.ES256(), f.es256, with(map[string]any{"aud": []string{"someone-else"}})), auth.ErrWrongAudience},
		{"no audience", sign(t, jwa.ES256(), f.es256, with(map[string]any{"aud": nil})), auth.ErrWrongAudience},
		{"no subject", sign(t, jwa.ES256(), f.es256, with(map[string]any{"sub": nil})), auth.ErrNoSubject},
		{"blank subject", sign(t, jwa.ES256(), f.es256, with(map[string]any{"sub": "  "})), auth.ErrNoSubject},
		{"bad scp", sign(t, jwa.ES256(), f.es256, with(map[string]any{"scope": nil, "scp": 7})), auth.ErrMalformedToken},
		{"signed by impostor key", sign(t, jwa.ES256(), impostor, goodClaims()), auth.ErrInvalidSignature},
		{"tampered payload", parts[0] + "." + b64json(t, with(map[string]any{"sub": "mallory"})) + "." + parts[2], auth.ErrInvalidSignature},
		{"signature stripped", parts[0] + "." + parts[1] + ".", auth.ErrInvalidSignature},
		{"unknown kid", sign(t, jwa.ES256(), unknownKid, goodClaims()), auth.ErrInvalidSignature},
		{"encryption key", sign(t, jwa.ES256(), encSigner, goodClaims()), auth.ErrInvalidSignature},
		{"alg none", craftNone(t, "es", goodClaims()), auth.ErrAlgorithmNotAllowed},
		{"alg None mixed case", b64json(t, map[string]any{"alg": "None", "kid": "es"}) + "." + parts[1] + ".", auth.ErrAlgorithmNotAllowed},
		{"HS256 with the JWKS oct key", craftHS256(t, f.octKid, f.octRaw, goodClaims()), auth.ErrAlgorithmNotAllowed},
		{"HS256 with the RSA public key as secret", craftHS256(t, "rsa", f.rsaPubN, goodClaims()), auth.ErrAlgorithmNotAllowed},
		{"unknown alg", b64json(t, map[string]any{"alg": "XX999", "kid": "es"}) + "." + parts[1] + "." + parts[2], auth.ErrAlgorithmNotAllowed},
		{"ES256K not allowed", b64json(t, map[string]any{"alg": "ES256K", "kid": "es"}) + "." + parts[1] + "." + parts[2], auth.ErrAlgorithmNotAllowed},
		{"alg differs from the key's alg", sign(t, jwa.ES384(), p384, goodClaims()), auth.ErrAlgorithmNotAllowed},
		{"PS256 on an RS256-pinned key", sign(t, jwa.PS256(), rsaAsPinned, goodClaims()), auth.ErrAlgorithmNotAllowed},
		{"ES256 on an RSA key", sign(t, jwa.ES256(), ecAsRSA, goodClaims()), auth.ErrAlgorithmNotAllowed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := f.v.Verify(t.Context(), tc.token)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Verify() = %+v, %v; want error %v", got, err, tc.wantErr)
			}
			t.Logf("Verify() error = %v", err)
			if m := matchedSentinels(err); len(m) != 1 {
				t.Errorf("Verify() error %v matches %d sentinels %v, want exactly 1", err, len(m), m)
			}
			if !auth.Unauthenticated(err) {
				t.Errorf("Unauthenticated(%v) = false, want true", err)
			}
			if len(tc.token) > 16 && strings.Contains(err.Error(), tc.token) {
				t.Errorf("Verify() error contains the token: %v", err)
			}
			if got.Subject != "" {
				t.Errorf("Verify() subject = %q on error, want empty", got.Subject)
			}
		})
	}
}

func TestVerifyHeader(t *testing.T) {
	t.Parallel()
	f := newStaticFixture(t)
	good := sign(t, jwa.ES256(), f.es256, goodClaims())
	tests := []struct {
		name    string
		header  string
		want    auth.Subject
		wantErr error
	}{
		{"bearer", "Bearer " + good, auth.Subject{ID: "alice", Scopes: []string{"ggo:read", "ggo:transfer"}}, nil},
		{"lowercase scheme", "bearer " + good, auth.Subject{ID: "alice", Scopes: []string{"ggo:read", "ggo:transfer"}}, nil},
		{"empty", "", auth.Subject{}, auth.ErrMissingToken},
		{"basic", "Basic dXNlcjpwYXNz", auth.Subject{}, auth.ErrMalformedToken},
		{"token without scheme", good, auth.Subject{}, auth.ErrMalformedToken},
		{"expired", "Bearer " + sign(t, jwa.ES256(), f.es256, with(map[string]any{"exp": t0.Add(-time.Hour).Unix()})), auth.Subject{}, auth.ErrExpired},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := f.v.VerifyHeader(t.Context(), tc.header)
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
				t.Fatalf("VerifyHeader() error = %v, want %v", err, tc.wantErr)
			}
			if got.ID != tc.want.ID || !slices.Equal(got.Scopes, tc.want.Scopes) {
				t.Errorf("VerifyHeader() = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestNewVerifierConfigErrors(t *testing.T) {
	t.Parallel()
	set := publicSet(t, newEC(t, elliptic.P256(), "es", "ES256"))
	tests := []struct {
		name string
		cfg  auth.VerifierConfig
	}{
		{"no keys", auth.VerifierConfig{Issuer: testIssuer, Audience: testAudience}},
		{"both sources", auth.VerifierConfig{JWKSURL: "http://127.0.0.1:1/jwks", KeySet: set, Issuer: testIssuer, Audience: testAudience}},
		{"empty set", auth.VerifierConfig{KeySet: jwk.NewSet(), Issuer: testIssuer, Audience: testAudience}},
		{"no issuer", auth.VerifierConfig{KeySet: set, Audience: testAudience}},
		{"no audience", auth.VerifierConfig{KeySet: set, Issuer: testIssuer}},
		{"negative skew", auth.VerifierConfig{KeySet: set, Issuer: testIssuer, Audience: testAudience, ClockSkew: -time.Second}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if v, err := auth.NewVerifier(t.Context(), tc.cfg); err == nil {
				t.Errorf("NewVerifier() = %v, nil; want an error", v)
			}
		})
	}
}
