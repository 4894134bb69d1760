// Package ledger builds what OriginHub sends to the Project Origin ledger
// (Hyperledger Sawtooth 1.2 with the datahub transaction processor), byte
// for byte as the Python Origin-Ledger-SDK does:
//
//   - keys: BIP32 master keys from a seed, non-hardened derivation on the
//     Project Origin paths (m/0/k traded GGOs, m/1/i metering points,
//     m/1/i/t measurement hours), xprv import/export, AES-GCM sealing at rest;
//   - signatures: ECDSA secp256k1 over SHA-256, RFC 6979 nonces, low-S,
//     64-byte r||s; Verify refuses high-S as libsecp256k1 does;
//   - addresses of the GGO, MEASUREMENT and SETTLEMENT namespaces;
//   - the six request payloads (json.dumps style), transaction and batch
//     headers, transactions, batches and BatchLists (proto3), and decoding
//     of a BatchList.
//
// The per-family constructors (PublishMeasurement, IssueGGO, TransferGGO,
// SplitGGO, RetireGGO) refuse what the real processor would accept but
// should not (spec section 12); NewBatch signs their transactions and
// returns the exact POST /batches body. The REST client is in package
// rest, the stand-in ledger in package standin.
//
// Known limit: measurement key indices are Unix seconds and become hardened
// on 2038-01-19T03:14:08Z; MeasurementIndex fails from then on.
package ledger
