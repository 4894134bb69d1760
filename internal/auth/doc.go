// Package auth authenticates API callers with JWT bearer tokens.
//
// A Verifier checks a token's signature against a JSON Web Key Set (fetched
// from an OIDC issuer such as Hydra and kept fresh in the background, or a
// static set for the dev issuer), then its exp, nbf, iss and aud claims. Only
// asymmetric algorithms are accepted: "none" and HMAC tokens are refused
// whatever the key set contains, because a JWKS that leaks a shared secret
// must never let a caller mint tokens.
//
// A DevIssuer is the stand-in identity provider used by `serve` when no
// AUTH_JWKS_URL is configured: it keeps one ES256 key in the database, mints
// tokens for the `token` command and serves its public keys as a JWKS.
//
// The authenticated caller travels in the request context as a Subject
// (WithSubject/SubjectFrom). A token that was sent but failed verification is
// recorded with WithError so the GraphQL layer can answer UNAUTHENTICATED; the
// HTTP middleware itself never answers 401 and never logs tokens.
package auth
