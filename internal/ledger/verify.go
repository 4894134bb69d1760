package ledger

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/decred/dcrd/dcrec/secp256k1/v4/ecdsa"
)

// Verification errors.
var (
	ErrBadPublicKey = errors.New("public key does not parse as a secp256k1 point")
	ErrBadSignature = errors.New("signature is not 64 bytes r||s with r, s in [1, n-1]")
	ErrHighS        = errors.New("signature s is in the upper half of the order")
	ErrSignature    = errors.New("signature does not verify")
)

// Verify checks a 64-byte r||s signature over SHA-256(msg) with the SEC1
// public key pub, with libsecp256k1's rules as the Sawtooth validator applies
// them: r and s in [1, n-1] and s in the lower half. decred's Verify alone
// accepts high-S signatures, so that check is explicit here.
func Verify(pub, msg, sig []byte) error {
	pk, err := secp256k1.ParsePubKey(pub)
	if err != nil {
		return ErrBadPublicKey
	}
	if len(sig) != 64 {
		return ErrBadSignature
	}
	var r, s secp256k1.ModNScalar
	if r.SetByteSlice(sig[:32]) || s.SetByteSlice(sig[32:]) || r.IsZero() || s.IsZero() {
		return ErrBadSignature
	}
	if s.IsOverHalfOrder() {
		return ErrHighS
	}
	d := sha256.Sum256(msg)
	if !ecdsa.NewSignature(&r, &s).Verify(d[:], pk) {
		return ErrSignature
	}
	return nil
}

// VerifyHex is Verify with the public key and signature in hex, as they
// appear in Sawtooth headers.
func VerifyHex(pubHex string, msg []byte, sigHex string) error {
	pub, err := hex.DecodeString(pubHex)
	if err != nil {
		return ErrBadPublicKey
	}
	sig, err := hex.DecodeString(sigHex)
	if err != nil {
		return ErrBadSignature
	}
	return Verify(pub, msg, sig)
}
