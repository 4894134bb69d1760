package eloverblik

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// Kind is what a metering point measures, from its typeOfMP.
type Kind string

// Kinds of metering point. ElOverblik also lists other types (e.g. E20
// exchange points); they are kept as KindOther instead of failing the whole
// response as the reference did.
const (
	KindConsumption Kind = "consumption" // E17
	KindProduction  Kind = "production"  // E18
	KindOther       Kind = "other"
)

// MeteringPoint is one entry of the metering-points response (§4.3). All
// fields are ElOverblik's strings as sent; numbers and nulls are read as
// strings ("" for null), so a type change upstream does not fail the import.
type MeteringPoint struct {
	GSRN                   string // meteringPointId
	TypeOfMP               string // E17, E18, …
	Kind                   Kind
	AccessFrom, AccessTo   string // as sent, e.g. "02/05/2016 00:00:00"
	StreetCode             string
	StreetName             string
	BuildingNumber         string
	FloorID, RoomID        string
	Postcode               string
	CityName               string
	CitySubDivisionName    string
	MunicipalityCode       string
	LocationDescription    string
	MeterReadingOccurrence string // e.g. PT15M, PT1H
	MeterNumber            string
	ConsumerStartDate      string
	Children               []ChildMeteringPoint
}

// ChildMeteringPoint is an entry of childMeteringPoints.
type ChildMeteringPoint struct {
	GSRN                   string
	ParentGSRN             string
	TypeOfMP               string
	MeterReadingOccurrence string
	MeterNumber            string
}

// Price areas.
const (
	SectorDK1 = "DK1" // west of the Great Belt: Jutland and Funen
	SectorDK2 = "DK2" // east: Zealand, Lolland-Falster, Bornholm
)

// ErrBadPostcode is returned by Sector when the postcode is not a Danish
// four-digit postcode.
var ErrBadPostcode = errors.New("eloverblik: postcode is not a danish postcode")

// Sector derives the price area from the postcode: Danish postcodes below
// 5000 lie east of the Great Belt (DK2), 5000 and above west of it (DK1).
// A missing or non-numeric postcode is an error for this point only; the
// reference failed every point of the subject.
func (m MeteringPoint) Sector() (string, error) {
	n, err := strconv.Atoi(m.Postcode)
	if err != nil || len(m.Postcode) != 4 || n < 1000 {
		return "", fmt.Errorf("metering point %s postcode %q: %w", m.GSRN, m.Postcode, ErrBadPostcode)
	}
	if n < 5000 {
		return SectorDK2, nil
	}
	return SectorDK1, nil
}

// flexString decodes a JSON string, number or boolean as its text and null
// as "", so a field that changes type upstream does not fail the response.
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
		return nil
	}
	if string(b) == "null" {
		*f = ""
		return nil
	}
	if len(b) > 0 && (b[0] == '{' || b[0] == '[') {
		return errors.New("want a scalar")
	}
	*f = flexString(b)
	return nil
}

type wireMeteringPoint struct {
	MeteringPointID        flexString `json:"meteringPointId"`
	TypeOfMP               flexString `json:"typeOfMP"`
	AccessFrom             flexString `json:"accessFrom"`
	AccessTo               flexString `json:"accessTo"`
	StreetCode             flexString `json:"streetCode"`
	StreetName             flexString `json:"streetName"`
	BuildingNumber         flexString `json:"buildingNumber"`
	FloorID                flexString `json:"floorId"`
	RoomID                 flexString `json:"roomId"`
	Postcode               flexString `json:"postcode"`
	CityName               flexString `json:"cityName"`
	CitySubDivisionName    flexString `json:"citySubDivisionName"`
	MunicipalityCode       flexString `json:"municipalityCode"`
	LocationDescription    flexString `json:"locationDescription"`
	MeterReadingOccurrence flexString `json:"meterReadingOccurrence"`
	MeterNumber            flexString `json:"meterNumber"`
	ConsumerStartDate      flexString `json:"consumerStartDate"`
	ChildMeteringPoints    []struct {
		MeteringPointID        flexString `json:"meteringPointId"`
		ParentMeteringPointID  flexString `json:"parentMeteringPointId"`
		TypeOfMP               flexString `json:"typeOfMP"`
		MeterReadingOccurrence flexString `json:"meterReadingOccurrence"`
		MeterNumber            flexString `json:"meterNumber"`
	} `json:"childMeteringPoints"`
}

// maxMeteringPointsBody bounds the metering-points response. A customer with
// thousands of points sends a few MB.
const maxMeteringPointsBody = 64 << 20

