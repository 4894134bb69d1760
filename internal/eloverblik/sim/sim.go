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
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
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
	// ThirdPartyName is shown on the onboarding page and in authorizations
	// (default "OriginHub").
	ThirdPartyName string
}

// Simulator is the simulated API. It is safe for concurrent use.
type Simulator struct {
	seed    uint64
	now     func() time.Time
	ttl     time.Duration
	refresh string
	name    string
	key     []byte
	loc     *time.Location

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

func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

func (s *Simulator) handleToken(w http.ResponseWriter, r *http.Request) {
	tok := bearer(r)
	if tok == "" || (s.refresh != "" && !hmac.Equal([]byte(tok), []byte(s.refresh))) {
		writeError(w, http.StatusUnauthorized, "InvalidRefreshToken")
		return
	}
	writeJSON(w, map[string]string{"result": s.issueToken()})
}

// issueToken makes an HS256 JWT with exp and the current revocation
// generation. Verification is stateless, so issuing tokens costs no memory.
func (s *Simulator) issueToken() string {
	s.mu.Lock()
	s.issued++
	gen, jti := s.generation, s.issued
	s.mu.Unlock()
	exp := s.now().Add(s.ttl).Unix()
	enc := base64.RawURLEncoding
	head := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	body := enc.EncodeToString(fmt.Appendf(nil, `{"exp":%d,"gen":%d,"jti":%d}`, exp, gen, jti))
	mac := hmac.New(sha256.New, s.key)
	mac.Write([]byte(head + "." + body))
	return head + "." + body + "." + enc.EncodeToString(mac.Sum(nil))
}

func (s *Simulator) validToken(tok string) bool {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return false
	}
	mac := hmac.New(sha256.New, s.key)
	mac.Write([]byte(parts[0] + "." + parts[1]))
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || !hmac.Equal(sig, mac.Sum(nil)) {
		return false
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return false
	}
	var claims struct {
		Exp int64  `json:"exp"`
		Gen uint64 `json:"gen"`
	}
	if json.Unmarshal(raw, &claims) != nil {
		return false
	}
	s.mu.Lock()
	gen := s.generation
	s.mu.Unlock()
	return claims.Gen == gen && s.now().Unix() < claims.Exp
}

// data guards a data route with a live data token.
func (s *Simulator) data(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !s.validToken(bearer(r)) {
			writeError(w, http.StatusUnauthorized, "InvalidToken")
			return
		}
		h(w, r)
	}
}

type wireChild struct {
	MeteringPointID        string `json:"meteringPointId"`
	ParentMeteringPointID  string `json:"parentMeteringPointId"`
	TypeOfMP               string `json:"typeOfMP"`
	MeterReadingOccurrence string `json:"meterReadingOccurrence"`
	MeterNumber            string `json:"meterNumber"`
}

type wirePoint struct {
	MeteringPointID         string      `json:"meteringPointId"`
	TypeOfMP                string      `json:"typeOfMP"`
	AccessFrom              string      `json:"accessFrom"`
	AccessTo                string      `json:"accessTo"`
	StreetCode              string      `json:"streetCode"`
	StreetName              string      `json:"streetName"`
	BuildingNumber          string      `json:"buildingNumber"`
	FloorID                 string      `json:"floorId"`
	RoomID                  string      `json:"roomId"`
	Postcode                string      `json:"postcode"`
	CityName                string      `json:"cityName"`
	CitySubDivisionName     string      `json:"citySubDivisionName"`
	MunicipalityCode        string      `json:"municipalityCode"`
	LocationDescription     string      `json:"locationDescription"`
	SettlementMethod        string      `json:"settlementMethod"`
	MeterReadingOccurrence  string      `json:"meterReadingOccurrence"`
	FirstConsumerPartyName  string      `json:"firstConsumerPartyName"`
	SecondConsumerPartyName string      `json:"secondConsumerPartyName"`
	ConsumerCVR             string      `json:"consumerCVR"`
	DataAccessCVR           string      `json:"dataAccessCVR"`
	MeterNumber             string      `json:"meterNumber"`
	ConsumerStartDate       string      `json:"consumerStartDate"`
	ChildMeteringPoints     []wireChild `json:"childMeteringPoints"`
}

