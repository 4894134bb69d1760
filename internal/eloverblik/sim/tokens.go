package sim

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

func (s *Simulator) handleToken(w http.ResponseWriter, r *http.Request) {
	tok := bearer(r)
	if tok == "" || (s.refresh != "" && !hmac.Equal([]byte(tok), []byte(s.refresh))) {
		writeError(w, http.StatusUnauthorized, "InvalidRefreshToken")
		return
	}
	writeJSON(w, map[string]string{"result": s.issueToken()})
}

// issueToken makes an HS256 JWT with exp and the current revocation
// generation. Verification is stateless, so issuing tokens costs no memory.
func (s *Simulator) issueToken() string {
	s.mu.Lock()
	s.issued++
	gen, jti := s.generation, s.issued
	s.mu.Unlock()
	exp := s.now().Add(s.ttl).Unix()
	enc := base64.RawURLEncoding
	head := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	body := enc.EncodeToString(fmt.Appendf(nil, `{"exp":%d,"gen":%d,"jti":%d}`, exp, gen, jti))
	mac := hmac.New(sha256.New, s.key)
	mac.Write([]byte(head + "." + body))
	return head + "." + body + "." + enc.EncodeToString(mac.Sum(nil))
}

func (s *Simulator) validToken(tok string) bool {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return false
	}
	mac := hmac.New(sha256.New, s.key)
	mac.Write([]byte(parts[0] + "." + parts[1]))
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || !hmac.Equal(sig, mac.Sum(nil)) {
		return false
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return false
	}
	var claims struct {
		Exp int64  `json:"exp"`
		Gen uint64 `json:"gen"`
	}
	if json.Unmarshal(raw, &claims) != nil {
		return false
	}
	s.mu.Lock()
	gen := s.generation
	s.mu.Unlock()
	return claims.Gen == gen && s.now().Unix() < claims.Exp
}

// data guards a data route with a live data token.
func (s *Simulator) data(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !s.validToken(bearer(r)) {
			writeError(w, http.StatusUnauthorized, "InvalidToken")
			return
		}
		h(w, r)
	}
}
