package ledger

import (
	"errors"
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
)

// Hand-written proto3 encoding of Sawtooth 1.2 transaction.proto and
// batch.proto. Fields go in ascending number order and proto3 defaults are
// omitted, which is what Python protobuf 3.11 and Go proto.Marshal both do;
// the vectors pin the result byte for byte.

// TransactionHeader is Sawtooth's TransactionHeader message.
type TransactionHeader struct {
	BatcherPublicKey string   // 1
	Dependencies     []string // 2
	FamilyName       string   // 3
	FamilyVersion    string   // 4
	Inputs           []string // 5
	Nonce            string   // 6
	Outputs          []string // 7
	PayloadSHA512    string   // 9
	SignerPublicKey  string   // 10
}

// BatchHeader is Sawtooth's BatchHeader message.
type BatchHeader struct {
	SignerPublicKey string   // 1
	TransactionIDs  []string // 2
}

// Transaction is Sawtooth's Transaction message with its header kept as the
// exact bytes that were signed.
type Transaction struct {
	HeaderBytes     []byte // 1
	HeaderSignature string // 2
	Payload         []byte // 3
}

// BatchMessage is Sawtooth's Batch message with its header kept as the exact
// bytes that were signed.
type BatchMessage struct {
	HeaderBytes     []byte        // 1
	HeaderSignature string        // 2
	Transactions    []Transaction // 3
	Trace           bool          // 4
}

func appendString(b []byte, num protowire.Number, s string) []byte {
	if s == "" {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, s)
}

func appendBytes(b []byte, num protowire.Number, v []byte) []byte {
	if len(v) == 0 {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, v)
}

// appendBytesAlways writes one element of a repeated field, which proto3
// encodes even when it is empty.
func appendBytesAlways(b []byte, num protowire.Number, v []byte) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, v)
}

func appendRepeated(b []byte, num protowire.Number, ss []string) []byte {
	for _, s := range ss {
		b = protowire.AppendTag(b, num, protowire.BytesType)
		b = protowire.AppendString(b, s)
	}
	return b
}

// Marshal encodes h.
func (h *TransactionHeader) Marshal() []byte {
	b := make([]byte, 0, 512)
	b = appendString(b, 1, h.BatcherPublicKey)
	b = appendRepeated(b, 2, h.Dependencies)
	b = appendString(b, 3, h.FamilyName)
	b = appendString(b, 4, h.FamilyVersion)
	b = appendRepeated(b, 5, h.Inputs)
	b = appendString(b, 6, h.Nonce)
	b = appendRepeated(b, 7, h.Outputs)
	b = appendString(b, 9, h.PayloadSHA512)
	return appendString(b, 10, h.SignerPublicKey)
}

// Marshal encodes h.
func (h *BatchHeader) Marshal() []byte {
	b := make([]byte, 0, 80+131*len(h.TransactionIDs))
	b = appendString(b, 1, h.SignerPublicKey)
	return appendRepeated(b, 2, h.TransactionIDs)
}

// Marshal encodes t.
func (t *Transaction) Marshal() []byte {
	return t.appendTo(make([]byte, 0, len(t.HeaderBytes)+len(t.Payload)+140))
}

func (t *Transaction) appendTo(b []byte) []byte {
	b = appendBytes(b, 1, t.HeaderBytes)
	b = appendString(b, 2, t.HeaderSignature)
	return appendBytes(b, 3, t.Payload)
}

// Marshal encodes m.
func (m *BatchMessage) Marshal() []byte {
	b := appendBytes(nil, 1, m.HeaderBytes)
	b = appendString(b, 2, m.HeaderSignature)
	for i := range m.Transactions {
		b = appendBytesAlways(b, 3, m.Transactions[i].Marshal())
	}
	if m.Trace {
		b = protowire.AppendTag(b, 4, protowire.VarintType)
		b = protowire.AppendVarint(b, 1)
	}
	return b
}

// MarshalBatchList encodes a BatchList of already encoded Batch messages.
func MarshalBatchList(batches ...[]byte) []byte {
	var b []byte
	for _, bb := range batches {
		b = appendBytesAlways(b, 1, bb)
	}
	return b
}

