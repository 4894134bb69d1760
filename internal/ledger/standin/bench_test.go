package standin_test

import (
	"bytes"
	"encoding/binary"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"

	"github.com/originhub/originhub/internal/ledger"
	"github.com/originhub/originhub/internal/ledger/standin"
	"github.com/originhub/originhub/internal/ledger/standin/standintest"
)

// BenchmarkCommit measures committed transactions per second through the
// stand-in: POST /batches (decode, verify every signature, queue in
// Postgres) and the commit rounds that apply them. Each iteration submits
// 100 batches of publish + issue (200 transactions, each on fresh
// addresses), as DataHub sends them, then commits them all. Building the
// batches is not timed.
func BenchmarkCommit(b *testing.B) {
	l := standintest.Ledger(b, standin.Options{})
	h := l.Handler()
	m, err := ledger.NewMasterKey(bytes.Repeat([]byte{1}, 32))
	if err != nil {
		b.Fatal(err)
	}
	mp, _ := m.MeteringPointKey(0)
	begin := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	const perIter = 100
	var n uint64
	build := func() [][]byte {
		bodies := make([][]byte, perIter)
		for i := range bodies {
			n++
			// A fresh key per hour without BIP32 derivation, which is not
			// what is measured here.
			var seed [32]byte
			binary.BigEndian.PutUint64(seed[24:], n)
			pub := secp256k1.PrivKeyFromBytes(seed[:]).PubKey().SerializeCompressed()
			maddr, gaddr := ledger.AddressOf(ledger.PrefixMeasurement, pub), ledger.AddressOf(ledger.PrefixGGO, pub)
			pubTx, err := ledger.PublishMeasurement(mp, ledger.Measurement{Address: maddr, Begin: begin, Sector: "DK1", Type: ledger.Production, Amount: 1000})
			if err != nil {
				b.Fatal(err)
			}
			iss, err := ledger.IssueGGO(mp, ledger.Issue{MeasurementAddress: maddr, GGOAddress: gaddr, TechType: "T020001", FuelType: "F01050100"})
			if err != nil {
				b.Fatal(err)
			}
			bt, err := ledger.NewBatch(mp, pubTx, iss)
			if err != nil {
				b.Fatal(err)
			}
			bodies[i] = bt.Bytes
		}
		return bodies
	}
	b.ReportAllocs()
	var elapsed time.Duration
	committed := 0
	for b.Loop() {
		b.StopTimer()
		bodies := build()
		b.StartTimer()
		start := time.Now()
		for _, body := range bodies {
			req := httptest.NewRequestWithContext(b.Context(), "POST", "/batches", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/octet-stream")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != 202 {
				b.Fatalf("POST = %d %s", rec.Code, rec.Body)
			}
		}
		for {
			k, err := l.CommitDue(b.Context())
			if err != nil {
				b.Fatal(err)
			}
			if k == 0 {
				break
			}
			committed += 2 * k
		}
		elapsed += time.Since(start)
	}
	b.ReportMetric(float64(committed)/elapsed.Seconds(), "tx/s")
}
