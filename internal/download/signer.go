// Package download serves reports (CSV and PDF) over plain HTTP and signs the short-lived
// URLs that GraphQL results link to.
//
// A browser cannot send an Authorization header when it follows a link, and a JWT in a URL
// ends up in histories, logs and Referer headers. So a report link carries a signed token
// instead: the user id, an expiry a few minutes ahead and an HMAC-SHA256 over the path and
// every query parameter, keyed by a key derived from SECRET. The token grants exactly that
// one download until it expires; changing any parameter breaks the signature.
package download

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/url"
	"strconv"
	"time"
)

// Query parameters the signer adds.
const (
	paramUser    = "uid"
	paramExpires = "exp"
	paramSig     = "sig"
)

// ErrBadSignature is returned for a link whose signature does not match (altered, or
// signed with another secret).
var ErrBadSignature = errors.New("invalid download link")

// ErrExpired is returned for a correctly signed link past its expiry.
var ErrExpired = errors.New("download link expired: ask the API for a new one")

// Signer makes and checks signed download URLs.
type Signer struct {
	key   []byte
	base  string
	ttl   time.Duration
	clock func() time.Time
}

// NewSigner returns a Signer whose links live ttl, start with base (the public URL of the
// API, e.g. https://originhub.example; may be empty for relative links) and are keyed by
// secret.
func NewSigner(secret, base string, ttl time.Duration, clock func() time.Time) *Signer {
	// A key of its own, so a download signature is never valid for another use of SECRET.
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("originhub download link v1"))
	return &Signer{key: m.Sum(nil), base: base, ttl: ttl, clock: clock}
}

// URL returns base + path + the query of params with the user, expiry and signature added.
func (s *Signer) URL(path string, params url.Values, userID int64) string {
	v := url.Values{}
	for k, vs := range params {
		v[k] = append([]string(nil), vs...)
	}
	v.Del(paramSig)
	v.Set(paramUser, strconv.FormatInt(userID, 10))
	v.Set(paramExpires, strconv.FormatInt(s.clock().Add(s.ttl).Unix(), 10))
	v.Set(paramSig, s.sign(path, v))
	return s.base + path + "?" + v.Encode()
}

// sign is the MAC of path and every parameter but sig, in url.Values' sorted encoding.
func (s *Signer) sign(path string, v url.Values) string {
	c := url.Values{}
	for k, vs := range v {
		if k != paramSig {
			c[k] = vs
		}
	}
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(path))
	m.Write([]byte{'\n'})
	m.Write([]byte(c.Encode()))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// Signed reports whether v carries a signature (and so should be checked with Verify
// rather than by the Authorization header).
func Signed(v url.Values) bool { return v.Has(paramSig) }

// Verify checks the signature and expiry of a request's path and query and returns the user
// it was signed for.
//
// Errors: ErrBadSignature, ErrExpired.
func (s *Signer) Verify(path string, v url.Values) (int64, error) {
	got, err := base64.RawURLEncoding.DecodeString(v.Get(paramSig))
	if err != nil || len(v[paramSig]) != 1 {
		return 0, ErrBadSignature
	}
	want, _ := base64.RawURLEncoding.DecodeString(s.sign(path, v))
	if !hmac.Equal(got, want) {
		return 0, ErrBadSignature
	}
	exp, err := strconv.ParseInt(v.Get(paramExpires), 10, 64)
	if err != nil {
		return 0, ErrBadSignature
	}
	if !s.clock().Before(time.Unix(exp, 0)) {
		return 0, ErrExpired
	}
	uid, err := strconv.ParseInt(v.Get(paramUser), 10, 64)
	if err != nil || uid <= 0 {
		return 0, ErrBadSignature
	}
	return uid, nil
}
