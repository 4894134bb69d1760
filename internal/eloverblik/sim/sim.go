// Package sim is a deterministic simulator of the ElOverblik ThirdParty API
// (and of the EnergyTypeService look-up), served over HTTP so that the real
// client is exercised exactly as against the real API. `serve` mounts it at
// /sim/eloverblik when ELOVERBLIK_SERVICE_URL is not set; tests start it on
// an httptest server.
//
// # Routes (relative to the mount point)
//
//	GET  /api/Token
//	    Bearer: the refresh token. Options.RefreshToken when set, otherwise
//	    any non-empty token. Answers {"result":"<data token>"}; the data
//	    token is a JWT (HS256, simulator key) whose exp is now + TokenTTL.
//	GET  /api/Authorization/Authorization/MeteringPoints/customerKey/{key}
//	    {"result":[…]} in the §4.3 shape; empty until the customer granted access.
//	GET  /api/Authorization/Authorizations
//	    {"result":[{id, customerKey, customerName, thirdPartyName, validFrom, validTo, includeFutureMeteringPoints}]}
//	POST /api/MeterData/GetTimeSeries/{YYYY-MM-DD}/{YYYY-MM-DD}/Hour
//	    body {"meteringPoints":{"meteringPoint":["<gsrn>",…]}}; §4.4 shape,
//	    Danish days [from, to), hours up to the clock's current hour. A GSRN
//	    without a grant gets success=false, errorCode ErrorCodeNoAccess.
//	POST /api/MeteringPoints/MeteringPoint/GetDetails
//	    same body; {"result":[{"result":{meteringPointId, typeOfMP, mpCapacity,
//	    address…},"success":true,"errorCode":"10000",…}]}, success=false per
//	    GSRN without a grant.
//	GET  /get-energy-type?gsrn=
//	    {"success":true,"technologyCode":…,"fuelCode":…} for production
//	    points, else {"success":false,"message":…}. No token needed.
//	GET  /onboarding?thirdPartyId&fromDate&toDate&customerKey&returnUrl
//	POST /onboarding (form: the same fields plus decision=grant|deny)
//	    See onboarding.go.
//
// Every data route needs a live data token (401 otherwise: missing, forged,
// expired, or issued before RevokeTokens).
//
// # Data
//
// A customer's points are a function of (Seed, customerKey): 1–3 production
// points (solar or wind, with technology and fuel codes from the technology
// table) and 1–3 consumption points (household or business), in DK1 or DK2
// by postcode. Hourly values are a function of (Seed, GSRN, hour) only; see
// Simulator.Wh.
package sim

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // Europe/Copenhagen must resolve on machines without zoneinfo
)

// Options configures a Simulator.
type Options struct {
	// Seed makes every customer, GSRN and value reproducible.
	Seed int64
	// Clock returns the current time (default time.Now().UTC()). It drives
	// token expiry and how far time series reach.
	Clock func() time.Time
	// TokenTTL is the lifetime of data tokens (default 24 h, as ElOverblik).
	TokenTTL time.Duration
	// RefreshToken, when set, is the only refresh token /api/Token accepts.
	RefreshToken string
	// EstimateWindow, when positive, makes hours younger than this (by
	// Clock) arrive as estimates: quality A03 and a value up to ±10 % off.
	// Once older they carry the final value (Wh) with quality A04, so an
	// importer that re-fetches a trailing window sees corrections. Zero (the
	// default) sends final values at once.
	EstimateWindow time.Duration
	// ThirdPartyName is shown on the onboarding page and in authorizations
	// (default "OriginHub").
	ThirdPartyName string
}

// Simulator is the simulated API. It is safe for concurrent use.
type Simulator struct {
	seed     uint64
	now      func() time.Time
	ttl      time.Duration
	estimate time.Duration
	refresh  string
	name     string
	key      []byte
	loc      *time.Location

	mu         sync.Mutex // guards everything below
	customers  map[string][]Point
	owners     map[string]string // gsrn → customerKey
	grants     map[string]grant  // customerKey → grant
	generation uint64            // data tokens of older generations are revoked
	issued     uint64
	faults     []fault
	requests   map[string]int
}

type grant struct {
	thirdPartyID, from, to string
	at                     time.Time
}

// New returns a Simulator.
func New(opts Options) *Simulator {
	s := &Simulator{
		seed:      uint64(opts.Seed),
		now:       opts.Clock,
		ttl:       opts.TokenTTL,
		estimate:  opts.EstimateWindow,
		refresh:   opts.RefreshToken,
		name:      opts.ThirdPartyName,
		customers: map[string][]Point{},
		owners:    map[string]string{},
		grants:    map[string]grant{},
		requests:  map[string]int{},
	}
	if s.now == nil {
		s.now = func() time.Time { return time.Now().UTC() }
	}
	if s.ttl <= 0 {
		s.ttl = 24 * time.Hour
	}
	if s.name == "" {
		s.name = "OriginHub"
	}
	k := sha256.Sum256(binary.BigEndian.AppendUint64([]byte("originhub-eloverblik-sim"), s.seed))
	s.key = k[:]
	loc, err := time.LoadLocation("Europe/Copenhagen")
	if err != nil {
		loc = time.FixedZone("CET", 3600) // unreachable: time/tzdata is linked in
	}
	s.loc = loc
	return s
}

