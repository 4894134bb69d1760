package auth_test

import (
	"context"
	"crypto/elliptic"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"

	"github.com/originhub/originhub/internal/auth"
)

func TestRemoteJWKSKeyRotation(t *testing.T) {
	t.Parallel()
	keyA := newEC(t, elliptic.P256(), "key-a", "ES256")
	keyB := newRSA(t, "key-b", "RS256")
	srv := newJWKSServer(t, publicSet(t, keyA))
	now := clockAt(t0)
	v, err := auth.NewVerifier(t.Context(), auth.VerifierConfig{
		JWKSURL:            srv.URL,
		Issuer:             testIssuer,
		Audience:           testAudience,
		Clock:              fixedClock(now),
		MinRefreshInterval: time.Minute,
	})
	if err != nil {
		t.Fatalf("NewVerifier() error = %v", err)
	}
	closeVerifier(t, v)
	// NewVerifier fetches once itself and the cache once in the background, which may land
	// a little later; count from when both are done, or the counts below race with it.
	for deadline := time.Now().Add(2 * time.Second); srv.hits.Load() < 2 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	hitsAfterStart := srv.hits.Load()
	if hitsAfterStart < 1 {
		t.Fatalf("JWKS hits after NewVerifier = %d, want >= 1", hitsAfterStart)
	}

	if _, err := v.Verify(t.Context(), sign(t, jwa.ES256(), keyA, goodClaims())); err != nil {
		t.Fatalf("Verify(token by key A) error = %v", err)
	}
	if got := srv.hits.Load(); got != hitsAfterStart {
		t.Errorf("JWKS hits after a known kid = %d, want %d (served from cache)", got, hitsAfterStart)
	}

	// The issuer rotates: it now publishes A and B and signs with B.
	srv.setKeys(t, publicSet(t, keyA, keyB))
	got, err := v.Verify(t.Context(), sign(t, jwa.RS256(), keyB, goodClaims()))
	if err != nil {
		t.Fatalf("Verify(token by new key B) error = %v, want accepted after refresh", err)
	}
	if got.Subject != "alice" {
		t.Errorf("Verify().Subject = %q, want alice", got.Subject)
	}
	hitsAfterRotation := srv.hits.Load()
	if hitsAfterRotation != hitsAfterStart+1 {
		t.Errorf("JWKS hits after rotation = %d, want %d (one refresh)", hitsAfterRotation, hitsAfterStart+1)
	}

	// A made-up kid right after a refresh fails without hitting the issuer.
	forged := sign(t, jwa.ES256(), newEC(t, elliptic.P256(), "forged", "ES256"), goodClaims())
	if _, err := v.Verify(t.Context(), forged); !errors.Is(err, auth.ErrInvalidSignature) {
		t.Fatalf("Verify(unknown kid) error = %v, want ErrInvalidSignature", err)
	}
	if got := srv.hits.Load(); got != hitsAfterRotation {
		t.Errorf("JWKS hits after a rate-limited unknown kid = %d, want %d", got, hitsAfterRotation)
	}

	// Once the minimum interval has passed, an unknown kid refreshes again, once.
	later := t0.Add(time.Minute)
	now.Store(&later)
	if _, err := v.Verify(t.Context(), forged); !errors.Is(err, auth.ErrInvalidSignature) {
		t.Fatalf("Verify(unknown kid) error = %v, want ErrInvalidSignature", err)
	}
	if got := srv.hits.Load(); got != hitsAfterRotation+1 {
		t.Errorf("JWKS hits after the interval = %d, want %d", got, hitsAfterRotation+1)
	}
}

func TestRemoteJWKSRefreshFailsOnUnknownKid(t *testing.T) {
	t.Parallel()
	keyA := newEC(t, elliptic.P256(), "key-a", "ES256")
	srv := newJWKSServer(t, publicSet(t, keyA))
	v, err := auth.NewVerifier(t.Context(), auth.VerifierConfig{
		JWKSURL: srv.URL, Issuer: testIssuer, Audience: testAudience,
		Clock: func() time.Time { return t0 },
	})
	if err != nil {
		t.Fatalf("NewVerifier() error = %v", err)
	}
	closeVerifier(t, v)

	srv.status.Store(http.StatusInternalServerError)
	// A known kid keeps working from the cache while the issuer is down...
	if _, err := v.Verify(t.Context(), sign(t, jwa.ES256(), keyA, goodClaims())); err != nil {
		t.Fatalf("Verify(known kid, issuer down) error = %v", err)
	}
	// ...and an unknown one says the issuer is unavailable, which is not
	// the caller's fault.
	_, err = v.Verify(t.Context(), sign(t, jwa.ES256(), newEC(t, elliptic.P256(), "key-b", "ES256"), goodClaims()))
	if !errors.Is(err, auth.ErrJWKSUnavailable) {
		t.Fatalf("Verify(unknown kid, issuer down) error = %v, want ErrJWKSUnavailable", err)
	}
	if auth.Unauthenticated(err) {
		t.Errorf("Unauthenticated(%v) = true, want false", err)
	}
}

