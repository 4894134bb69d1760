package sim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestPointsDeterministic(t *testing.T) {
	a, b, other := New(Options{Seed: 7}), New(Options{Seed: 7}), New(Options{Seed: 8})
	pa, pb, po := a.Points("alice"), b.Points("alice"), other.Points("alice")
	if fmt.Sprint(pa) != fmt.Sprint(pb) {
		t.Errorf("same seed gave different points:\n%v\n%v", pa, pb)
	}
	if fmt.Sprint(pa) == fmt.Sprint(po) {
		t.Errorf("different seeds gave the same points: %v", pa)
	}
	at := time.Date(2024, 6, 1, 11, 0, 0, 0, time.UTC)
	for _, p := range pa {
		if a.Wh(p.GSRN, at) != b.Wh(p.GSRN, at) {
			t.Errorf("Wh(%s) differs between simulators with the same seed", p.GSRN)
		}
	}
}

func TestPointsShape(t *testing.T) {
	s := New(Options{Seed: 1})
	seen := map[string]string{}
	sectors := map[string]int{}
	profiles := map[Profile]int{}
	for i := range 2000 {
		key := fmt.Sprintf("customer-%d", i)
		pts := s.Points(key)
		var prod, cons int
		for _, p := range pts {
			if owner, dup := seen[p.GSRN]; dup {
				t.Fatalf("GSRN %s of %s already belongs to %s", p.GSRN, key, owner)
			}
			seen[p.GSRN] = key
			if got, ok := ProfileOf(p.GSRN); !ok || got != p.Profile || !strings.HasPrefix(p.GSRN, "5713131") {
				t.Fatalf("GSRN %s: ProfileOf = %v, %v; want %v", p.GSRN, got, ok, p.Profile)
			}
			wantSector := "DK1"
			if p.Postcode < "5000" {
				wantSector = "DK2"
			}
			if p.Sector != wantSector {
				t.Errorf("%s postcode %s sector %s, want %s", p.GSRN, p.Postcode, p.Sector, wantSector)
			}
			sectors[p.Sector]++
			profiles[p.Profile]++
			switch p.Profile {
			case ProfileSolar, ProfileWind:
				prod++
				if p.TypeOfMP != "E18" || p.TechnologyCode == "" || p.FuelCode == "" {
					t.Errorf("production point %+v lacks E18 or codes", p)
				}
			default:
				cons++
				if p.TypeOfMP != "E17" || p.TechnologyCode != "" {
					t.Errorf("consumption point %+v", p)
				}
			}
		}
		if prod < 1 || prod > 3 || cons < 1 || cons > 3 {
			t.Errorf("%s has %d production and %d consumption points, want 1–3 each", key, prod, cons)
		}
	}
	if sectors["DK1"] == 0 || sectors["DK2"] == 0 || len(profiles) != 4 {
		t.Errorf("sectors %v profiles %v: want both sectors and all four profiles", sectors, profiles)
	}
}

func TestProfileOfRejects(t *testing.T) {
	s := New(Options{Seed: 1})
	good := s.Points("x")[0].GSRN
	bad := []string{"", "123", "571313100000000001", good[:17] + string('0'+(good[17]-'0'+1)%10), "5713139" + good[7:], "a" + good[1:]}
	for _, g := range bad {
		if _, ok := ProfileOf(g); ok {
			t.Errorf("ProfileOf(%q) ok, want rejected", g)
		}
	}
	if _, ok := ProfileOf(good); !ok {
		t.Errorf("ProfileOf(%q) rejected", good)
	}
}

// dayWh sums a point's energy over the Danish-ish UTC day starting at day.
func dayWh(s *Simulator, gsrn string, day time.Time) (sum int64, byHour [24]int64) {
	for h := range 24 {
		v := s.Wh(gsrn, day.Add(time.Duration(h)*time.Hour))
		byHour[h] = v
		sum += v
	}
	return sum, byHour
}

