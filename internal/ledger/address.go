package ledger

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
)

// Prefix is one of the three address prefix words of the datahub processor.
type Prefix string

// The prefix words; their namespaces are the first 3 bytes of SHA-512 of
// the word: GGO 849c0b, MEASUREMENT 5a9839, SETTLEMENT ba4817.
const (
	PrefixGGO         Prefix = "GGO"
	PrefixMeasurement Prefix = "MEASUREMENT"
	PrefixSettlement  Prefix = "SETTLEMENT"
)

// AddressLen is the length of an address in hex characters (35 bytes).
const AddressLen = 70

// Address errors, returned wrapped by CheckAddress.
var (
	ErrAddressFormat    = errors.New("address is not 70 lowercase hex characters")
	ErrAddressNamespace = errors.New("address is in the wrong namespace")
	ErrAddressChecksum  = errors.New("address checksum does not match")
)

// Namespace returns the 6-hex-character namespace of p.
func (p Prefix) Namespace() string {
	// The three known words are on every hot path; TestAddressVectors
	// checks these constants against the hash.
	switch p {
	case PrefixGGO:
		return "849c0b"
	case PrefixMeasurement:
		return "5a9839"
	case PrefixSettlement:
		return "ba4817"
	}
	h := sha512.Sum512([]byte(p))
	return hex.EncodeToString(h[:3])
}

// AddressOf computes the address of the compressed public key pub in the
// namespace of p: hex(ns || SHA-224(SHA-512(pub)) || SHA-512(SHA-512(ns||h))[:4]).
func AddressOf(p Prefix, pub []byte) string { return addressOf(p, pub) }

func addressOf(p Prefix, pub []byte) string {
	k := sha512.Sum512(pub)
	h := sha256.Sum224(k[:])
	ns := sha512.Sum512([]byte(p))
	return addressFrom(ns[:3], &h)
}

// addressesOf returns the three addresses of pub: a key owns its address in each namespace,
// and they share the hash of pub.
func addressesOf(pub []byte) (ggo, measurement, settlement string) {
	k := sha512.Sum512(pub)
	h := sha256.Sum224(k[:])
	return addressFrom(nsGGO[:], &h), addressFrom(nsMeasurement[:], &h), addressFrom(nsSettlement[:], &h)
}

// The namespaces of the three known prefixes as bytes (TestAddressVectors checks them).
var (
	nsGGO         = [3]byte{0x84, 0x9c, 0x0b}
	nsMeasurement = [3]byte{0x5a, 0x98, 0x39}
	nsSettlement  = [3]byte{0xba, 0x48, 0x17}
)

// addressFrom is the address with namespace ns of the key whose hash (SHA-224 of SHA-512) is h.
func addressFrom(ns []byte, h *[28]byte) string {
	var raw [35]byte
	copy(raw[:3], ns)
	copy(raw[3:31], h[:])
	c1 := sha512.Sum512(raw[:31])
	c2 := sha512.Sum512(c1[:])
	copy(raw[31:], c2[:4])
	return hex.EncodeToString(raw[:])
}

// IsAddressFormat reports whether a is exactly 70 lowercase hex characters,
// the only form the processor can read or write.
func IsAddressFormat(a string) bool {
	if len(a) != AddressLen {
		return false
	}
	for i := 0; i < len(a); i++ {
		c := a[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// KeyPart returns characters 6-61 of an address: the part that identifies
// the key, shared by the GGO, MEASUREMENT and SETTLEMENT addresses of one key.
func KeyPart(a string) string {
	if len(a) < 62 {
		return ""
	}
	return a[6:62]
}

// CheckAddress verifies format, namespace and checksum of a, which the real
// processor never does (spec section 12) but a careful client must.
func CheckAddress(p Prefix, a string) error {
	if !IsAddressFormat(a) {
		return fmt.Errorf("address %q: %w", a, ErrAddressFormat)
	}
	if a[:6] != p.Namespace() {
		return fmt.Errorf("address %q is not a %s address: %w", a, p, ErrAddressNamespace)
	}
	raw, _ := hex.DecodeString(a)
	c1 := sha512.Sum512(raw[:31])
	c2 := sha512.Sum512(c1[:])
	if hex.EncodeToString(c2[:4]) != a[62:] {
		return fmt.Errorf("address %q: %w", a, ErrAddressChecksum)
	}
	return nil
}