// accessLayout is ElOverblik's date format in metering-point responses.
const accessLayout = "01/02/2006 15:04:05"

func (s *Simulator) handleMeteringPoints(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	s.mu.Lock()
	g, ok := s.grants[key]
	var pts []Point
	if ok {
		pts = s.derivePoints(key)
	}
	s.mu.Unlock()
	from, to := g.at.AddDate(-3, 0, 0), g.at.AddDate(3, 0, 0)
	if t, err := time.Parse("2006-01-02", g.from); err == nil {
		from = t
	}
	if t, err := time.Parse("2006-01-02", g.to); err == nil {
		to = t
	}
	out := make([]wirePoint, 0, len(pts))
	for _, p := range pts {
		out = append(out, wirePoint{
			MeteringPointID: p.GSRN, TypeOfMP: p.TypeOfMP,
			AccessFrom: from.Format(accessLayout), AccessTo: to.Format(accessLayout),
			StreetCode: p.StreetCode, StreetName: p.StreetName, BuildingNumber: p.BuildingNumber,
			Postcode: p.Postcode, CityName: p.CityName, MunicipalityCode: p.MunicipalityCode,
			SettlementMethod: "E02", MeterReadingOccurrence: "PT1H",
			FirstConsumerPartyName: "Simulated customer", MeterNumber: p.GSRN[10:],
			ConsumerStartDate:   from.Format(accessLayout),
			ChildMeteringPoints: []wireChild{},
		})
	}
	writeJSON(w, map[string]any{"result": out})
}

func (s *Simulator) handleAuthorizations(w http.ResponseWriter, r *http.Request) {
	type auth struct {
		ID                          string `json:"id"`
		ThirdPartyName              string `json:"thirdPartyName"`
		ValidFrom                   string `json:"validFrom"`
		ValidTo                     string `json:"validTo"`
		CustomerName                string `json:"customerName"`
		CustomerCVR                 string `json:"customerCVR"`
		CustomerKey                 string `json:"customerKey"`
		IncludeFutureMeteringPoints bool   `json:"includeFutureMeteringPoints"`
		TimeStamp                   string `json:"timeStamp"`
	}
	s.mu.Lock()
	out := make([]auth, 0, len(s.grants))
	for key, g := range s.grants {
		h := mix(s.seed, fnv1a(key), 2)
		out = append(out, auth{
			ID:             fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", uint32(h), uint16(h>>32), h>>48&0xfff, h>>20&0xfff, h&0xffffffffffff),
			ThirdPartyName: s.name, ValidFrom: g.from, ValidTo: g.to,
			CustomerName: "Simulated customer", CustomerKey: key,
			IncludeFutureMeteringPoints: true, TimeStamp: g.at.Format(time.RFC3339),
		})
	}
	s.mu.Unlock()
	writeJSON(w, map[string]any{"result": out})
}

// maxTimeSeriesGSRNs bounds one time-series request.
const maxTimeSeriesGSRNs = 100

