package sim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

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