// Points returns the customer's simulated metering points (whether or not
// access was granted), deriving them on first use.
func (s *Simulator) Points(customerKey string) []Point {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Point(nil), s.derivePoints(customerKey)...)
}

// Grant gives this third party access to the customer's points, as the
// onboarding page does.
func (s *Simulator) Grant(customerKey string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.grantLocked(customerKey, grant{at: s.now()})
}

func (s *Simulator) grantLocked(customerKey string, g grant) {
	s.derivePoints(customerKey)
	s.grants[customerKey] = g
}

// Granted reports whether the customer has granted access.
func (s *Simulator) Granted(customerKey string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.grants[customerKey]
	return ok
}

// RevokeTokens invalidates every data token issued so far, so the next data
// call gets 401 (to test the client's refresh-on-401).
func (s *Simulator) RevokeTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.generation++
}

// Requests returns how many requests reached the route whose path starts
// with prefix (counted before fault injection, so failed ones count too).
func (s *Simulator) Requests(prefix string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for p, c := range s.requests {
		if strings.HasPrefix(p, prefix) {
			n += c
		}
	}
	return n
}

// Fault is an injected answer that replaces the real one.
type Fault struct {
	// Status is the HTTP status (default 200 when Body is set, else 500).
	Status int
	// Body is sent as is; when empty, a small ElOverblik-style error JSON is
	// sent. Use a truncated or invalid body with Status 200 to test
	// malformed responses.
	Body string
	// RetryAfter, when set, is sent as the Retry-After header.
	RetryAfter string
}

type fault struct {
	prefix string
	left   int
	f      Fault
}

// FailNext makes the next n requests whose path starts with prefix answer
// with status (e.g. FailNext("/api/MeterData", 429, 1) for "429 then
// success").
func (s *Simulator) FailNext(prefix string, status, n int) {
	s.Inject(prefix, n, Fault{Status: status})
}

// Inject makes the next n requests whose path starts with prefix answer with
// f. Faults queue in the order they were injected.
func (s *Simulator) Inject(prefix string, n int, f Fault) {
	if n <= 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, fault{prefix: prefix, left: n, f: f})
}

// takeFault counts the request and returns the fault to apply, if any.
func (s *Simulator) takeFault(path string) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests[path]++
	for i := range s.faults {
		ft := &s.faults[i]
		if ft.left > 0 && strings.HasPrefix(path, ft.prefix) {
			ft.left--
			f := ft.f
			if ft.left == 0 {
				s.faults = append(s.faults[:i], s.faults[i+1:]...)
			}
			return f, true
		}
	}
	return Fault{}, false
}

// Handler serves the API. Mount it with http.StripPrefix.
func (s *Simulator) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/Token", s.handleToken)
	mux.HandleFunc("GET /api/Authorization/Authorization/MeteringPoints/customerKey/{key}", s.data(s.handleMeteringPoints))
	mux.HandleFunc("GET /api/Authorization/Authorizations", s.data(s.handleAuthorizations))
	mux.HandleFunc("POST /api/MeterData/GetTimeSeries/{from}/{to}/{agg}", s.data(s.handleTimeSeries))
	mux.HandleFunc("POST /api/MeteringPoints/MeteringPoint/GetDetails", s.data(s.handleDetails))
	mux.HandleFunc("GET /get-energy-type", s.handleEnergyType)
	mux.HandleFunc("GET /onboarding", s.handleOnboardingPage)
	mux.HandleFunc("POST /onboarding", s.handleOnboardingGrant)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f, ok := s.takeFault(r.URL.Path); ok {
			writeFault(w, f)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

func writeFault(w http.ResponseWriter, f Fault) {
	status := f.Status
	if status == 0 {
		status = http.StatusInternalServerError
		if f.Body != "" {
			status = http.StatusOK
		}
	}
	if f.RetryAfter != "" {
		w.Header().Set("Retry-After", f.RetryAfter)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if f.Body != "" {
		_, _ = w.Write([]byte(f.Body))
		return
	}
	_, _ = fmt.Fprintf(w, `{"errorCode":"%d","errorText":%q}`, status, http.StatusText(status))
}

func writeError(w http.ResponseWriter, status int, text string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"errorCode": strconv.Itoa(status), "errorText": text})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
