package ledger

import (
	"fmt"
	"testing"
	"time"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
)

// BenchmarkEncodeSign measures transactions encoded and signed per second
// on one goroutine: each iteration builds n transfer transactions (payload,
// header, signature) and the batch around them (header, signature, list).
func BenchmarkEncodeSign(b *testing.B) {
	m, err := NewMasterKey(make([]byte, 32))
	if err != nil {
		b.Fatal(err)
	}
	const keys = 64
	owners := make([]*Key, keys)
	for i := range owners {
		if owners[i], err = m.TradedGGOKey(uint32(i)); err != nil {
			b.Fatal(err)
		}
	}
	// Distinct destinations per position so no batch repeats a transaction.
	dests := make([]string, 100)
	for i := range dests {
		var priv [32]byte
		priv[31], priv[30] = byte(i+1), 0x5a
		dests[i] = AddressOf(PrefixGGO, secp256k1.PrivKeyFromBytes(priv[:]).PubKey().SerializeCompressed())
	}
	for _, n := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("tx_per_batch=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			txs := make([]Tx, n)
			start := time.Now()
			count := 0
			for b.Loop() {
				for j := range txs {
					o := owners[(count+j)%keys]
					if txs[j], err = TransferGGO(o, o.Address(PrefixGGO), dests[j]); err != nil {
						b.Fatal(err)
					}
				}
				if _, err := NewBatch(m, txs...); err != nil {
					b.Fatal(err)
				}
				count += n
			}
			b.ReportMetric(float64(count)/time.Since(start).Seconds(), "tx/s")
		})
	}
}