// ParseMeteringPoints reads a metering-points response. Unknown fields are
// ignored. An entry that is not an object of the expected shape, or has no
// meteringPointId, is left out and described in problems; err is non-nil
// (wrapping ErrMalformedResponse) only when the document itself is not
// {"result":[…]}.
func ParseMeteringPoints(r io.Reader) (points []MeteringPoint, problems []error, err error) {
	var doc struct {
		Result *[]json.RawMessage `json:"result"`
	}
	dec := json.NewDecoder(io.LimitReader(r, maxMeteringPointsBody))
	if err := dec.Decode(&doc); err != nil {
		return nil, nil, fmt.Errorf("decode metering points: %w: %v", ErrMalformedResponse, err)
	}
	if dec.More() {
		return nil, nil, fmt.Errorf("decode metering points: %w: data after document", ErrMalformedResponse)
	}
	if doc.Result == nil {
		return nil, nil, fmt.Errorf("decode metering points: %w: no result", ErrMalformedResponse)
	}
	for i, raw := range *doc.Result {
		var w wireMeteringPoint
		if err := json.Unmarshal(raw, &w); err != nil {
			problems = append(problems, fmt.Errorf("metering point entry %d: %w: %v", i, ErrMalformedResponse, err))
			continue
		}
		if w.MeteringPointID == "" {
			problems = append(problems, fmt.Errorf("metering point entry %d: %w: no meteringPointId", i, ErrMalformedResponse))
			continue
		}
		points = append(points, w.point())
	}
	return points, problems, nil
}

func (w *wireMeteringPoint) point() MeteringPoint {
	m := MeteringPoint{
		GSRN:                   string(w.MeteringPointID),
		TypeOfMP:               string(w.TypeOfMP),
		AccessFrom:             string(w.AccessFrom),
		AccessTo:               string(w.AccessTo),
		StreetCode:             string(w.StreetCode),
		StreetName:             string(w.StreetName),
		BuildingNumber:         string(w.BuildingNumber),
		FloorID:                string(w.FloorID),
		RoomID:                 string(w.RoomID),
		Postcode:               string(w.Postcode),
		CityName:               string(w.CityName),
		CitySubDivisionName:    string(w.CitySubDivisionName),
		MunicipalityCode:       string(w.MunicipalityCode),
		LocationDescription:    string(w.LocationDescription),
		MeterReadingOccurrence: string(w.MeterReadingOccurrence),
		MeterNumber:            string(w.MeterNumber),
		ConsumerStartDate:      string(w.ConsumerStartDate),
	}
	switch m.TypeOfMP {
	case "E17":
		m.Kind = KindConsumption
	case "E18":
		m.Kind = KindProduction
	default:
		m.Kind = KindOther
	}
	for _, ch := range w.ChildMeteringPoints {
		m.Children = append(m.Children, ChildMeteringPoint{
			GSRN:                   string(ch.MeteringPointID),
			ParentGSRN:             string(ch.ParentMeteringPointID),
			TypeOfMP:               string(ch.TypeOfMP),
			MeterReadingOccurrence: string(ch.MeterReadingOccurrence),
			MeterNumber:            string(ch.MeterNumber),
		})
	}
	return m
}

// Authorization is one consent given to this third party
// (GET /api/Authorization/Authorizations).
type Authorization struct {
	ID                          string
	CustomerKey                 string
	CustomerName                string
	CustomerCVR                 string
	ThirdPartyName              string
	ValidFrom, ValidTo          string // as sent (ISO 8601)
	IncludeFutureMeteringPoints bool
}

// ParseAuthorizations reads an authorizations response, with the same
// tolerance as ParseMeteringPoints.
func ParseAuthorizations(r io.Reader) ([]Authorization, []error, error) {
	var doc struct {
		Result *[]json.RawMessage `json:"result"`
	}
	dec := json.NewDecoder(io.LimitReader(r, maxMeteringPointsBody))
	if err := dec.Decode(&doc); err != nil {
		return nil, nil, fmt.Errorf("decode authorizations: %w: %v", ErrMalformedResponse, err)
	}
	if doc.Result == nil {
		return nil, nil, fmt.Errorf("decode authorizations: %w: no result", ErrMalformedResponse)
	}
	var out []Authorization
	var problems []error
	for i, raw := range *doc.Result {
		var w struct {
			ID                          flexString `json:"id"`
			CustomerKey                 flexString `json:"customerKey"`
			CustomerName                flexString `json:"customerName"`
			CustomerCVR                 flexString `json:"customerCVR"`
			ThirdPartyName              flexString `json:"thirdPartyName"`
			ValidFrom                   flexString `json:"validFrom"`
			ValidTo                     flexString `json:"validTo"`
			IncludeFutureMeteringPoints flexString `json:"includeFutureMeteringPoints"`
		}
		if err := json.Unmarshal(raw, &w); err != nil {
			problems = append(problems, fmt.Errorf("authorization entry %d: %w: %v", i, ErrMalformedResponse, err))
			continue
		}
		out = append(out, Authorization{
			ID: string(w.ID), CustomerKey: string(w.CustomerKey), CustomerName: string(w.CustomerName),
			CustomerCVR: string(w.CustomerCVR), ThirdPartyName: string(w.ThirdPartyName),
			ValidFrom: string(w.ValidFrom), ValidTo: string(w.ValidTo),
			IncludeFutureMeteringPoints: w.IncludeFutureMeteringPoints == "true",
		})
	}
	return out, problems, nil
}