func TestProfiles(t *testing.T) {
	s := New(Options{Seed: 3})
	winter := time.Date(2024, 1, 10, 0, 0, 0, 0, time.UTC)
	summer := time.Date(2024, 6, 20, 0, 0, 0, 0, time.UTC)
	for i := range 50 {
		for _, p := range s.Points(fmt.Sprintf("c%d", i)) {
			ws, wh := dayWh(s, p.GSRN, winter)
			ss, sh := dayWh(s, p.GSRN, summer)
			for h := range 24 {
				if wh[h] < 0 || sh[h] < 0 {
					t.Fatalf("%s negative value", p.GSRN)
				}
			}
			switch p.Profile {
			case ProfileSolar:
				if wh[0] != 0 || sh[0] != 0 || wh[22] != 0 {
					t.Errorf("solar %s produces at night: %v", p.GSRN, wh)
				}
				if sh[11] == 0 || ss <= ws {
					t.Errorf("solar %s: summer noon %d, summer day %d ≤ winter day %d", p.GSRN, sh[11], ss, ws)
				}
			case ProfileHousehold:
				if ws < 2000 || ws > 40000 {
					t.Errorf("household %s uses %d Wh on a winter day", p.GSRN, ws)
				}
			}
		}
	}
}

func TestWindVaries(t *testing.T) {
	s := New(Options{Seed: 5})
	g := makeGSRN(ProfileWind, 99)
	start := time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC)
	lo, hi := int64(1)<<62, int64(0)
	var prev int64 = -1
	maxStep := int64(0)
	for h := range 24 * 30 {
		v := s.Wh(g, start.Add(time.Duration(h)*time.Hour))
		lo, hi = min(lo, v), max(hi, v)
		if prev >= 0 {
			maxStep = max(maxStep, abs(v-prev))
		}
		prev = v
	}
	if hi <= lo*3 || hi == 0 {
		t.Errorf("wind over a month ranges %d..%d Wh, want weather-like variation", lo, hi)
	}
	if maxStep > hi/2 {
		t.Errorf("wind jumps %d Wh in one hour (max %d), want smooth", maxStep, hi)
	}
}

func abs(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

func TestWriteTimeSeriesShape(t *testing.T) {
	s := New(Options{Seed: 9, Clock: func() time.Time { return time.Date(2024, 11, 1, 0, 0, 0, 0, time.UTC) }})
	g := s.Points("k")[0].GSRN
	from := time.Date(2024, 10, 26, 22, 0, 0, 0, time.UTC) // 2024-10-27 00:00 CEST, a 25-hour day
	to := time.Date(2024, 10, 28, 23, 0, 0, 0, time.UTC)   // 2024-10-29 00:00 CET
	var buf bytes.Buffer
	if err := s.WriteTimeSeries(&buf, []string{g, "123"}, from, to); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Result []struct {
			Doc *struct {
				TimeSeries []struct {
					MRID   string `json:"mRID"`
					Unit   string `json:"measurement_Unit.name"`
					Period []struct {
						Resolution   string `json:"resolution"`
						TimeInterval struct {
							Start, End time.Time
						} `json:"timeInterval"`
						Point []struct {
							Position string `json:"position"`
							Quantity string `json:"out_Quantity.quantity"`
							Quality  string `json:"out_Quantity.quality"`
						} `json:"Point"`
					} `json:"Period"`
				} `json:"TimeSeries"`
			} `json:"MyEnergyData_MarketDocument"`
			Success   bool   `json:"success"`
			ErrorCode string `json:"errorCode"`
			ID        string `json:"id"`
		} `json:"result"`
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("output is not JSON: %v", err)
	}
	if len(doc.Result) != 2 || !doc.Result[0].Success || doc.Result[0].ErrorCode != "10000" || doc.Result[1].Success || doc.Result[1].Doc != nil {
		t.Fatalf("result entries = %+v", doc.Result)
	}
	ts := doc.Result[0].Doc.TimeSeries[0]
	if ts.MRID != g || ts.Unit != "KWH" || len(ts.Period) != 2 {
		t.Fatalf("TimeSeries mRID %s unit %s periods %d", ts.MRID, ts.Unit, len(ts.Period))
	}
	wantLen := []int{25, 24}
	for i, p := range ts.Period {
		if p.Resolution != "PT1H" || len(p.Point) != wantLen[i] || p.TimeInterval.End.Sub(p.TimeInterval.Start) != time.Duration(wantLen[i])*time.Hour {
			t.Errorf("period %d: %s, %d points, %v..%v; want %d hours", i, p.Resolution, len(p.Point), p.TimeInterval.Start, p.TimeInterval.End, wantLen[i])
		}
		for j, pt := range p.Point {
			begin := p.TimeInterval.Start.Add(time.Duration(j) * time.Hour)
			wh := s.Wh(g, begin)
			want := fmt.Sprintf("%d.%03d", wh/1000, wh%1000)
			if pt.Position != fmt.Sprint(j+1) || pt.Quantity != want {
				t.Fatalf("period %d point %d = %s %s, want %d %s", i, j, pt.Position, pt.Quantity, j+1, want)
			}
		}
	}
}

