package eloverblik

import (
	"bytes"
	"encoding/json"
	"io"
	"testing"
	"time"

	"github.com/originhub/originhub/internal/eloverblik/sim"
)

// benchBody is a GetTimeSeries response for 10 points over a year:
// 87,840 readings, about 7 MB.
func benchBody(b *testing.B) (body []byte, readings int) {
	b.Helper()
	s := sim.New(sim.Options{Seed: 1})
	var gsrns []string
	for i := 0; len(gsrns) < 10; i++ {
		for _, p := range s.Points(string(rune('a' + i))) {
			gsrns = append(gsrns, p.GSRN)
		}
	}
	gsrns = gsrns[:10]
	from := time.Date(2023, 12, 31, 23, 0, 0, 0, time.UTC)
	to := from.AddDate(1, 0, 1)
	var buf bytes.Buffer
	if err := s.WriteTimeSeries(&buf, gsrns, from, to); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes(), 10 * int(to.Sub(from)/time.Hour)
}

// BenchmarkParseTimeSeries measures the streaming parser: readings/s is the
// figure the import path is sized by.
func BenchmarkParseTimeSeries(b *testing.B) {
	body, n := benchBody(b)
	var p Parser
	var sum int64
	sink := Sink{Reading: func(r Reading) error { sum += r.Wh; return nil }}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	start := time.Now()
	for b.Loop() {
		st, err := p.Parse(bytes.NewReader(body), sink)
		if err != nil || st.Readings != int64(n) {
			b.Fatalf("Parse() = %+v, %v; want %d readings", st, err, n)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/time.Since(start).Seconds(), "readings/s")
}

// BenchmarkDecodeTimeSeriesStdlib is the baseline: encoding/json decoding
// the same body into structs (materialising the whole document, without
// even converting quantities).
func BenchmarkDecodeTimeSeriesStdlib(b *testing.B) {
	body, n := benchBody(b)
	type point struct {
		Position string `json:"position"`
		Quantity string `json:"out_Quantity.quantity"`
		Quality  string `json:"out_Quantity.quality"`
	}
	var doc struct {
		Result []struct {
			Doc struct {
				TimeSeries []struct {
					MRID   string `json:"mRID"`
					Period []struct {
						Resolution   string `json:"resolution"`
						TimeInterval struct{ Start, End string }
						Point        []point `json:"Point"`
					} `json:"Period"`
				} `json:"TimeSeries"`
			} `json:"MyEnergyData_MarketDocument"`
		} `json:"result"`
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	start := time.Now()
	for b.Loop() {
		doc.Result = nil
		if err := json.Unmarshal(body, &doc); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/time.Since(start).Seconds(), "readings/s")
}

// BenchmarkSimulatorToParser streams the simulator's output through an
// io.Pipe into the parser, as `bench ingest` will: nothing is materialised,
// so memory stays flat whatever the number of readings.
func BenchmarkSimulatorToParser(b *testing.B) {
	s := sim.New(sim.Options{Seed: 1})
	var gsrns []string
	for i := 0; len(gsrns) < 10; i++ {
		for _, p := range s.Points(string(rune('a' + i))) {
			gsrns = append(gsrns, p.GSRN)
		}
	}
	gsrns = gsrns[:10]
	from := time.Date(2023, 12, 31, 23, 0, 0, 0, time.UTC)
	to := from.AddDate(1, 0, 1)
	n := 10 * int(to.Sub(from)/time.Hour)
	var p Parser
	sink := Sink{Reading: func(Reading) error { return nil }}
	b.ReportAllocs()
	start := time.Now()
	for b.Loop() {
		pr, pw := io.Pipe()
		go func() { pw.CloseWithError(s.WriteTimeSeries(pw, gsrns, from, to)) }()
		st, err := p.Parse(pr, sink)
		if err != nil || st.Readings != int64(n) {
			b.Fatalf("Parse() = %+v, %v; want %d readings", st, err, n)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/time.Since(start).Seconds(), "readings/s")
}
