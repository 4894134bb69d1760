package ledger

import (
	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/decred/dcrd/dcrec/secp256k1/v4/ecdsa"
)

// A public key and an ECDSA signature each take one curve multiplication and one field
// inversion (to bring the product to affine coordinates); the inversion is a third of the
// cost. Operations that make many keys or sign many transactions at once share it:
// Montgomery's trick inverts n values with one inversion and 3(n-1) multiplications.
// What comes out is byte for byte what the one-at-a-time functions give (tested).

// invertFields replaces each of zs, none of them zero, by its inverse.
func invertFields(zs []secp256k1.FieldVal) {
	if len(zs) == 0 {
		return
	}
	prefix := make([]secp256k1.FieldVal, len(zs)) // prefix[i] = zs[0]·…·zs[i-1]
	var acc secp256k1.FieldVal
	acc.SetInt(1)
	for i := range zs {
		prefix[i] = acc
		acc.Mul(&zs[i])
	}
	acc.Inverse() // 1/(zs[0]·…·zs[n-1])
	for i := len(zs) - 1; i >= 0; i-- {
		var inv secp256k1.FieldVal
		inv.Mul2(&acc, &prefix[i])
		acc.Mul(&zs[i])
		zs[i] = inv
	}
}

// invertScalars replaces each of ks, none of them zero, by its inverse modulo the group
// order.
func invertScalars(ks []secp256k1.ModNScalar) {
	if len(ks) == 0 {
		return
	}
	prefix := make([]secp256k1.ModNScalar, len(ks))
	var acc secp256k1.ModNScalar
	acc.SetInt(1)
	for i := range ks {
		prefix[i] = acc
		acc.Mul(&ks[i])
	}
	acc.InverseNonConst()
	for i := len(ks) - 1; i >= 0; i-- {
		var inv secp256k1.ModNScalar
		inv.Mul2(&acc, &prefix[i])
		acc.Mul(&ks[i])
		ks[i] = inv
	}
}

// baseMults returns ks[i]·G in affine coordinates for each of ks (none zero), as
// secp256k1.PrivateKey.PubKey computes each.
func baseMults(ks []secp256k1.ModNScalar) []secp256k1.JacobianPoint {
	pts := make([]secp256k1.JacobianPoint, len(ks))
	zs := make([]secp256k1.FieldVal, len(ks))
	for i := range ks {
		secp256k1.ScalarBaseMultNonConst(&ks[i], &pts[i])
		zs[i] = pts[i].Z
	}
	invertFields(zs)
	for i := range pts {
		var zz secp256k1.FieldVal
		zz.SquareVal(&zs[i])
		pts[i].X.Mul(&zz).Normalize()
		pts[i].Y.Mul(zz.Mul(&zs[i])).Normalize()
		pts[i].Z.SetInt(1)
	}
	return pts
}

// signDigests signs each digest with the private key at the same index, as ecdsa.Sign does
// (RFC 6979 nonce, low S), and returns the signatures as r||s.
func signDigests(privs []*secp256k1.PrivateKey, digests [][32]byte) [][64]byte {
	nonces := make([]secp256k1.ModNScalar, len(privs))
	for i, p := range privs {
		kb := p.Key.Bytes()
		nonces[i] = *secp256k1.NonceRFC6979(kb[:], digests[i][:], nil, nil, 0)
		clear(kb[:])
	}
	points := baseMults(nonces)
	invertScalars(nonces) // now k⁻¹
	out := make([][64]byte, len(privs))
	for i, p := range privs {
		var r, e, s secp256k1.ModNScalar
		rb := points[i].X.Bytes()
		r.SetBytes(rb) // r = x(kG) mod n
		e.SetByteSlice(digests[i][:])
		s.Mul2(&p.Key, &r).Add(&e).Mul(&nonces[i])
		if r.IsZero() || s.IsZero() {
			// Never seen in practice (about 2⁻²⁵⁶): ecdsa.Sign tries the next nonce.
			sig := ecdsa.Sign(p, digests[i][:])
			r, s = sig.R(), sig.S()
		} else if s.IsOverHalfOrder() {
			s.Negate()
		}
		r.PutBytesUnchecked(out[i][:32])
		s.PutBytesUnchecked(out[i][32:])
		nonces[i].Zero()
	}
	return out
}
