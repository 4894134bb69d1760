package auth_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/originhub/originhub/internal/auth"
)

// Example shows the dev-mode wiring of `serve`: a dev issuer backed by the
// database, its JWKS served at /.well-known/jwks.json, a Verifier built
// from it, and the middleware with a cached user-row hook.
func Example() {
	ctx := context.Background()
	store := &memKeyStore{} // the server passes its Postgres KeyStore

	issuer, err := auth.NewDevIssuer(ctx, store, auth.DevIssuerConfig{})
	if err != nil {
		fmt.Println(err)
		return
	}
	verifier, err := auth.NewVerifier(ctx, issuer.VerifierConfig())
	if err != nil {
		fmt.Println(err)
		return
	}
	upsertUser := auth.OncePerSubject(auth.DefaultSubjectCacheSize, func(ctx context.Context, s auth.Subject) error {
		return nil // INSERT INTO users ... ON CONFLICT DO NOTHING
	})

	mux := http.NewServeMux()
	mux.Handle("GET /.well-known/jwks.json", issuer.JWKSHandler())
	mux.Handle("/graphql", verifier.Middleware(upsertUser)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := auth.ErrorFrom(r.Context()); err != nil {
			fmt.Println("unauthenticated:", auth.Unauthenticated(err))
			return
		}
		s, ok := auth.SubjectFrom(r.Context())
		fmt.Println("subject:", s.ID, ok)
	})))

	token, err := issuer.Mint("alice", 0) // what `token --sub alice` prints
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, header := range []string{"", "Bearer " + token, "Bearer not-a-token"} {
		req := httptest.NewRequest(http.MethodPost, "/graphql", nil)
		if header != "" {
			req.Header.Set("Authorization", header)
		}
		mux.ServeHTTP(httptest.NewRecorder(), req)
	}
	// Output:
	// subject:  false
	// subject: alice true
	// unauthenticated: true
}
