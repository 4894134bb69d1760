package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jwt"
)

// Defaults applied by NewDevIssuer to zero fields of DevIssuerConfig.
const (
	DefaultDevIssuer   = "http://127.0.0.1:8080/"
	DefaultDevAudience = "originhub"
	DefaultDevTokenTTL = 24 * time.Hour
)

// KeyStore keeps the dev issuer's private key. LoadOrCreate returns the
// stored key, or calls create, stores its result and returns what is stored.
// When two processes race at first start, both must get the same bytes (the
// Postgres implementation inserts with ON CONFLICT DO NOTHING, then selects).
type KeyStore interface {
	LoadOrCreate(ctx context.Context, create func() ([]byte, error)) ([]byte, error)
}

// DevIssuerConfig configures a DevIssuer.
type DevIssuerConfig struct {
	// Issuer is the iss of minted tokens (default "http://127.0.0.1:8080/").
	Issuer string
	// Audience is the single aud of minted tokens (default "originhub").
	Audience string
	// TTL is the lifetime of a token minted with ttl 0 (default 24h).
	TTL time.Duration
	// Clock returns the current time (default time.Now().UTC()).
	Clock func() time.Time
}

// DevIssuer mints tokens with an ES256 key kept in a KeyStore, so the
// `token` command and a running `serve` agree on the key. It is for
// development: anyone who can read the database can mint tokens.
type DevIssuer struct {
	priv     jwk.Key
	pub      jwk.Set
	jwksJSON []byte
	issuer   string
	audience string
	ttl      time.Duration
	clock    func() time.Time
}

// NewDevIssuer loads the issuer key from store, creating it on first use.
// The key is an ES256 (P-256) private JWK (JSON) whose kid is its RFC 7638
// SHA-256 thumbprint, so the kid is stable across restarts and processes.
// It fails if the store fails or holds something other than a P-256 private
// key.
func NewDevIssuer(ctx context.Context, store KeyStore, cfg DevIssuerConfig) (*DevIssuer, error) {
	if cfg.Issuer == "" {
		cfg.Issuer = DefaultDevIssuer
	}
	if cfg.Audience == "" {
		cfg.Audience = DefaultDevAudience
	}
	if cfg.TTL == 0 {
		cfg.TTL = DefaultDevTokenTTL
	}
	if cfg.TTL < 0 {
		return nil, errors.New("dev issuer config: ttl must not be negative")
	}
	if cfg.Clock == nil {
		cfg.Clock = func() time.Time { return time.Now().UTC() }
	}
	raw, err := store.LoadOrCreate(ctx, newDevKeyJSON)
	if err != nil {
		return nil, fmt.Errorf("load dev issuer key: %w", err)
	}
	priv, err := parseDevKey(raw)
	if err != nil {
		return nil, fmt.Errorf("parse dev issuer key: %w", err)
	}
	pub, err := priv.PublicKey()
	if err != nil {
		return nil, fmt.Errorf("derive dev issuer public key: %w", err)
	}
	set := jwk.NewSet()
	if err := set.AddKey(pub); err != nil {
		return nil, fmt.Errorf("build dev issuer jwks: %w", err)
	}
	// Marshal once: the set never changes, and the handler then only writes bytes.
	jwksJSON, err := json.Marshal(set)
	if err != nil {
		return nil, fmt.Errorf("encode dev issuer jwks: %w", err)
	}
	return &DevIssuer{
		priv:     priv,
		pub:      set,
		jwksJSON: jwksJSON,
		issuer:   cfg.Issuer,
		audience: cfg.Audience,
		ttl:      cfg.TTL,
		clock:    cfg.Clock,
	}, nil
}

// newDevKeyJSON generates a fresh P-256 key as a private JWK JSON document.
func newDevKeyJSON() ([]byte, error) {
	ek, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate p-256 key: %w", err)
	}
	k, err := devKeyOf(ek)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(k)
	if err != nil {
		return nil, fmt.Errorf("encode dev key: %w", err)
	}
	return b, nil
}

