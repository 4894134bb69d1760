package auth_test

import (
	"context"
	"crypto/elliptic"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"

	"github.com/originhub/originhub/internal/auth"
)

// seen is what the handler behind the middleware observed.
type seen struct {
	subject auth.Subject
	ok      bool
	err     error
}

func TestMiddleware(t *testing.T) {
	t.Parallel()
	key := newEC(t, elliptic.P256(), "es", "ES256")
	v, err := auth.NewVerifier(t.Context(), auth.VerifierConfig{
		KeySet: publicSet(t, key), Issuer: testIssuer, Audience: testAudience,
		Clock: func() time.Time { return t0 },
	})
	if err != nil {
		t.Fatal(err)
	}
	good := sign(t, jwa.ES256(), key, goodClaims())
	expired := sign(t, jwa.ES256(), key, with(map[string]any{"exp": t0.Add(-time.Hour).Unix()}))
	errDB := errors.New("database is down")

	tests := []struct {
		name        string
		headers     []string
		hookErr     error
		wantSubject string
		wantErr     error // nil: no error in ctx
		wantUnauth  bool
		wantHook    int
	}{
		{name: "anonymous", headers: nil},
		{name: "good token", headers: []string{"Bearer " + good}, wantSubject: "alice", wantHook: 1},
		{name: "expired token", headers: []string{"Bearer " + expired}, wantErr: auth.ErrExpired, wantUnauth: true},
		{name: "empty header", headers: []string{""}, wantErr: auth.ErrMissingToken, wantUnauth: true},
		{name: "wrong scheme", headers: []string{"Token " + good}, wantErr: auth.ErrMalformedToken, wantUnauth: true},
		{name: "two headers", headers: []string{"Bearer " + good, "Bearer " + good}, wantErr: auth.ErrMalformedToken, wantUnauth: true},
		{name: "hook fails", headers: []string{"Bearer " + good}, hookErr: errDB, wantErr: errDB, wantUnauth: false, wantHook: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var hookCalls int
			hook := func(_ context.Context, s auth.Subject) error {
				hookCalls++
				if s.ID != "alice" {
					t.Errorf("hook got subject %q, want alice", s.ID)
				}
				return tc.hookErr
			}
			var got seen
			h := v.Middleware(hook)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got.subject, got.ok = auth.SubjectFrom(r.Context())
				got.err = auth.ErrorFrom(r.Context())
				w.WriteHeader(http.StatusTeapot)
			}))
			req := httptest.NewRequestWithContext(t.Context(), http.MethodPost, "/graphql", nil)
			for _, hv := range tc.headers {
				req.Header.Add("Authorization", hv)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)

			// The middleware never answers itself: GraphQL does.
			if rec.Code != http.StatusTeapot {
				t.Errorf("status = %d, want the next handler's %d", rec.Code, http.StatusTeapot)
			}
			if got.ok != (tc.wantSubject != "") || got.subject.ID != tc.wantSubject {
				t.Errorf("SubjectFrom() = %+v, %v; want %q", got.subject, got.ok, tc.wantSubject)
			}
			if tc.wantErr == nil && got.err != nil || !errors.Is(got.err, tc.wantErr) {
				t.Errorf("ErrorFrom() = %v, want %v", got.err, tc.wantErr)
			}
			if got.err != nil && auth.Unauthenticated(got.err) != tc.wantUnauth {
				t.Errorf("Unauthenticated(%v) = %v, want %v", got.err, !tc.wantUnauth, tc.wantUnauth)
			}
			if hookCalls != tc.wantHook {
				t.Errorf("hook calls = %d, want %d", hookCalls, tc.wantHook)
			}
		})
	}
}

func TestOncePerSubject(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	calls := map[string]int{}
	fail := map[string]bool{"flaky": true}
	hook := auth.OncePerSubject(2, func(_ context.Context, s auth.Subject) error {
		mu.Lock()
		defer mu.Unlock()
		calls[s.ID]++
		if fail[s.ID] {
			fail[s.ID] = false
			return fmt.Errorf("insert user %s: boom", s.ID)
		}
		return nil
	})
	steps := []struct {
		id        string
		wantErr   bool
		wantCalls int // calls for id after this step
	}{
		{"alice", false, 1},
		{"alice", false, 1}, // remembered
		{"bob", false, 1},
		{"alice", false, 1}, // still remembered; now most recent
		{"carol", false, 1}, // evicts bob, the least recently seen
		{"alice", false, 1},
		{"bob", false, 2}, // forgotten, so the hook runs again
		{"flaky", true, 1},
		{"flaky", false, 2}, // a failure is not remembered
		{"flaky", false, 2},
	}
	for i, st := range steps {
		err := hook(t.Context(), auth.Subject{ID: st.id})
		if (err != nil) != st.wantErr {
			t.Fatalf("step %d: hook(%s) error = %v, want error %v", i, st.id, err, st.wantErr)
		}
		if calls[st.id] != st.wantCalls {
			t.Fatalf("step %d: calls[%s] = %d, want %d", i, st.id, calls[st.id], st.wantCalls)
		}
	}
}

func TestContextAccessors(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	if s, ok := auth.SubjectFrom(ctx); ok {
		t.Errorf("SubjectFrom(empty) = %+v, true; want false", s)
	}
	if err := auth.ErrorFrom(ctx); err != nil {
		t.Errorf("ErrorFrom(empty) = %v, want nil", err)
	}
	want := auth.Subject{ID: "alice", Scopes: []string{"ggo:read"}}
	got, ok := auth.SubjectFrom(auth.WithSubject(ctx, want))
	if !ok || got.ID != want.ID || !got.HasScope("ggo:read") || got.HasScope("ggo:write") {
		t.Errorf("SubjectFrom(WithSubject(%+v)) = %+v, %v", want, got, ok)
	}
	if err := auth.ErrorFrom(auth.WithError(ctx, auth.ErrExpired)); !errors.Is(err, auth.ErrExpired) {
		t.Errorf("ErrorFrom(WithError(ErrExpired)) = %v", err)
	}
	// A plain string key with the same name must not reach our value.
	type foreign string
	if _, ok := auth.SubjectFrom(context.WithValue(ctx, foreign("subject"), want)); ok {
		t.Error("SubjectFrom() read a value stored under a foreign key")
	}
}

func TestBearerToken(t *testing.T) {
	t.Parallel()
	tests := []struct {
		header  string
		want    string
		wantErr error
	}{
		{"Bearer abc.def.ghi", "abc.def.ghi", nil},
		{"bearer abc", "abc", nil},
		{"BEARER abc", "abc", nil},
		{"  Bearer   abc  ", "abc", nil},
		{"", "", auth.ErrMissingToken},
		{"   ", "", auth.ErrMissingToken},
		{"Bearer", "", auth.ErrMalformedToken},
		{"Bearer ", "", auth.ErrMalformedToken},
		{"Basic abc", "", auth.ErrMalformedToken},
		{"Bearerabc", "", auth.ErrMalformedToken},
		{"Bearer a b", "", auth.ErrMalformedToken},
		{"Bearer a\tb", "", auth.ErrMalformedToken},
	}
	for _, tc := range tests {
		got, err := auth.BearerToken(tc.header)
		if got != tc.want || !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
			t.Errorf("BearerToken(%q) = %q, %v; want %q, %v", tc.header, got, err, tc.want, tc.wantErr)
		}
	}
}
