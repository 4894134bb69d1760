package ledger

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"
	"time"

	"github.com/originhub/originhub/internal/ledger/vectors"
)

// Every byte and signature in the vectors must be reproduced.

func loadVectors(t testing.TB, name string, v any) {
	t.Helper()
	if err := vectors.Decode(name, v); err != nil {
		t.Fatal(err)
	}
}

type keyVector struct {
	Name      string `json:"name"`
	Path      string `json:"path"`
	Priv      string `json:"private_key_hex"`
	Pub       string `json:"public_key_compressed_hex"`
	ChainCode string `json:"chain_code_hex"`
	Xprv      string `json:"xprv"`
	Xpub      string `json:"xpub"`
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func seedMaster(t *testing.T) *Key {
	t.Helper()
	var v struct {
		Seed string `json:"seed_hex"`
	}
	loadVectors(t, "keys.json", &v)
	m, err := NewMasterKey(mustHex(t, v.Seed))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func derive(t *testing.T, m *Key, path string) *Key {
	t.Helper()
	k, err := m.DerivePath(path)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func checkKey(t *testing.T, k *Key, want keyVector) {
	t.Helper()
	if got := hex.EncodeToString(k.PrivateKey()); got != want.Priv {
		t.Errorf("%s private = %s, want %s", want.Path, got, want.Priv)
	}
	if got := k.PublicKeyHex(); got != want.Pub {
		t.Errorf("%s public = %s, want %s", want.Path, got, want.Pub)
	}
	if want.ChainCode != "" && hex.EncodeToString(k.ChainCode()) != want.ChainCode {
		t.Errorf("%s chain code differs", want.Path)
	}
	if got := k.ExtendedKey(); got != want.Xprv {
		t.Errorf("%s xprv = %s, want %s", want.Path, got, want.Xprv)
	}
	if got := k.ExtendedPublicKey(); got != want.Xpub {
		t.Errorf("%s xpub = %s, want %s", want.Path, got, want.Xpub)
	}
}

func TestKeyVectors(t *testing.T) {
	var v struct {
		Keys []keyVector `json:"keys"`
	}
	loadVectors(t, "keys.json", &v)
	m := seedMaster(t)
	for _, kv := range v.Keys {
		t.Run(kv.Name, func(t *testing.T) {
			k := derive(t, m, kv.Path)
			checkKey(t, k, kv)
			back, err := ParseExtendedKey(kv.Xprv)
			if err != nil {
				t.Fatal(err)
			}
			checkKey(t, back, kv)
		})
	}
}

type signingVectors struct {
	Published struct {
		BIP32 struct {
			Seed string      `json:"seed_hex"`
			Rows []keyVector `json:"rows"`
		} `json:"bip32_test_vector_1"`
		Sawtooth struct {
			Vectors []struct {
				Priv string `json:"private_key_hex"`
				Pub  string `json:"public_key_hex"`
				Msg  string `json:"message_utf8"`
				Sig  string `json:"signature_hex"`
			} `json:"vectors"`
		} `json:"sawtooth_signing_unit_test"`
		SDK struct {
			Entropy string `json:"entropy_utf8"`
			Priv    string `json:"private_key_hex"`
			Pub     string `json:"public_key_hex"`
			Msg     string `json:"message_utf8"`
			Sig     string `json:"signature_hex"`
		} `json:"ledger_sdk_python_unit_test"`
	} `json:"cross_checked_published"`
	Self struct {
		Master struct {
			Path string `json:"path"`
			Pub  string `json:"public_key_hex"`
			Msg  string `json:"message_utf8"`
			Sig  string `json:"signature_hex"`
		} `json:"sign_with_seed01_master"`
		HighS struct {
			Pub string `json:"public_key_hex"`
			Msg string `json:"message_utf8"`
			Sig string `json:"signature_hex"`
		} `json:"high_s_twin_must_be_rejected"`
	} `json:"self_computed"`
}

func TestSigningVectors(t *testing.T) {
	var v signingVectors
	loadVectors(t, "signing.json", &v)

	t.Run("bip32 vector 1", func(t *testing.T) {
		m, err := NewMasterKey(mustHex(t, v.Published.BIP32.Seed))
		if err != nil {
			t.Fatal(err)
		}
		for _, row := range v.Published.BIP32.Rows {
			checkKey(t, derive(t, m, row.Path), row)
		}
	})
	t.Run("sawtooth signer", func(t *testing.T) {
		for _, sv := range v.Published.Sawtooth.Vectors {
			// A Key from a raw private key: wrap it as a depth-0 xprv.
			k := keyFromPriv(t, mustHex(t, sv.Priv))
			if k.PublicKeyHex() != sv.Pub {
				t.Errorf("public = %s, want %s", k.PublicKeyHex(), sv.Pub)
			}
			if got := k.SignHex([]byte(sv.Msg)); got != sv.Sig {
				t.Errorf("Sign(%q) = %s, want %s", sv.Msg, got, sv.Sig)
			}
			if err := VerifyHex(sv.Pub, []byte(sv.Msg), sv.Sig); err != nil {
				t.Errorf("Verify(%q) = %v", sv.Msg, err)
			}
		}
	})
	t.Run("ledger sdk", func(t *testing.T) {
		sdk := v.Published.SDK
		m, err := NewMasterKey([]byte(sdk.Entropy))
		if err != nil {
			t.Fatal(err)
		}
		if hex.EncodeToString(m.PrivateKey()) != sdk.Priv || m.PublicKeyHex() != sdk.Pub {
			t.Fatalf("master key differs")
		}
		if got := m.SignHex([]byte(sdk.Msg)); got != sdk.Sig {
			t.Errorf("Sign = %s, want %s", got, sdk.Sig)
		}
	})
	t.Run("seed01 master", func(t *testing.T) {
		s := v.Self.Master
		m := seedMaster(t)
		if m.PublicKeyHex() != s.Pub {
			t.Fatalf("public key differs")
		}
		if got := m.SignHex([]byte(s.Msg)); got != s.Sig {
			t.Errorf("Sign = %s, want %s", got, s.Sig)
		}
	})
	t.Run("high-S twin rejected", func(t *testing.T) {
		h := v.Self.HighS
		err := VerifyHex(h.Pub, []byte(h.Msg), h.Sig)
		if !errors.Is(err, ErrHighS) {
			t.Errorf("Verify(high-S) = %v, want %v", err, ErrHighS)
		}
		if err := VerifyHex(h.Pub, []byte(h.Msg), v.Published.SDK.Sig); err != nil {
			t.Errorf("Verify(low-S twin) = %v", err)
		}
	})
}

func TestVerifyRejects(t *testing.T) {
	m := seedMaster(t)
	msg := []byte("Project Origin")
	sig := m.Sign(msg)
	other := derive(t, m, "m/0/0")
	zero := make([]byte, 64)
	tampered := bytes.Clone(sig)
	tampered[10] ^= 1
	tests := []struct {
		name string
		pub  []byte
		msg  []byte
		sig  []byte
		want error
	}{
		{"valid", m.PublicKey(), msg, sig, nil},
		{"tampered", m.PublicKey(), msg, tampered, ErrSignature},
		{"other message", m.PublicKey(), []byte("x"), sig, ErrSignature},
		{"other key", other.PublicKey(), msg, sig, ErrSignature},
		{"zero", m.PublicKey(), msg, zero, ErrBadSignature},
		{"short", m.PublicKey(), msg, sig[:63], ErrBadSignature},
		{"bad key", []byte{2, 1}, msg, sig, ErrBadPublicKey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := Verify(tc.pub, tc.msg, tc.sig); !errors.Is(err, tc.want) {
				t.Errorf("Verify() = %v, want %v", err, tc.want)
			}
		})
	}
}

func keyFromPriv(t *testing.T, priv []byte) *Key {
	t.Helper()
	// Base58Check-encode a depth-0 xprv around priv; the chain code does not
	// matter for signing.
	m := seedMaster(t)
	ext := *m.ext
	ext.Key = priv
	k, err := newKey(&ext)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestAddressVectors(t *testing.T) {
	var v struct {
		Namespaces map[string]string `json:"namespaces"`
		Detailed   []struct {
			Prefix  string `json:"prefix"`
			Pub     string `json:"public_key_compressed_hex"`
			Address string `json:"address"`
		} `json:"detailed"`
		Scenario map[string]string `json:"scenario_addresses"`
	}
	loadVectors(t, "addresses.json", &v)
	for p, ns := range v.Namespaces {
		if got := Prefix(p).Namespace(); got != ns {
			t.Errorf("Namespace(%s) = %s, want %s", p, got, ns)
		}
		if got := AddressOf(Prefix(p), make([]byte, 33))[:6]; got != ns {
			t.Errorf("AddressOf(%s) namespace = %s, want %s", p, got, ns)
		}
	}
	for _, d := range v.Detailed {
		if got := AddressOf(Prefix(d.Prefix), mustHex(t, d.Pub)); got != d.Address {
			t.Errorf("AddressOf(%s, %s) = %s, want %s", d.Prefix, d.Pub, got, d.Address)
		}
		// A key's three addresses are computed together, from the hash they share.
		ggo, meas, settle := addressesOf(mustHex(t, d.Pub))
		if got := map[Prefix]string{PrefixGGO: ggo, PrefixMeasurement: meas, PrefixSettlement: settle}[Prefix(d.Prefix)]; got != d.Address {
			t.Errorf("addressesOf(%s) for %s = %s, want %s", d.Pub, d.Prefix, got, d.Address)
		}
	}
	m := seedMaster(t)
	keys := map[string]struct {
		path   string
		prefix Prefix
	}{
		"MEAS_P": {"m/1/0/1577836800", PrefixMeasurement},
		"GGO_P":  {"m/1/0/1577836800", PrefixGGO},
		"SETT_P": {"m/1/0/1577836800", PrefixSettlement},
		"MEAS_C": {"m/1/1/1577836800", PrefixMeasurement},
		"GGO_C":  {"m/1/1/1577836800", PrefixGGO},
		"SETT_C": {"m/1/1/1577836800", PrefixSettlement},
		"GGO_U0": {"m/0/0", PrefixGGO},
		"GGO_U1": {"m/0/1", PrefixGGO},
		"GGO_U2": {"m/0/2", PrefixGGO},
	}
	for name, want := range v.Scenario {
		kp := keys[name]
		if got := derive(t, m, kp.path).Address(kp.prefix); got != want {
			t.Errorf("%s = %s, want %s", name, got, want)
		}
		if err := CheckAddress(kp.prefix, want); err != nil {
			t.Errorf("CheckAddress(%s) = %v", name, err)
		}
	}
	// The path helpers give the same keys as textual paths.
	begin := time.Date(2020, 1, 1, 0, 0, 12, 0, time.UTC)
	mp, _ := m.MeteringPointKey(0)
	mk, err := mp.MeasurementKey(begin)
	if err != nil {
		t.Fatal(err)
	}
	if got := mk.Address(PrefixMeasurement); got != v.Scenario["MEAS_P"] {
		t.Errorf("MeasurementKey address = %s", got)
	}
	g2, _ := m.TradedGGOKey(2)
	if got := g2.Address(PrefixGGO); got != v.Scenario["GGO_U2"] {
		t.Errorf("TradedGGOKey(2) address = %s", got)
	}
}

func TestCheckAddress(t *testing.T) {
	good := "849c0b10fb9221c02ea0813358a8774fe33b9c62e970ff38470819127070a625b94013"
	tests := []struct {
		name string
		p    Prefix
		a    string
		want error
	}{
		{"good", PrefixGGO, good, nil},
		{"namespace", PrefixMeasurement, good, ErrAddressNamespace},
		{"checksum", PrefixGGO, good[:69] + "4", ErrAddressChecksum},
		{"upper", PrefixGGO, "849C0B" + good[6:], ErrAddressFormat},
		{"short", PrefixGGO, good[:68], ErrAddressFormat},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := CheckAddress(tc.p, tc.a); !errors.Is(err, tc.want) {
				t.Errorf("CheckAddress() = %v, want %v", err, tc.want)
			}
		})
	}
}