func TestRemoteJWKSUnavailableAtStart(t *testing.T) {
	t.Parallel()
	down := httptest.NewServer(http.NotFoundHandler())
	downURL := down.URL
	down.Close() // nothing listens there any more

	failing := newJWKSServer(t, publicSet(t, newEC(t, elliptic.P256(), "k", "ES256")))
	failing.status.Store(http.StatusServiceUnavailable)

	garbage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("<html>login</html>"))
	}))
	t.Cleanup(garbage.Close)

	tests := []struct {
		name string
		url  string
	}{
		{"connection refused", downURL},
		{"status 503", failing.URL},
		{"not a JWKS", garbage.URL},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v, err := auth.NewVerifier(t.Context(), auth.VerifierConfig{
				JWKSURL: tc.url, Issuer: testIssuer, Audience: testAudience, HTTPTimeout: 2 * time.Second,
			})
			if !errors.Is(err, auth.ErrJWKSUnavailable) {
				t.Fatalf("NewVerifier() = %v, %v; want ErrJWKSUnavailable", v, err)
			}
			t.Logf("NewVerifier() error = %v", err)
		})
	}
}

func TestRemoteJWKSSlowServerTimesOut(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	// Cleanups run last-in first-out: release the handler, then close.
	t.Cleanup(slow.Close)
	t.Cleanup(func() { close(release) })

	start := time.Now()
	v, err := auth.NewVerifier(t.Context(), auth.VerifierConfig{
		JWKSURL: slow.URL, Issuer: testIssuer, Audience: testAudience, HTTPTimeout: 200 * time.Millisecond,
	})
	elapsed := time.Since(start)
	if !errors.Is(err, auth.ErrJWKSUnavailable) {
		t.Fatalf("NewVerifier() = %v, %v; want ErrJWKSUnavailable", v, err)
	}
	// The HTTP client's timeout must be what fired (a net.Error), not some
	// outer deadline of ours that would hide the cause.
	var netErr net.Error
	if !errors.As(err, &netErr) || !netErr.Timeout() {
		t.Errorf("NewVerifier() error = %v, want it to wrap an HTTP client timeout", err)
	}
	// Generous bound: the point is that it does not hang on the server.
	if elapsed > 5*time.Second {
		t.Errorf("NewVerifier() took %v against a stalled server with a 200ms timeout", elapsed)
	}
	t.Logf("NewVerifier() gave up after %v: %v", elapsed, err)
}

func TestRemoteJWKSBackgroundRefresh(t *testing.T) {
	t.Parallel()
	keyA := newEC(t, elliptic.P256(), "key-a", "ES256")
	srv := newJWKSServer(t, publicSet(t, keyA))
	v, err := auth.NewVerifier(t.Context(), auth.VerifierConfig{
		JWKSURL: srv.URL, Issuer: testIssuer, Audience: testAudience,
		// httprc works in whole seconds; one second keeps the test short.
		MinRefreshInterval: time.Second,
		MaxRefreshInterval: time.Second,
	})
	if err != nil {
		t.Fatalf("NewVerifier() error = %v", err)
	}
	closeVerifier(t, v)
	// Drain the hits of the start-up fetches, then wait for two more.
	for len(srv.hit) > 0 {
		<-srv.hit
	}
	timeout := time.After(10 * time.Second)
	for i := range 2 {
		select {
		case <-srv.hit:
		case <-timeout:
			t.Fatalf("background refreshes seen = %d after 10s, want 2", i)
		}
	}
}

func TestRemoteJWKSStopsWithContext(t *testing.T) {
	t.Parallel()
	srv := newJWKSServer(t, publicSet(t, newEC(t, elliptic.P256(), "k", "ES256")))
	ctx, cancel := context.WithCancel(t.Context())
	v, err := auth.NewVerifier(ctx, auth.VerifierConfig{JWKSURL: srv.URL, Issuer: testIssuer, Audience: testAudience})
	if err != nil {
		t.Fatalf("NewVerifier() error = %v", err)
	}
	cancel()
	// Close waits for the cache goroutines; it returns nil only once all
	// of them have exited, which the cancelled ctx alone must cause.
	wctx, wcancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer wcancel()
	if err := v.Close(wctx); err != nil {
		t.Fatalf("Close() after cancel error = %v, want nil", err)
	}
}
