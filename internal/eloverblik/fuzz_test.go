package eloverblik

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"regexp"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/originhub/originhub/internal/eloverblik/sim"
)

// parseResult is everything a parse delivered, for comparing two parses.
type parseResult struct {
	readings []Reading
	problems []string
	err      error
}

func parseCollect(data []byte, oneByte bool) parseResult {
	var res parseResult
	var r = bytes.NewReader(data)
	sink := Sink{
		Reading: func(rd Reading) error { res.readings = append(res.readings, rd); return nil },
		Problem: func(e *ReadingError) error {
			res.problems = append(res.problems, fmt.Sprintf("%s/%s/%d/%d", e.Kind, e.GSRN, e.Period, e.Position))
			return nil
		},
	}
	if oneByte {
		_, res.err = ParseTimeSeries(iotest.OneByteReader(r), sink)
	} else {
		_, res.err = ParseTimeSeries(r, sink)
	}
	return res
}

func simSeed(t testing.TB) []byte {
	s := sim.New(sim.Options{Seed: 1})
	g := s.Points("fuzz")[0].GSRN
	var buf bytes.Buffer
	from := time.Date(2024, 3, 30, 23, 0, 0, 0, time.UTC)
	if err := s.WriteTimeSeries(&buf, []string{g, "1"}, from, from.Add(30*time.Hour)); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func FuzzParseTimeSeries(f *testing.F) {
	f.Add(simSeed(f))
	f.Add([]byte(doc(ts("KWH", "PT15M", pt("1", `"0.1"`, "A04")+","+pt("2", `"0.2"`, "A03")+","+pt("3", `null`, "A04")))))
	f.Add([]byte(doc(ts("MWH", "PT1H", pt("1", `1.5`, "A04")+","+pt("1", `"x"`, "A02")))))
	f.Add([]byte(`{"result":[{"MyEnergyData_MarketDocument":null,"success":false,"errorCode":20000,"id":"1"}]}`))
	f.Add([]byte(`{"result":[{"x":"\u00e6\n"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		a := parseCollect(data, false)
		b := parseCollect(data, true)
		// Chunking must not change the outcome: every token that straddles a
		// refill is read the same way.
		if (a.err == nil) != (b.err == nil) || fmt.Sprint(a.readings) != fmt.Sprint(b.readings) || fmt.Sprint(a.problems) != fmt.Sprint(b.problems) {
			t.Fatalf("whole-buffer and one-byte parses differ:\n%v %v %v\n%v %v %v", a.err, a.readings, a.problems, b.err, b.readings, b.problems)
		}
		if a.err == nil && !json.Valid(data) {
			t.Fatalf("accepted invalid JSON %q", data)
		}
		for _, r := range a.readings {
			if r.GSRN == "" || r.Wh < 0 || !r.End.Equal(r.Begin.Add(time.Hour)) || r.Begin.Location() != time.UTC {
				t.Fatalf("bad reading %+v", r)
			}
		}
	})
}

func FuzzParseMeteringPoints(f *testing.F) {
	f.Add([]byte(`{"result":[{"meteringPointId":"571313180400240049","typeOfMP":"E18","postcode":"7000","streetName":"Lærkevej",
"childMeteringPoints":[{"meteringPointId":"1","typeOfMP":"D06"}],"new":{"x":1}},{"meteringPointId":5,"typeOfMP":"E20","postcode":null},7,{"typeOfMP":"E17"}]}`))
	f.Add([]byte(`{"result":null}`))
	f.Add([]byte(`{"result":[{"meteringPointId":"1","postcode":"abc"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		pts, problems, err := ParseMeteringPoints(bytes.NewReader(data))
		if err != nil {
			if pts != nil || problems != nil {
				t.Fatalf("error %v with results", err)
			}
			return
		}
		for _, p := range pts {
			if p.GSRN == "" {
				t.Fatalf("point without GSRN: %+v", p)
			}
			want := map[string]Kind{"E17": KindConsumption, "E18": KindProduction}[p.TypeOfMP]
			if want == "" {
				want = KindOther
			}
			if p.Kind != want {
				t.Fatalf("typeOfMP %q kind %q, want %q", p.TypeOfMP, p.Kind, want)
			}
			if s, err := p.Sector(); err == nil && s != SectorDK1 && s != SectorDK2 {
				t.Fatalf("sector %q", s)
			}
		}
	})
}

var plainDecimal = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?$`)

func FuzzParseQuantity(f *testing.F) {
	for _, s := range []string{"0", "1.0", "0.0019", "123456.789", "9223372036854775.807", "-1", "1e3", ".5", "00.10"} {
		f.Add(s, uint8(3))
	}
	f.Add("1.5", uint8(6))
	f.Fuzz(func(t *testing.T, s string, scale uint8) {
		sc := int(scale % 7)
		got, err := parseQuantity([]byte(s), sc)
		if !plainDecimal.MatchString(s) {
			if err == nil {
				t.Fatalf("parseQuantity(%q) = %d, want an error", s, got)
			}
			return
		}
		// Reference: floor(s × 10^scale) with exact rationals.
		r, ok := new(big.Rat).SetString(s)
		if !ok {
			t.Fatalf("big.Rat rejects %q", s)
		}
		r.Mul(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(sc)), nil)))
		want := new(big.Int).Quo(r.Num(), r.Denom())
		if !want.IsInt64() {
			if err == nil {
				t.Fatalf("parseQuantity(%q, %d) = %d, want out of range", s, sc, got)
			}
			return
		}
		if err != nil || got != want.Int64() {
			t.Fatalf("parseQuantity(%q, %d) = %d, %v; want %d", s, sc, got, err, want.Int64())
		}
	})
}

// TestParserReusable checks that a Parser gives the same answer on reuse
// (its buffers are reset between documents).
func TestParserReusable(t *testing.T) {
	body := simSeed(t)
	var p Parser
	var first string
	for i := range 3 {
		var out strings.Builder
		st, err := p.Parse(bytes.NewReader(body), Sink{Reading: func(r Reading) error { fmt.Fprintln(&out, r); return nil }})
		if err != nil || st.Readings != 30 || st.Problems != 1 {
			t.Fatalf("Parse() #%d = %+v, %v; want 30 readings and 1 problem", i, st, err)
		}
		if i == 0 {
			first = out.String()
		} else if out.String() != first {
			t.Fatalf("Parse() #%d differs from the first", i)
		}
	}
}