func TestTokens(t *testing.T) {
	var now atomic.Int64
	now.Store(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Unix())
	s := New(Options{Seed: 1, Clock: func() time.Time { return time.Unix(now.Load(), 0).UTC() }, TokenTTL: time.Minute, RefreshToken: "r"})
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	get := func(path, tok string) int {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	tok := s.issueToken()
	const mps = "/api/Authorization/Authorizations"
	tests := []struct {
		name, path, tok string
		want            int
	}{
		{"refresh token accepted", "/api/Token", "r", 200},
		{"wrong refresh token", "/api/Token", "x", 401},
		{"no refresh token", "/api/Token", "", 401},
		{"data token accepted", mps, tok, 200},
		{"refresh token is no data token", mps, "r", 401},
		{"forged data token", mps, tok[:len(tok)-2] + "AA", 401},
		{"no data token", mps, "", 401},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := get(tc.path, tc.tok); got != tc.want {
				t.Errorf("GET %s = %d, want %d", tc.path, got, tc.want)
			}
		})
	}
	now.Add(120)
	if got := get(mps, tok); got != 401 {
		t.Errorf("expired token: GET = %d, want 401", got)
	}
	tok = s.issueToken()
	s.RevokeTokens()
	if got := get(mps, tok); got != 401 {
		t.Errorf("revoked token: GET = %d, want 401", got)
	}
}

func TestFaultsQueueInOrder(t *testing.T) {
	s := New(Options{Seed: 1})
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	s.FailNext("/api/Token", 429, 1)
	s.FailNext("/api/Token", 500, 2)
	var got []int
	for range 4 {
		req, _ := http.NewRequest("GET", srv.URL+"/api/Token", nil)
		req.Header.Set("Authorization", "Bearer any")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		got = append(got, resp.StatusCode)
	}
	if fmt.Sprint(got) != "[429 500 500 200]" {
		t.Errorf("statuses = %v, want [429 500 500 200]", got)
	}
	if n := s.Requests("/api/Token"); n != 4 {
		t.Errorf("Requests = %d, want 4", n)
	}
}

// BenchmarkWriteTimeSeries measures the generator the ingest benchmark
// feeds the parser with.
func BenchmarkWriteTimeSeries(b *testing.B) {
	s := New(Options{Seed: 1})
	var gsrns []string
	for _, key := range []string{"a", "b", "c", "d"} {
		for _, p := range s.Points(key) {
			gsrns = append(gsrns, p.GSRN)
		}
	}
	from := time.Date(2023, 12, 31, 23, 0, 0, 0, time.UTC)
	to := from.AddDate(1, 0, 1)
	n := len(gsrns) * int(to.Sub(from)/time.Hour)
	b.ReportAllocs()
	start := time.Now()
	for b.Loop() {
		if err := s.WriteTimeSeries(io.Discard, gsrns, from, to); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/time.Since(start).Seconds(), "readings/s")
}
