package eloverblik

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// MeteringPointDetails is the detail record of a metering point
// (POST /api/MeteringPoints/MeteringPoint/GetDetails). Only the fields an
// import can use are kept; all are ElOverblik's strings as sent.
type MeteringPointDetails struct {
	GSRN                           string // meteringPointId
	ParentGSRN                     string // parentMeteringPointId
	TypeOfMP                       string
	Kind                           Kind
	SubTypeOfMP                    string
	PhysicalStatusOfMP             string // E22 connected, D03 new, E23 disconnected
	SettlementMethod               string
	MeterReadingOccurrence         string // PT1H, PT15M
	EnergyTimeSeriesMeasureUnit    string // KWH
	EstimatedAnnualVolume          string
	MPCapacity                     string // capacity in kW (production)
	GridOperatorName               string
	MeteringGridAreaIdentification string
	BalanceSupplierName            string
	StreetName                     string
	BuildingNumber                 string
	Postcode                       string
	CityName                       string
	MunicipalityCode               string
}

// Sector derives the price area from the postcode, as MeteringPoint.Sector.
func (d MeteringPointDetails) Sector() (string, error) {
	return MeteringPoint{GSRN: d.GSRN, Postcode: d.Postcode}.Sector()
}

// EntryError is a result entry that ElOverblik answered with success=false
// or an errorCode other than 10000 (e.g. no consent for that GSRN).
type EntryError struct {
	GSRN string
	Code string
	Text string
}

// Error implements error.
func (e *EntryError) Error() string {
	return fmt.Sprintf("eloverblik entry %s: code %s: %s", e.GSRN, e.Code, e.Text)
}

type wireDetails struct {
	MeteringPointID                flexString `json:"meteringPointId"`
	ParentMeteringPointID          flexString `json:"parentMeteringPointId"`
	TypeOfMP                       flexString `json:"typeOfMP"`
	SubTypeOfMP                    flexString `json:"subTypeOfMP"`
	PhysicalStatusOfMP             flexString `json:"physicalStatusOfMP"`
	SettlementMethod               flexString `json:"settlementMethod"`
	MeterReadingOccurrence         flexString `json:"meterReadingOccurrence"`
	EnergyTimeSeriesMeasureUnit    flexString `json:"energyTimeSeriesMeasureUnit"`
	EstimatedAnnualVolume          flexString `json:"estimatedAnnualVolume"`
	MPCapacity                     flexString `json:"mpCapacity"`
	GridOperatorName               flexString `json:"gridOperatorName"`
	MeteringGridAreaIdentification flexString `json:"meteringGridAreaIdentification"`
	BalanceSupplierName            flexString `json:"balanceSupplierName"`
	StreetName                     flexString `json:"streetName"`
	BuildingNumber                 flexString `json:"buildingNumber"`
	Postcode                       flexString `json:"postcode"`
	CityName                       flexString `json:"cityName"`
	MunicipalityCode               flexString `json:"municipalityCode"`
}

// ParseMeteringPointDetails reads a GetDetails response:
// {"result":[{"result":{…},"success":…,"errorCode":…,"errorText":…,"id":…}]}.
// Failed entries become *EntryError in problems, unreadable ones plain
// errors; err (wrapping ErrMalformedResponse) is only for a broken document.
func ParseMeteringPointDetails(r io.Reader) (details []MeteringPointDetails, problems []error, err error) {
	var doc struct {
		Result *[]json.RawMessage `json:"result"`
	}
	if err := json.NewDecoder(io.LimitReader(r, maxMeteringPointsBody)).Decode(&doc); err != nil {
		return nil, nil, fmt.Errorf("decode metering point details: %w: %v", ErrMalformedResponse, err)
	}
	if doc.Result == nil {
		return nil, nil, fmt.Errorf("decode metering point details: %w: no result", ErrMalformedResponse)
	}
	for i, raw := range *doc.Result {
		var e struct {
			Result    *wireDetails `json:"result"`
			Success   *bool        `json:"success"`
			ErrorCode flexString   `json:"errorCode"`
			ErrorText flexString   `json:"errorText"`
			ID        flexString   `json:"id"`
		}
		if err := json.Unmarshal(raw, &e); err != nil {
			problems = append(problems, fmt.Errorf("details entry %d: %w: %v", i, ErrMalformedResponse, err))
			continue
		}
		if (e.Success != nil && !*e.Success) || (e.ErrorCode != "" && e.ErrorCode != "10000") {
			problems = append(problems, &EntryError{GSRN: string(e.ID), Code: string(e.ErrorCode), Text: string(e.ErrorText)})
			continue
		}
		if e.Result == nil || e.Result.MeteringPointID == "" {
			problems = append(problems, fmt.Errorf("details entry %d: %w: no meteringPointId", i, ErrMalformedResponse))
			continue
		}
		w := e.Result
		d := MeteringPointDetails{
			GSRN: string(w.MeteringPointID), ParentGSRN: string(w.ParentMeteringPointID),
			TypeOfMP: string(w.TypeOfMP), SubTypeOfMP: string(w.SubTypeOfMP),
			PhysicalStatusOfMP: string(w.PhysicalStatusOfMP), SettlementMethod: string(w.SettlementMethod),
			MeterReadingOccurrence:      string(w.MeterReadingOccurrence),
			EnergyTimeSeriesMeasureUnit: string(w.EnergyTimeSeriesMeasureUnit),
			EstimatedAnnualVolume:       string(w.EstimatedAnnualVolume), MPCapacity: string(w.MPCapacity),
			GridOperatorName: string(w.GridOperatorName), MeteringGridAreaIdentification: string(w.MeteringGridAreaIdentification),
			BalanceSupplierName: string(w.BalanceSupplierName), StreetName: string(w.StreetName),
			BuildingNumber: string(w.BuildingNumber), Postcode: string(w.Postcode), CityName: string(w.CityName),
			MunicipalityCode: string(w.MunicipalityCode),
		}
		switch d.TypeOfMP {
		case "E17":
			d.Kind = KindConsumption
		case "E18":
			d.Kind = KindProduction
		default:
			d.Kind = KindOther
		}
		details = append(details, d)
	}
	return details, problems, nil
}

// MeteringPointDetails fetches the detail records of the given GSRNs in one
// request. Entries ElOverblik refuses (e.g. no consent) come back in problems
// as *EntryError; the call as a whole still succeeds. Errors: as for
// DataAccessToken, *APIError, ErrMalformedResponse.
func (c *Client) MeteringPointDetails(ctx context.Context, gsrns []string) ([]MeteringPointDetails, []error, error) {
	if len(gsrns) == 0 {
		return nil, nil, errors.New("metering point details: no gsrn")
	}
	var body struct {
		MeteringPoints struct {
			MeteringPoint []string `json:"meteringPoint"`
		} `json:"meteringPoints"`
	}
	body.MeteringPoints.MeteringPoint = gsrns
	raw, err := json.Marshal(body)
	if err != nil {
		return nil, nil, fmt.Errorf("encode details request: %w", err)
	}
	resp, err := c.do(ctx, request{method: "POST", base: c.base, path: "/api/MeteringPoints/MeteringPoint/GetDetails", body: raw, auth: authData})
	if err != nil {
		return nil, nil, fmt.Errorf("get metering point details: %w", err)
	}
	defer resp.Body.Close()
	return ParseMeteringPointDetails(resp.Body)
}