// ErrMalformed is returned (wrapped) for bytes that are not a valid message.
var ErrMalformed = errors.New("malformed protobuf")

// walk calls fn for every field of a message; unknown fields are skipped as
// protobuf parsers do, wrong wire types for known fields are errors in fn.
func walk(b []byte, fn func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return fmt.Errorf("%w: %v", ErrMalformed, protowire.ParseError(n))
		}
		b = b[n:]
		var (
			v []byte
			x uint64
		)
		switch typ {
		case protowire.BytesType:
			v, n = protowire.ConsumeBytes(b)
		case protowire.VarintType:
			x, n = protowire.ConsumeVarint(b)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return fmt.Errorf("%w: %v", ErrMalformed, protowire.ParseError(n))
		}
		b = b[n:]
		if err := fn(num, typ, v, x); err != nil {
			return err
		}
	}
	return nil
}

func wantBytes(num protowire.Number, typ protowire.Type) error {
	if typ != protowire.BytesType {
		return fmt.Errorf("%w: field %d has wire type %d", ErrMalformed, num, typ)
	}
	return nil
}

// UnmarshalTransactionHeader decodes a TransactionHeader.
func UnmarshalTransactionHeader(b []byte) (TransactionHeader, error) {
	var h TransactionHeader
	err := walk(b, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		if num > 10 || num == 8 {
			return nil
		}
		if err := wantBytes(num, typ); err != nil {
			return err
		}
		s := string(v)
		switch num {
		case 1:
			h.BatcherPublicKey = s
		case 2:
			h.Dependencies = append(h.Dependencies, s)
		case 3:
			h.FamilyName = s
		case 4:
			h.FamilyVersion = s
		case 5:
			h.Inputs = append(h.Inputs, s)
		case 6:
			h.Nonce = s
		case 7:
			h.Outputs = append(h.Outputs, s)
		case 9:
			h.PayloadSHA512 = s
		case 10:
			h.SignerPublicKey = s
		}
		return nil
	})
	return h, err
}

// UnmarshalBatchHeader decodes a BatchHeader.
func UnmarshalBatchHeader(b []byte) (BatchHeader, error) {
	var h BatchHeader
	err := walk(b, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		if num != 1 && num != 2 {
			return nil
		}
		if err := wantBytes(num, typ); err != nil {
			return err
		}
		if num == 1 {
			h.SignerPublicKey = string(v)
		} else {
			h.TransactionIDs = append(h.TransactionIDs, string(v))
		}
		return nil
	})
	return h, err
}

func unmarshalTransaction(b []byte) (Transaction, error) {
	var t Transaction
	err := walk(b, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		if num < 1 || num > 3 {
			return nil
		}
		if err := wantBytes(num, typ); err != nil {
			return err
		}
		switch num {
		case 1:
			t.HeaderBytes = v
		case 2:
			t.HeaderSignature = string(v)
		case 3:
			t.Payload = v
		}
		return nil
	})
	return t, err
}

func unmarshalBatch(b []byte) (BatchMessage, error) {
	var m BatchMessage
	err := walk(b, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		switch num {
		case 1, 2, 3:
			if err := wantBytes(num, typ); err != nil {
				return err
			}
		case 4:
			if typ != protowire.VarintType {
				return fmt.Errorf("%w: field 4 has wire type %d", ErrMalformed, typ)
			}
		}
		switch num {
		case 1:
			m.HeaderBytes = v
		case 2:
			m.HeaderSignature = string(v)
		case 3:
			t, err := unmarshalTransaction(v)
			if err != nil {
				return err
			}
			m.Transactions = append(m.Transactions, t)
		case 4:
			m.Trace = x != 0
		}
		return nil
	})
	return m, err
}

// UnmarshalBatchList decodes a BatchList (the POST /batches body). The
// returned slices alias b.
func UnmarshalBatchList(b []byte) ([]BatchMessage, error) {
	var out []BatchMessage
	err := walk(b, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		if num != 1 {
			return nil
		}
		if err := wantBytes(num, typ); err != nil {
			return err
		}
		m, err := unmarshalBatch(v)
		if err != nil {
			return err
		}
		out = append(out, m)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
