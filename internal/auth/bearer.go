package auth

import (
	"fmt"
	"strings"
)

// maxTokenLen bounds what we are willing to parse: real access tokens are a
// few hundred bytes to a few KB, and a bound keeps a hostile header from
// costing more than a string compare.
const maxTokenLen = 16 << 10

// BearerToken extracts the token from an Authorization header value of the
// form "Bearer <token>" (the scheme is case-insensitive, RFC 7235). An empty
// value returns ErrMissingToken; any other scheme, a missing token, a token
// with inner whitespace or an oversized one returns ErrMalformedToken.
func BearerToken(headerValue string) (string, error) {
	v := strings.TrimSpace(headerValue)
	if v == "" {
		return "", ErrMissingToken
	}
	scheme, token, ok := strings.Cut(v, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", fmt.Errorf("%w: authorization scheme is not Bearer", ErrMalformedToken)
	}
	token = strings.TrimSpace(token)
	switch {
	case token == "":
		return "", fmt.Errorf("%w: empty bearer token", ErrMalformedToken)
	case len(token) > maxTokenLen:
		return "", fmt.Errorf("%w: token longer than %d bytes", ErrMalformedToken, maxTokenLen)
	case strings.ContainsAny(token, " \t\r\n"):
		return "", fmt.Errorf("%w: whitespace inside bearer token", ErrMalformedToken)
	}
	return token, nil
}
