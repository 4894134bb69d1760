package auth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/lestrrat-go/jwx/v3/jwt"
)

// Defaults applied by NewVerifier to zero fields of VerifierConfig.
const (
	DefaultClockSkew          = 30 * time.Second
	DefaultHTTPTimeout        = 5 * time.Second
	DefaultMinRefreshInterval = 5 * time.Minute
	DefaultMaxRefreshInterval = time.Hour
)

// VerifierConfig configures a Verifier. Exactly one of JWKSURL and KeySet is
// set; Issuer and Audience are required.
type VerifierConfig struct {
	// JWKSURL is the issuer's key set (for Hydra, <HYDRA_URL>/.well-known/jwks.json).
	// It is fetched once by NewVerifier, then refreshed in the background
	// and whenever a token names an unknown kid (at most once per
	// MinRefreshInterval).
	JWKSURL string
	// KeySet is a static set of public keys, used for the dev issuer.
	KeySet jwk.Set
	// Issuer must equal the token's iss claim exactly.
	Issuer string
	// Audience must be one of the token's aud values.
	Audience string
	// ClockSkew is the tolerance on exp, nbf and iat (default 30s).
	ClockSkew time.Duration
	// Clock returns the current time (default time.Now().UTC()). It is also
	// the clock of the refresh rate limit.
	Clock func() time.Time
	// HTTPClient fetches JWKSURL (default: a client with HTTPTimeout). Its
	// Timeout is lowered to HTTPTimeout if it is zero or larger.
	HTTPClient *http.Client
	// HTTPTimeout bounds one JWKS fetch (default 5s).
	HTTPTimeout time.Duration
	// MinRefreshInterval is the shortest time between two fetches of
	// JWKSURL, in the background and for unknown kids (default 5m).
	MinRefreshInterval time.Duration
	// MaxRefreshInterval is the longest time a fetched key set is kept
	// without refetching, whatever its Cache-Control says (default 1h).
	MaxRefreshInterval time.Duration
	// Logger receives background refresh failures (default: discarded).
	Logger *slog.Logger
}

// Claims are the verified claims of a token.
type Claims struct {
	Subject  string
	Issuer   string
	Audience []string
	Expires  time.Time
	// Scopes come from the space-separated "scope" claim (RFC 8693, Hydra
	// with the default strategy) or from "scp" (a list or a string).
	Scopes []string
}

// Verifier verifies bearer tokens. It is safe for concurrent use.
type Verifier struct {
	keys     keySource
	issuer   string
	audience string
	skew     time.Duration
	clock    func() time.Time
}

// keySource finds the trusted key for a kid.
type keySource interface {
	// key returns the key with the given kid, or an error wrapping
	// ErrInvalidSignature (unknown kid) or ErrJWKSUnavailable.
	key(ctx context.Context, kid string) (jwk.Key, error)
	close(ctx context.Context) error
}

// allowedKeyType returns the key type an accepted algorithm needs. Only
// asymmetric algorithms are accepted: HS* and "none" are absent on purpose.
func allowedKeyType(alg string) (jwa.KeyType, bool) {
	switch alg {
	case "RS256", "RS384", "RS512", "PS256", "PS384", "PS512":
		return jwa.RSA(), true
	case "ES256", "ES384", "ES512":
		return jwa.EC(), true
	case "EdDSA":
		return jwa.OKP(), true
	default:
		return jwa.KeyType{}, false
	}
}

// NewVerifier builds a Verifier. With JWKSURL it fetches the key set before
// returning (an error wrapping ErrJWKSUnavailable if that fails or times
// out) and starts the background refresh, whose goroutines stop when ctx is
// cancelled or Close is called. The returned error is otherwise a
// configuration error.
func NewVerifier(ctx context.Context, cfg VerifierConfig) (*Verifier, error) {
	if cfg.Issuer == "" {
		return nil, errors.New("verifier config: issuer is required")
	}
	if cfg.Audience == "" {
		return nil, errors.New("verifier config: audience is required")
	}
	if cfg.ClockSkew == 0 {
		cfg.ClockSkew = DefaultClockSkew
	}
	if cfg.ClockSkew < 0 {
		return nil, errors.New("verifier config: clock skew must not be negative")
	}
	if cfg.Clock == nil {
		cfg.Clock = func() time.Time { return time.Now().UTC() }
	}
	v := &Verifier{
		issuer:   cfg.Issuer,
		audience: cfg.Audience,
		skew:     cfg.ClockSkew,
		clock:    cfg.Clock,
	}
	switch {
	case cfg.JWKSURL != "" && cfg.KeySet != nil:
		return nil, errors.New("verifier config: set either a JWKS URL or a key set, not both")
	case cfg.KeySet != nil:
		if cfg.KeySet.Len() == 0 {
			return nil, errors.New("verifier config: key set is empty")
		}
		v.keys = staticKeys{set: cfg.KeySet}
	case cfg.JWKSURL != "":
		rk, err := newRemoteKeys(ctx, cfg)
		if err != nil {
			return nil, err
		}
		v.keys = rk
	default:
		return nil, errors.New("verifier config: a JWKS URL or a key set is required")
	}
	return v, nil
}