// parseDevKey reads a stored key and rebuilds its JWK with our fixed
// alg/use/kid, so a stored document cannot smuggle in other parameters.
func parseDevKey(raw []byte) (jwk.Key, error) {
	k, err := jwk.ParseKey(raw)
	if err != nil {
		return nil, fmt.Errorf("parse jwk: %w", err)
	}
	var ek ecdsa.PrivateKey
	if err := jwk.Export(k, &ek); err != nil {
		return nil, fmt.Errorf("want an ecdsa private key: %w", err)
	}
	if ek.Curve != elliptic.P256() {
		return nil, fmt.Errorf("want a P-256 key, got %s", ek.Curve.Params().Name)
	}
	return devKeyOf(&ek)
}

// devKeyOf wraps an ECDSA key as a JWK with alg ES256, use sig and the
// RFC 7638 thumbprint as kid.
func devKeyOf(ek *ecdsa.PrivateKey) (jwk.Key, error) {
	k, err := jwk.Import(ek)
	if err != nil {
		return nil, fmt.Errorf("import ecdsa key: %w", err)
	}
	if err := k.Set(jwk.AlgorithmKey, jwa.ES256()); err != nil {
		return nil, fmt.Errorf("set alg: %w", err)
	}
	if err := k.Set(jwk.KeyUsageKey, jwk.ForSignature); err != nil {
		return nil, fmt.Errorf("set use: %w", err)
	}
	if err := jwk.AssignKeyID(k, jwk.WithForceAssign(true)); err != nil {
		return nil, fmt.Errorf("assign kid: %w", err)
	}
	return k, nil
}

// KeyID returns the kid of the issuer key (its RFC 7638 thumbprint).
func (d *DevIssuer) KeyID() string {
	kid, _ := d.priv.KeyID()
	return kid
}

// Mint returns a signed token for sub, valid from now for ttl (the
// configured TTL if ttl is 0), with the given scopes in a space-separated
// "scope" claim. It fails with ErrNoSubject for an empty sub.
func (d *DevIssuer) Mint(sub string, ttl time.Duration, scopes ...string) (string, error) {
	if strings.TrimSpace(sub) == "" {
		return "", ErrNoSubject
	}
	if ttl == 0 {
		ttl = d.ttl
	}
	if ttl < 0 {
		return "", errors.New("mint token: ttl must not be negative")
	}
	var jti [16]byte
	if _, err := rand.Read(jti[:]); err != nil {
		return "", fmt.Errorf("mint token: read random jti: %w", err)
	}
	// JWT times are whole seconds; truncating keeps exp-iat exactly ttl.
	now := d.clock().UTC().Truncate(time.Second)
	b := jwt.NewBuilder().
		Issuer(d.issuer).
		Audience([]string{d.audience}).
		Subject(sub).
		IssuedAt(now).
		NotBefore(now).
		Expiration(now.Add(ttl)).
		JwtID(hex.EncodeToString(jti[:]))
	if len(scopes) > 0 {
		b = b.Claim("scope", strings.Join(scopes, " "))
	}
	tok, err := b.Build()
	if err != nil {
		return "", fmt.Errorf("mint token: build claims: %w", err)
	}
	signed, err := jwt.Sign(tok, jwt.WithKey(jwa.ES256(), d.priv))
	if err != nil {
		return "", fmt.Errorf("mint token: sign: %w", err)
	}
	return string(signed), nil
}

// JWKS returns the issuer's public key set. Callers must not modify it.
func (d *DevIssuer) JWKS() jwk.Set { return d.pub }

// KeySet is JWKS under the name VerifierConfig uses: the public keys a
// static Verifier trusts.
func (d *DevIssuer) KeySet() jwk.Set { return d.pub }

// VerifierConfig returns the config of a Verifier that accepts this
// issuer's tokens with a static key set, sharing the issuer's clock.
func (d *DevIssuer) VerifierConfig() VerifierConfig {
	return VerifierConfig{KeySet: d.pub, Issuer: d.issuer, Audience: d.audience, Clock: d.clock}
}

// JWKSHandler serves the public key set as JSON, for
// /.well-known/jwks.json. Clients may cache it for five minutes.
func (d *DevIssuer) JWKSHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Cache-Control", "public, max-age=300")
		if r.Method == http.MethodHead {
			return
		}
		// A failed write means the client went away; there is no one to tell.
		_, _ = w.Write(d.jwksJSON)
	})
}
