package ledger

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
)

// Tx is an unsigned transaction: who signs it, what it asks and which
// addresses it may touch. NewBatch signs it, because the transaction header
// names the batch signer.
type Tx struct {
	Signer  *Key
	Family  Family
	Inputs  []string
	Outputs []string
	Payload []byte
}

// NewTx builds a Tx from req with explicit inputs and outputs and no
// client-side checks. Prefer the per-family constructors (PublishMeasurement,
// IssueGGO, …), which refuse what the real processor would silently accept;
// NewTx exists for tests that must build such transactions.
func NewTx(signer *Key, req Request, inputs, outputs []string) (Tx, error) {
	if signer == nil {
		return Tx{}, errors.New("new tx: nil signer")
	}
	p, err := req.Payload()
	if err != nil {
		return Tx{}, fmt.Errorf("new tx: %w", err)
	}
	return Tx{Signer: signer, Family: req.Family(), Inputs: inputs, Outputs: outputs, Payload: p}, nil
}

// SignedTx is a transaction as it goes into a batch.
type SignedTx struct {
	ID          string // header signature, 128 lowercase hex characters
	HeaderBytes []byte // serialized TransactionHeader (what was signed)
	Bytes       []byte // serialized Transaction
}

// Batch is a signed batch ready to POST.
type Batch struct {
	// ID is the batch header signature (128 lowercase hex characters), the
	// id /batch_statuses reports on.
	ID string
	// Bytes is the exact POST /batches body: a BatchList holding this one
	// batch. Resending these bytes can never create a second batch.
	Bytes []byte
	// HeaderBytes is the serialized BatchHeader; BatchBytes the Batch.
	HeaderBytes []byte
	BatchBytes  []byte
	// Transactions in batch order.
	Transactions []SignedTx
}

// TransactionIDs returns the ids of b's transactions in batch order.
func (b Batch) TransactionIDs() []string {
	ids := make([]string, len(b.Transactions))
	for i, t := range b.Transactions {
		ids[i] = t.ID
	}
	return ids
}

// NewBatch signs txs in order (each with its own signer, naming batcher as
// batch signer), wraps them in a batch signed by batcher, and encodes the
// BatchList body. The nonce stays empty, as the Python SDK leaves it, so the
// same transactions signed by the same keys always give the same ids; two
// identical transactions in one batch are therefore refused.
func NewBatch(batcher *Key, txs ...Tx) (Batch, error) {
	if batcher == nil {
		return Batch{}, errors.New("new batch: nil batcher")
	}
	if len(txs) == 0 {
		return Batch{}, errors.New("new batch: no transactions")
	}
	out := Batch{Transactions: make([]SignedTx, len(txs))}
	ids := make([]string, len(txs))
	headers := make([][]byte, len(txs))
	signers := make([]*secp256k1.PrivateKey, len(txs))
	digests := make([][32]byte, len(txs))
	for i, tx := range txs {
		hb, err := txHeader(batcher, tx)
		if err != nil {
			return Batch{}, fmt.Errorf("new batch: transaction %d: %w", i, err)
		}
		headers[i], signers[i], digests[i] = hb, tx.Signer.priv, sha256.Sum256(hb)
	}
	// Signed together: they share the costliest step (see batchcurve.go).
	sigs := signDigests(signers, digests)
	seen := make(map[string]bool, len(txs))
	for i, tx := range txs {
		id := hex.EncodeToString(sigs[i][:])
		if seen[id] {
			return Batch{}, fmt.Errorf("new batch: transaction %d duplicates an earlier one", i)
		}
		seen[id] = true
		t := Transaction{HeaderBytes: headers[i], HeaderSignature: id, Payload: tx.Payload}
		out.Transactions[i], ids[i] = SignedTx{ID: id, HeaderBytes: headers[i], Bytes: t.Marshal()}, id
	}
	bh := BatchHeader{SignerPublicKey: batcher.PublicKeyHex(), TransactionIDs: ids}
	out.HeaderBytes = bh.Marshal()
	out.ID = batcher.SignHex(out.HeaderBytes)
	bm := appendBytes(nil, 1, out.HeaderBytes)
	bm = appendString(bm, 2, out.ID)
	for _, st := range out.Transactions {
		bm = appendBytesAlways(bm, 3, st.Bytes)
	}
	out.BatchBytes = bm
	out.Bytes = MarshalBatchList(bm)
	return out, nil
}

func txHeader(batcher *Key, tx Tx) ([]byte, error) {
	if tx.Signer == nil {
		return nil, errors.New("nil signer")
	}
	sum := sha512.Sum512(tx.Payload)
	h := TransactionHeader{
		BatcherPublicKey: batcher.PublicKeyHex(),
		FamilyName:       string(tx.Family),
		FamilyVersion:    FamilyVersion,
		Inputs:           tx.Inputs,
		Outputs:          tx.Outputs,
		PayloadSHA512:    hex.EncodeToString(sum[:]),
		SignerPublicKey:  tx.Signer.PublicKeyHex(),
	}
	return h.Marshal(), nil
}
