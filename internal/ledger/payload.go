package ledger

import (
	"fmt"
	"strconv"
	"time"
)

// Family is a transaction family name; each has the single version
// FamilyVersion.
type Family string

// The six transaction families of the datahub processor.
const (
	FamilyPublishMeasurement Family = "PublishMeasurementRequest"
	FamilyIssueGGO           Family = "IssueGGORequest"
	FamilyTransferGGO        Family = "TransferGGORequest"
	FamilySplitGGO           Family = "SplitGGORequest"
	FamilyRetireGGO          Family = "RetireGGORequest"
	FamilySettlement         Family = "SettlementRequest"
)

// FamilyVersion is the only version of every family.
const FamilyVersion = "0.1"

// MeasurementType is PRODUCTION or CONSUMPTION.
type MeasurementType string

// Measurement types.
const (
	Production  MeasurementType = "PRODUCTION"
	Consumption MeasurementType = "CONSUMPTION"
)

// Sectors accepted by the processor.
const (
	SectorDK1 = "DK1"
	SectorDK2 = "DK2"
)

// Request is one of the six request payloads. Payload returns the exact
// bytes sent: json.dumps style, keys in the declaration order of spec 3.2.
type Request interface {
	Family() Family
	Payload() ([]byte, error)
}

// PublishMeasurementRequest publishes one hourly measurement. Its target
// address is not in the payload: it is the transaction's first output.
type PublishMeasurementRequest struct {
	Begin  time.Time
	End    time.Time
	Sector string
	Type   MeasurementType
	Amount int64 // Wh
}

// IssueGGORequest issues a GGO at Destination for the production
// measurement at Origin.
type IssueGGORequest struct {
	Origin      string
	Destination string
	TechType    string
	FuelType    string
	// Emissions is an optional JSON object whose values are objects; nil
	// means null. It is re-serialised json.dumps style.
	Emissions []byte
}

// TransferGGORequest moves the GGO at Origin to Destination.
type TransferGGORequest struct {
	Origin      string
	Destination string
}

// SplitPart is one part of a split.
type SplitPart struct {
	Address string
	Amount  int64 // Wh
}

// SplitGGORequest splits the GGO at Origin into Parts.
type SplitGGORequest struct {
	Origin string
	Parts  []SplitPart
}

// RetireGGORequest retires the GGO at Origin to a settlement.
type RetireGGORequest struct {
	Origin            string
	SettlementAddress string
}

// SettlementRequest adds retired GGOs to the settlement of a consumption
// measurement.
type SettlementRequest struct {
	SettlementAddress  string
	MeasurementAddress string
	GGOAddresses       []string
}

// Family implements Request.
func (PublishMeasurementRequest) Family() Family { return FamilyPublishMeasurement }

// Family implements Request.
func (IssueGGORequest) Family() Family { return FamilyIssueGGO }

// Family implements Request.
func (TransferGGORequest) Family() Family { return FamilyTransferGGO }

// Family implements Request.
func (SplitGGORequest) Family() Family { return FamilySplitGGO }

// Family implements Request.
func (RetireGGORequest) Family() Family { return FamilyRetireGGO }

// Family implements Request.
func (SettlementRequest) Family() Family { return FamilySettlement }

// FormatTimestamp writes t as Python's isoformat() of an aware UTC datetime:
// "2020-01-01T00:00:00+00:00", with ".ffffff" only for non-zero microseconds.
func FormatTimestamp(t time.Time) string {
	t = t.UTC()
	s := t.Format("2006-01-02T15:04:05")
	if us := t.Nanosecond() / 1000; us != 0 {
		s += fmt.Sprintf(".%06d", us)
	}
	return s + "+00:00"
}

// PyObject writes one JSON object as json.dumps writes a dict, keys in the
// order they are added. The zero value is an empty object.
type PyObject struct{ b []byte }