// Close stops the background JWKS refresh and waits for its goroutines (a
// no-op for a static key set). Cancelling the ctx given to NewVerifier also
// stops them, without waiting.
func (v *Verifier) Close(ctx context.Context) error {
	return v.keys.close(ctx)
}

// Verify checks rawToken and returns its claims. Errors wrap exactly one of
// the sentinels in errors.go: ErrMissingToken, ErrMalformedToken,
// ErrAlgorithmNotAllowed, ErrInvalidSignature, ErrExpired, ErrNotYetValid,
// ErrWrongIssuer, ErrWrongAudience, ErrNoSubject or ErrJWKSUnavailable. ctx
// bounds a JWKS refresh triggered by an unknown kid.
func (v *Verifier) Verify(ctx context.Context, rawToken string) (Claims, error) {
	if rawToken == "" {
		return Claims{}, ErrMissingToken
	}
	if len(rawToken) > maxTokenLen {
		return Claims{}, fmt.Errorf("%w: token longer than %d bytes", ErrMalformedToken, maxTokenLen)
	}
	hdr, err := parseHeader(rawToken)
	if err != nil {
		return Claims{}, err
	}
	// Refuse the algorithm before looking at any key, so "none" and HS*
	// can never reach a verifier, whatever the key set holds.
	wantKty, ok := allowedKeyType(hdr.Alg)
	if !ok {
		return Claims{}, fmt.Errorf("%w: %q", ErrAlgorithmNotAllowed, clip(hdr.Alg))
	}
	alg, ok := jwa.LookupSignatureAlgorithm(hdr.Alg)
	if !ok {
		return Claims{}, fmt.Errorf("%w: %q is not registered", ErrAlgorithmNotAllowed, hdr.Alg)
	}
	if hdr.Kid == "" {
		return Claims{}, fmt.Errorf("%w: header has no kid", ErrMalformedToken)
	}
	key, err := v.keys.key(ctx, hdr.Kid)
	if err != nil {
		return Claims{}, err
	}
	if err := checkKey(key, hdr.Alg, wantKty); err != nil {
		return Claims{}, err
	}

	tok, err := jwt.Parse([]byte(rawToken), jwt.WithKey(alg, key), jwt.WithValidate(false))
	if err != nil {
		return Claims{}, classifyParseError(err)
	}
	if err := jwt.Validate(tok,
		jwt.WithClock(jwt.ClockFunc(v.clock)),
		jwt.WithAcceptableSkew(v.skew),
		jwt.WithRequiredClaim(jwt.ExpirationKey),
		jwt.WithIssuer(v.issuer),
		jwt.WithAudience(v.audience),
	); err != nil {
		return Claims{}, classifyValidateError(err)
	}
	return claimsOf(tok)
}

// VerifyHeader verifies the value of an Authorization header ("Bearer
// <token>") and returns the caller. It is what the WebSocket transport calls
// with the connection_init payload's Authorization value; errors are those of
// BearerToken and Verify.
func (v *Verifier) VerifyHeader(ctx context.Context, headerValue string) (Subject, error) {
	token, err := BearerToken(headerValue)
	if err != nil {
		return Subject{}, err
	}
	c, err := v.Verify(ctx, token)
	if err != nil {
		return Subject{}, err
	}
	return Subject{ID: c.Subject, Scopes: c.Scopes}, nil
}

// jwsHeader is the part of the protected header we decide on before any
// cryptography runs.
type jwsHeader struct {
	Alg string `json:"alg"`
	Kid string `json:"kid"`
}

// parseHeader decodes the protected header of a compact JWS ourselves, so
// that the algorithm decision does not depend on how a library treats
// unknown or hostile values.
func parseHeader(raw string) (jwsHeader, error) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return jwsHeader{}, fmt.Errorf("%w: want 3 dot-separated parts, got %d", ErrMalformedToken, len(parts))
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return jwsHeader{}, fmt.Errorf("%w: header is not base64url", ErrMalformedToken)
	}
	var h jwsHeader
	if err := json.Unmarshal(b, &h); err != nil {
		return jwsHeader{}, fmt.Errorf("%w: header is not a JSON object", ErrMalformedToken)
	}
	if h.Alg == "" {
		return jwsHeader{}, fmt.Errorf("%w: header has no alg", ErrMalformedToken)
	}
	return h, nil
}

