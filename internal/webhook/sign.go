package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"time"
)

// Headers of every delivery.
const (
	HeaderEvent     = "X-OriginHub-Event"     // the event, e.g. GGO_RECEIVED
	HeaderDelivery  = "X-OriginHub-Delivery"  // the event id, the same on every attempt: deduplicate on it
	HeaderTimestamp = "X-OriginHub-Timestamp" // unix seconds when the attempt was signed
	HeaderSignature = "X-OriginHub-Signature" // "sha256=" + hex HMAC-SHA256(secret, timestamp + "." + body)
)

// Sign returns the X-OriginHub-Signature value for body sent at unix time timestamp:
// "sha256=" followed by the lowercase hex HMAC-SHA256 of `timestamp + "." + body` under
// secret. The timestamp is inside the MAC, so a captured request cannot be replayed later
// with a fresh timestamp.
func Sign(secret string, timestamp int64, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(strconv.FormatInt(timestamp, 10)))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// Verify checks a delivery as a receiver should: timestamp and signature are the raw
// X-OriginHub-Timestamp and X-OriginHub-Signature header values and body is the raw
// request body. It fails with ErrStaleTimestamp when the timestamp is more than maxAge
// away from now (a replay or a skewed clock), and with ErrBadSignature when the signature
// does not match; the comparison takes constant time.
func Verify(secret, timestamp string, body []byte, signature string, maxAge time.Duration) error {
	return VerifyAt(secret, timestamp, body, signature, maxAge, time.Now().UTC())
}

// VerifyAt is Verify with the current time given.
func VerifyAt(secret, timestamp string, body []byte, signature string, maxAge time.Duration, now time.Time) error {
	ts, err := strconv.ParseInt(strings.TrimSpace(timestamp), 10, 64)
	if err != nil {
		return ErrStaleTimestamp
	}
	age := now.Sub(time.Unix(ts, 0))
	if age > maxAge || age < -maxAge {
		return ErrStaleTimestamp
	}
	want := Sign(secret, ts, body)
	if !hmac.Equal([]byte(want), []byte(strings.TrimSpace(signature))) {
		return ErrBadSignature
	}
	return nil
}
