package auth

import "errors"

// Sentinel errors returned (wrapped) by BearerToken, (*Verifier).Verify and
// the middleware. Match them with errors.Is; the wrapping message says what
// exactly failed and never contains the token.
var (
	// ErrMissingToken means no token was presented.
	ErrMissingToken = errors.New("missing bearer token")
	// ErrMalformedToken means the Authorization header or the token is not
	// a well-formed compact JWS carrying a JSON claims set with exp.
	ErrMalformedToken = errors.New("malformed token")
	// ErrInvalidSignature means the signature does not verify, or no trusted
	// key has the token's kid.
	ErrInvalidSignature = errors.New("invalid token signature")
	// ErrExpired means exp is in the past (beyond the allowed clock skew).
	ErrExpired = errors.New("token expired")
	// ErrNotYetValid means nbf or iat is in the future (beyond the skew).
	ErrNotYetValid = errors.New("token not yet valid")
	// ErrWrongIssuer means iss is missing or is not the configured issuer.
	ErrWrongIssuer = errors.New("token has wrong issuer")
	// ErrWrongAudience means aud does not contain the configured audience.
	ErrWrongAudience = errors.New("token has wrong audience")
	// ErrAlgorithmNotAllowed means alg is "none", symmetric (HS*), unknown,
	// or does not match the key chosen by kid.
	ErrAlgorithmNotAllowed = errors.New("token algorithm not allowed")
	// ErrNoSubject means the token has no sub claim.
	ErrNoSubject = errors.New("token has no subject")
	// ErrJWKSUnavailable means the issuer's key set could not be fetched.
	// Unlike the others it says nothing about the caller, so it is not an
	// authentication failure (see Unauthenticated).
	ErrJWKSUnavailable = errors.New("jwks unavailable")
)

// Unauthenticated reports whether err says the caller's token is missing or
// bad, i.e. whether the API should answer UNAUTHENTICATED. It is false for
// ErrJWKSUnavailable and for errors from a subject hook (a database error
// while creating the user row), which are our fault, not the caller's.
func Unauthenticated(err error) bool {
	for _, target := range []error{
		ErrMissingToken, ErrMalformedToken, ErrInvalidSignature, ErrExpired,
		ErrNotYetValid, ErrWrongIssuer, ErrWrongAudience, ErrAlgorithmNotAllowed,
		ErrNoSubject,
	} {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}
