package auth_test

import (
	"context"
	"crypto/elliptic"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwk"

	"github.com/originhub/originhub/internal/auth"
)

// TestDevIssuerRoundTrip does what `serve` and `token` do: the issuer serves
// its JWKS over HTTP, a Verifier fetches it, and a token minted by another
// DevIssuer on the same store (the `token` command's process) is accepted.
func TestDevIssuerRoundTrip(t *testing.T) {
	t.Parallel()
	store := &memKeyStore{}
	cfg := auth.DevIssuerConfig{Clock: func() time.Time { return t0 }}
	server, err := auth.NewDevIssuer(t.Context(), store, cfg)
	if err != nil {
		t.Fatalf("NewDevIssuer() error = %v", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /.well-known/jwks.json", server.JWKSHandler())
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	v, err := auth.NewVerifier(t.Context(), auth.VerifierConfig{
		JWKSURL:  srv.URL + "/.well-known/jwks.json",
		Issuer:   auth.DefaultDevIssuer,
		Audience: auth.DefaultDevAudience,
		Clock:    func() time.Time { return t0.Add(time.Hour) },
	})
	if err != nil {
		t.Fatalf("NewVerifier() error = %v", err)
	}
	closeVerifier(t, v)

	cli, err := auth.NewDevIssuer(t.Context(), store, cfg)
	if err != nil {
		t.Fatalf("second NewDevIssuer() error = %v", err)
	}
	if store.creates != 1 {
		t.Errorf("key created %d times, want 1", store.creates)
	}
	if cli.KeyID() != server.KeyID() || cli.KeyID() == "" {
		t.Errorf("kids = %q and %q, want one stable kid", cli.KeyID(), server.KeyID())
	}

	token, err := cli.Mint("alice", 0, "ggo:read", "ggo:transfer")
	if err != nil {
		t.Fatalf("Mint() error = %v", err)
	}
	got, err := v.Verify(t.Context(), token)
	if err != nil {
		t.Fatalf("Verify(minted token) error = %v", err)
	}
	if got.Subject != "alice" || got.Issuer != auth.DefaultDevIssuer || !slices.Equal(got.Audience, []string{auth.DefaultDevAudience}) {
		t.Errorf("Verify() = %+v, want alice from the dev issuer", got)
	}
	if !slices.Equal(got.Scopes, []string{"ggo:read", "ggo:transfer"}) {
		t.Errorf("Verify().Scopes = %q", got.Scopes)
	}
	if want := t0.Add(auth.DefaultDevTokenTTL); !got.Expires.Equal(want) {
		t.Errorf("Verify().Expires = %v, want %v", got.Expires, want)
	}

	// The static path (`serve` in one process) accepts it too.
	sv, err := auth.NewVerifier(t.Context(), server.VerifierConfig())
	if err != nil {
		t.Fatalf("NewVerifier(static) error = %v", err)
	}
	if _, err := sv.Verify(t.Context(), token); err != nil {
		t.Errorf("static Verify(minted token) error = %v", err)
	}

	// A short-lived token expires.
	short, err := cli.Mint("bob", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(t.Context(), short); !errors.Is(err, auth.ErrExpired) {
		t.Errorf("Verify(1-minute token an hour later) error = %v, want ErrExpired", err)
	}
}

func TestDevIssuerJWKSHandler(t *testing.T) {
	t.Parallel()
	d, err := auth.NewDevIssuer(t.Context(), &memKeyStore{}, auth.DevIssuerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(d.JWKSHandler())
	t.Cleanup(srv.Close)

	res, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET status = %d", res.StatusCode)
	}
	if cc := res.Header.Get("Cache-Control"); !strings.Contains(cc, "max-age=300") {
		t.Errorf("Cache-Control = %q, want max-age=300", cc)
	}
	if ct := res.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	var doc struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatalf("body is not JSON: %v", err)
	}
	if len(doc.Keys) != 1 {
		t.Fatalf("JWKS has %d keys, want 1", len(doc.Keys))
	}
	k := doc.Keys[0]
	if _, private := k["d"]; private {
		t.Fatal("JWKS publishes the private key")
	}
	if k["kty"] != "EC" || k["crv"] != "P-256" || k["alg"] != "ES256" || k["use"] != "sig" || k["kid"] != d.KeyID() {
		t.Errorf("JWKS key = %v, want EC P-256 ES256 sig with kid %q", k, d.KeyID())
	}
	// The kid is the RFC 7638 thumbprint, so anyone can recompute it.
	pub, err := jwk.ParseKey(mustJSON(t, k))
	if err != nil {
		t.Fatal(err)
	}
	if err := pub.Remove(jwk.KeyIDKey); err != nil {
		t.Fatal(err)
	}
	if err := jwk.AssignKeyID(pub); err != nil {
		t.Fatal(err)
	}
	if kid, _ := pub.KeyID(); kid != d.KeyID() {
		t.Errorf("thumbprint = %q, kid = %q", kid, d.KeyID())
	}

	res, err = srv.Client().Post(srv.URL, "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST status = %d, want 405", res.StatusCode)
	}
}

func TestNewDevIssuerRejectsBadStoredKeys(t *testing.T) {
	t.Parallel()
	p384 := newEC(t, elliptic.P384(), "x", "")
	rsaKey := newRSA(t, "y", "")
	p256Pub, err := newEC(t, elliptic.P256(), "z", "").PublicKey()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		store auth.KeyStore
	}{
		{"store error", failingStore{}},
		{"not JSON", &memKeyStore{data: []byte("-----BEGIN nonsense")}},
		{"P-384 key", &memKeyStore{data: mustJSON(t, p384)}},
		{"RSA key", &memKeyStore{data: mustJSON(t, rsaKey)}},
		{"public key only", &memKeyStore{data: mustJSON(t, p256Pub)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d, err := auth.NewDevIssuer(t.Context(), tc.store, auth.DevIssuerConfig{})
			if err == nil {
				t.Fatalf("NewDevIssuer() = %v, nil; want an error", d)
			}
			t.Logf("NewDevIssuer() error = %v", err)
		})
	}
}

func TestDevIssuerMintErrors(t *testing.T) {
	t.Parallel()
	d, err := auth.NewDevIssuer(t.Context(), &memKeyStore{}, auth.DevIssuerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if tok, err := d.Mint("", 0); !errors.Is(err, auth.ErrNoSubject) {
		t.Errorf("Mint(\"\") = %q, %v; want ErrNoSubject", tok, err)
	}
	if tok, err := d.Mint("alice", -time.Second); err == nil {
		t.Errorf("Mint(negative ttl) = %q, nil; want an error", tok)
	}
}

type failingStore struct{}

func (failingStore) LoadOrCreate(context.Context, func() ([]byte, error)) ([]byte, error) {
	return nil, errors.New("connection refused")
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