func (s *Simulator) handleTimeSeries(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("agg") != "Hour" {
		writeError(w, http.StatusBadRequest, "UnsupportedAggregation")
		return
	}
	df, err1 := time.ParseInLocation("2006-01-02", r.PathValue("from"), s.loc)
	dt, err2 := time.ParseInLocation("2006-01-02", r.PathValue("to"), s.loc)
	if err1 != nil || err2 != nil || !dt.After(df) || dt.Sub(df) > 731*24*time.Hour {
		writeError(w, http.StatusBadRequest, "InvalidDateRange")
		return
	}
	var body struct {
		MeteringPoints struct {
			MeteringPoint []string `json:"meteringPoint"`
		} `json:"meteringPoints"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&body); err != nil ||
		len(body.MeteringPoints.MeteringPoint) == 0 || len(body.MeteringPoints.MeteringPoint) > maxTimeSeriesGSRNs {
		writeError(w, http.StatusBadRequest, "InvalidRequestBody")
		return
	}
	from, to := df.UTC(), dt.UTC()
	if now := s.now().UTC().Truncate(time.Hour); to.After(now) {
		to = now
	}
	if to.Before(from) {
		to = from
	}
	w.Header().Set("Content-Type", "application/json")
	// Errors here are the client going away; nothing more can be sent.
	_ = s.writeTimeSeries(w, body.MeteringPoints.MeteringPoint, from, to, s.accessible)
}

// accessible reports whether gsrn belongs to a customer who granted access.
func (s *Simulator) accessible(gsrn string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	owner, ok := s.owners[gsrn]
	if !ok {
		return false
	}
	_, granted := s.grants[owner]
	return granted
}

func (s *Simulator) handleDetails(w http.ResponseWriter, r *http.Request) {
	var body struct {
		MeteringPoints struct {
			MeteringPoint []string `json:"meteringPoint"`
		} `json:"meteringPoints"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&body); err != nil ||
		len(body.MeteringPoints.MeteringPoint) == 0 || len(body.MeteringPoints.MeteringPoint) > maxTimeSeriesGSRNs {
		writeError(w, http.StatusBadRequest, "InvalidRequestBody")
		return
	}
	type entry struct {
		Result     map[string]string `json:"result"`
		Success    bool              `json:"success"`
		ErrorCode  string            `json:"errorCode"`
		ErrorText  string            `json:"errorText"`
		ID         string            `json:"id"`
		StackTrace *string           `json:"stackTrace"`
	}
	out := make([]entry, 0, len(body.MeteringPoints.MeteringPoint))
	for _, gsrn := range body.MeteringPoints.MeteringPoint {
		p, ok := ProfileOf(gsrn)
		if !ok || !s.accessible(gsrn) {
			out = append(out, entry{ErrorCode: ErrorCodeNoAccess, ErrorText: ErrorTextNoAccess, ID: gsrn})
			continue
		}
		pt := s.pointFor(gsrn, p, "")
		g := mix(s.seed, fnv1a(gsrn))
		out = append(out, entry{Success: true, ErrorCode: "10000", ErrorText: "NoError", ID: gsrn, Result: map[string]string{
			"meteringPointId": gsrn, "parentMeteringPointId": "", "typeOfMP": pt.TypeOfMP, "subTypeOfMP": "D01",
			"physicalStatusOfMP": "E22", "settlementMethod": "E02", "meterReadingOccurrence": "PT1H",
			"energyTimeSeriesMeasureUnit": "KWH", "estimatedAnnualVolume": strconv.FormatInt(s.estimatedAnnualKWh(p, g), 10),
			"mpCapacity": strconv.FormatInt(capacityKW(p, g), 10), "gridOperatorName": "Simulated Net A/S",
			"meteringGridAreaIdentification": map[string]string{"DK1": "131", "DK2": "740"}[pt.Sector],
			"balanceSupplierName":            "Simulated Energi A/S", "streetCode": pt.StreetCode, "streetName": pt.StreetName,
			"buildingNumber": pt.BuildingNumber, "postcode": pt.Postcode, "cityName": pt.CityName,
			"municipalityCode": pt.MunicipalityCode,
		}})
	}
	writeJSON(w, map[string]any{"result": out})
}

func (s *Simulator) handleEnergyType(w http.ResponseWriter, r *http.Request) {
	gsrn := r.URL.Query().Get("gsrn")
	p, ok := ProfileOf(gsrn)
	if !ok || !p.Production() {
		writeJSON(w, map[string]any{"success": false, "message": "Could not resolve energy type for GSRN " + gsrn})
		return
	}
	pt := s.pointFor(gsrn, p, "")
	writeJSON(w, map[string]any{"success": true, "technologyCode": pt.TechnologyCode, "fuelCode": pt.FuelCode})
}
