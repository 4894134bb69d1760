package auth_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jwt"

	"github.com/originhub/originhub/internal/auth"
)

// t0 is the fixed "now" of the tests.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

const (
	testIssuer   = "https://issuer.example/"
	testAudience = "originhub"
)

// sentinels lists every error a Verifier may return, to check that each
// failure matches exactly one.
var sentinels = []error{
	auth.ErrMissingToken, auth.ErrMalformedToken, auth.ErrInvalidSignature,
	auth.ErrExpired, auth.ErrNotYetValid, auth.ErrWrongIssuer, auth.ErrWrongAudience,
	auth.ErrAlgorithmNotAllowed, auth.ErrNoSubject, auth.ErrJWKSUnavailable,
}

// memKeyStore is an in-memory auth.KeyStore for tests; the real one lives
// in Postgres.
type memKeyStore struct {
	mu      sync.Mutex
	data    []byte
	creates int
}

func (m *memKeyStore) LoadOrCreate(_ context.Context, create func() ([]byte, error)) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.data != nil {
		return m.data, nil
	}
	b, err := create()
	if err != nil {
		return nil, err
	}
	m.creates++
	m.data = b
	return b, nil
}

// fixedClock returns a clock reading *now, so a test can move time.
func fixedClock(now *atomic.Pointer[time.Time]) func() time.Time {
	return func() time.Time { return *now.Load() }
}

func clockAt(t time.Time) *atomic.Pointer[time.Time] {
	var p atomic.Pointer[time.Time]
	p.Store(&t)
	return &p
}

// privJWK imports a raw private key as a JWK with the given kid and, if not
// empty, alg.
func privJWK(t testing.TB, raw any, kid, alg string) jwk.Key {
	t.Helper()
	k, err := jwk.Import(raw)
	if err != nil {
		t.Fatalf("jwk.Import() error = %v", err)
	}
	if err := k.Set(jwk.KeyIDKey, kid); err != nil {
		t.Fatal(err)
	}
	if alg != "" {
		a, ok := jwa.LookupSignatureAlgorithm(alg)
		if !ok {
			t.Fatalf("unknown alg %q", alg)
		}
		if err := k.Set(jwk.AlgorithmKey, a); err != nil {
			t.Fatal(err)
		}
	}
	return k
}

func newEC(t testing.TB, crv elliptic.Curve, kid, alg string) jwk.Key {
	t.Helper()
	ek, err := ecdsa.GenerateKey(crv, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return privJWK(t, ek, kid, alg)
}

func newRSA(t testing.TB, kid, alg string) jwk.Key {
	t.Helper()
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return privJWK(t, rk, kid, alg)
}

func newEd25519(t testing.TB, kid string) jwk.Key {
	t.Helper()
	_, pk, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return privJWK(t, pk, kid, "")
}

// publicSet returns the public halves of keys as a set.
func publicSet(t testing.TB, keys ...jwk.Key) jwk.Set {
	t.Helper()
	set := jwk.NewSet()
	for _, k := range keys {
		pub, err := k.PublicKey()
		if err != nil {
			t.Fatal(err)
		}
		if err := set.AddKey(pub); err != nil {
			t.Fatal(err)
		}
	}
	return set
}

// goodClaims are valid claims at t0; tests copy and change them.
func goodClaims() map[string]any {
	return map[string]any{
		"iss":   testIssuer,
		"aud":   []string{testAudience},
		"sub":   "alice",
		"iat":   t0.Add(-time.Minute).Unix(),
		"nbf":   t0.Add(-time.Minute).Unix(),
		"exp":   t0.Add(time.Hour).Unix(),
		"scope": "ggo:read ggo:transfer",
	}
}

// with returns a copy of goodClaims with changes applied; a nil value
// deletes the claim.
func with(changes map[string]any) map[string]any {
	c := goodClaims()
	for k, v := range changes {
		if v == nil {
			delete(c, k)
			continue
		}
		c[k] = v
	}
	return c
}

// sign signs claims with key using alg through jwx (the key's kid goes into
// the header).
func sign(t testing.TB, alg jwa.SignatureAlgorithm, key jwk.Key, claims map[string]any) string {
	t.Helper()
	tok := jwt.New()
	for k, v := range claims {
		if err := tok.Set(k, v); err != nil {
			t.Fatalf("set claim %s: %v", k, err)
		}
	}
	b, err := jwt.Sign(tok, jwt.WithKey(alg, key))
	if err != nil {
		t.Fatalf("jwt.Sign(%s) error = %v", alg, err)
	}
	return string(b)
}

func b64json(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// craftNone builds an unsigned "alg":"none" token by hand.
func craftNone(t testing.TB, kid string, claims map[string]any) string {
	t.Helper()
	return b64json(t, map[string]any{"alg": "none", "typ": "JWT", "kid": kid}) + "." + b64json(t, claims) + "."
}

// craftHS256 builds an HS256 token by hand with secret as the HMAC key.
func craftHS256(t testing.TB, kid string, secret []byte, claims map[string]any) string {
	t.Helper()
	input := b64json(t, map[string]any{"alg": "HS256", "typ": "JWT", "kid": kid}) + "." + b64json(t, claims)
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(input))
	return input + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// jwksServer serves a JWKS that a test can swap, fail or stall.
type jwksServer struct {
	*httptest.Server
	body   atomic.Pointer[[]byte]
	status atomic.Int32
	hits   atomic.Int32
	// hit receives a value per request (dropped when full), so a test can
	// wait for a fetch instead of sleeping.
	hit chan struct{}
}

func newJWKSServer(t testing.TB, set jwk.Set) *jwksServer {
	t.Helper()
	s := &jwksServer{hit: make(chan struct{}, 64)}
	s.setKeys(t, set)
	s.status.Store(http.StatusOK)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		select {
		case s.hit <- struct{}{}:
		default:
		}
		if code := int(s.status.Load()); code != http.StatusOK {
			http.Error(w, "unavailable", code)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(*s.body.Load())
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) setKeys(t testing.TB, set jwk.Set) {
	t.Helper()
	b, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	s.body.Store(&b)
}

// closeVerifier stops v's background goroutines when the test ends.
func closeVerifier(t testing.TB, v *auth.Verifier) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := v.Close(ctx); err != nil {
			t.Errorf("Close() error = %v", err)
		}
	})
}

// matchedSentinels returns the sentinels err matches.
func matchedSentinels(err error) []error {
	var out []error
	for _, s := range sentinels {
		if errors.Is(err, s) {
			out = append(out, s)
		}
	}
	return out
}