// Key starts member k; the caller appends its value with Raw or the typed
// methods.
func (w *PyObject) Key(k string) {
	if len(w.b) == 0 {
		w.b = append(w.b, '{')
	} else {
		w.b = append(w.b, ", "...)
	}
	w.b = AppendPyString(w.b, k)
	w.b = append(w.b, ": "...)
}

// Str adds a string member.
func (w *PyObject) Str(k, v string) { w.Key(k); w.b = AppendPyString(w.b, v) }

// Int adds an integer member.
func (w *PyObject) Int(k string, v int64) { w.Key(k); w.b = strconv.AppendInt(w.b, v, 10) }

// Strs adds an array of strings.
func (w *PyObject) Strs(k string, vs []string) {
	w.Key(k)
	w.b = append(w.b, '[')
	for i, v := range vs {
		if i > 0 {
			w.b = append(w.b, ", "...)
		}
		w.b = AppendPyString(w.b, v)
	}
	w.b = append(w.b, ']')
}

// Objects adds an array of objects.
func (w *PyObject) Objects(k string, objs []PyObject) {
	w.Key(k)
	w.b = append(w.b, '[')
	for i := range objs {
		if i > 0 {
			w.b = append(w.b, ", "...)
		}
		w.b = append(w.b, objs[i].Bytes()...)
	}
	w.b = append(w.b, ']')
}

// Raw adds a member whose value is already encoded JSON.
func (w *PyObject) Raw(k string, v []byte) { w.Key(k); w.b = append(w.b, v...) }

// Bytes returns the encoded object.
func (w *PyObject) Bytes() []byte {
	if len(w.b) == 0 {
		return []byte("{}")
	}
	return append(w.b[:len(w.b):len(w.b)], '}')
}

// Payload implements Request.
func (r PublishMeasurementRequest) Payload() ([]byte, error) {
	var w PyObject
	w.Str("begin", FormatTimestamp(r.Begin))
	w.Str("end", FormatTimestamp(r.End))
	w.Str("sector", r.Sector)
	w.Str("type", string(r.Type))
	w.Int("amount", r.Amount)
	return w.Bytes(), nil
}

// Payload implements Request.
func (r IssueGGORequest) Payload() ([]byte, error) {
	em := []byte("null")
	if r.Emissions != nil {
		var err error
		if em, err = PyJSON(r.Emissions); err != nil {
			return nil, fmt.Errorf("issue ggo emissions: %w", err)
		}
		if em[0] != '{' {
			return nil, fmt.Errorf("issue ggo emissions: not a JSON object")
		}
	}
	var w PyObject
	w.Str("origin", r.Origin)
	w.Str("destination", r.Destination)
	w.Str("tech_type", r.TechType)
	w.Str("fuel_type", r.FuelType)
	w.Raw("emissions", em)
	return w.Bytes(), nil
}

// Payload implements Request.
func (r TransferGGORequest) Payload() ([]byte, error) {
	var w PyObject
	w.Str("origin", r.Origin)
	w.Str("destination", r.Destination)
	return w.Bytes(), nil
}

// Payload implements Request.
func (r SplitGGORequest) Payload() ([]byte, error) {
	var w PyObject
	w.Str("origin", r.Origin)
	parts := make([]PyObject, len(r.Parts))
	for i, p := range r.Parts {
		parts[i].Str("address", p.Address)
		parts[i].Int("amount", p.Amount)
	}
	w.Objects("parts", parts)
	return w.Bytes(), nil
}

// Payload implements Request.
func (r RetireGGORequest) Payload() ([]byte, error) {
	var w PyObject
	w.Str("origin", r.Origin)
	w.Str("settlement_address", r.SettlementAddress)
	return w.Bytes(), nil
}

// Payload implements Request.
func (r SettlementRequest) Payload() ([]byte, error) {
	var w PyObject
	w.Str("settlement_address", r.SettlementAddress)
	w.Str("measurement_address", r.MeasurementAddress)
	w.Strs("ggo_addresses", r.GGOAddresses)
	return w.Bytes(), nil
}