// clip shortens a caller-chosen header value before it goes into an error
// message, so a hostile token cannot flood the logs.
func clip(s string) string {
	const maxLen = 64
	if len(s) <= maxLen {
		return s
	}
	return s[:maxLen] + "..."
}

// checkKey refuses a key that cannot legitimately verify alg: a key pinned
// to another algorithm, a key of another type (an oct key above all), or an
// encryption key.
func checkKey(key jwk.Key, alg string, wantKty jwa.KeyType) error {
	kid, _ := key.KeyID()
	if ka, ok := key.Algorithm(); ok && ka.String() != alg {
		return fmt.Errorf("%w: token alg %q, key %q is for %q", ErrAlgorithmNotAllowed, alg, kid, ka.String())
	}
	if kty := key.KeyType(); kty != wantKty {
		return fmt.Errorf("%w: token alg %q needs kty %s, key %q has kty %s", ErrAlgorithmNotAllowed, alg, wantKty, kid, kty)
	}
	if use, ok := key.KeyUsage(); ok && use != "sig" {
		return fmt.Errorf("%w: key %q is for %q, not signatures", ErrInvalidSignature, kid, use)
	}
	return nil
}

// classifyParseError maps a jwt.Parse failure: a failed signature check
// (jws verify error) or anything else, which can only be a malformed token
// since the key and algorithm were already accepted.
func classifyParseError(err error) error {
	if errors.Is(err, jws.VerifyError()) {
		return fmt.Errorf("%w: %w", ErrInvalidSignature, err)
	}
	return fmt.Errorf("%w: %w", ErrMalformedToken, err)
}

// classifyValidateError maps a jwt.Validate failure onto our sentinels.
func classifyValidateError(err error) error {
	switch {
	case errors.Is(err, jwt.TokenExpiredError()):
		return fmt.Errorf("%w: %w", ErrExpired, err)
	case errors.Is(err, jwt.TokenNotYetValidError()), errors.Is(err, jwt.InvalidIssuedAtError()):
		return fmt.Errorf("%w: %w", ErrNotYetValid, err)
	case errors.Is(err, jwt.InvalidIssuerError()):
		return fmt.Errorf("%w: %w", ErrWrongIssuer, err)
	case errors.Is(err, jwt.InvalidAudienceError()):
		return fmt.Errorf("%w: %w", ErrWrongAudience, err)
	default:
		// A missing exp lands here: a token that never expires is not one we
		// accept, and it is not "expired" either.
		return fmt.Errorf("%w: %w", ErrMalformedToken, err)
	}
}

// claimsOf copies the claims we expose out of a validated token.
func claimsOf(tok jwt.Token) (Claims, error) {
	sub, _ := tok.Subject()
	if strings.TrimSpace(sub) == "" {
		return Claims{}, ErrNoSubject
	}
	iss, _ := tok.Issuer()
	aud, _ := tok.Audience()
	exp, _ := tok.Expiration()
	scopes, err := scopesOf(tok)
	if err != nil {
		return Claims{}, err
	}
	return Claims{Subject: sub, Issuer: iss, Audience: aud, Expires: exp.UTC(), Scopes: scopes}, nil
}

// scopesOf reads "scope" (a space-separated string) or, failing that, "scp"
// (a list of strings, or a string).
func scopesOf(tok jwt.Token) ([]string, error) {
	for _, name := range []string{"scope", "scp"} {
		if !tok.Has(name) {
			continue
		}
		var v any
		if err := tok.Get(name, &v); err != nil {
			return nil, fmt.Errorf("%w: read %s claim: %w", ErrMalformedToken, name, err)
		}
		switch v := v.(type) {
		case string:
			return strings.Fields(v), nil
		case []any:
			out := make([]string, 0, len(v))
			for _, e := range v {
				s, ok := e.(string)
				if !ok {
					return nil, fmt.Errorf("%w: %s claim holds a %T", ErrMalformedToken, name, e)
				}
				out = append(out, s)
			}
			return out, nil
		case []string:
			return v, nil
		default:
			return nil, fmt.Errorf("%w: %s claim is a %T", ErrMalformedToken, name, v)
		}
	}
	return nil, nil
}

// staticKeys is a fixed key set.
type staticKeys struct{ set jwk.Set }

func (s staticKeys) key(_ context.Context, kid string) (jwk.Key, error) {
	k, ok := s.set.LookupKeyID(kid)
	if !ok {
		return nil, fmt.Errorf("%w: unknown key id %q", ErrInvalidSignature, clip(kid))
	}
	return k, nil
}

func (staticKeys) close(context.Context) error { return nil }
