package standin

import (
	"strconv"

	"github.com/originhub/originhub/internal/ledger"
)

// Request and state objects as the processor parses and writes them.

type publishReq struct {
	begin, end  pyTime
	sector, typ string
	amount      int64
}

type issueReq struct {
	origin, destination, techType, fuelType string
	emissions                               *pyValue
}

type transferReq struct{ origin, destination string }

type splitPart struct {
	address string
	amount  int64
}

type splitReq struct {
	origin string
	parts  []splitPart
}

type retireReq struct{ origin, settlement string }

type settlementReq struct {
	settlement, measurement string
	ggos                    []string
}

// parseResult carries a parsed request or why it failed: msg is the
// processor's INVALID text, internal a failure the processor would not
// survive (spec 11.1).
type parseResult struct {
	msg, internal string
}

// parsePayload parses a payload for family the way the processor does.
func parsePayload(family ledger.Family, payload []byte) (any, parseResult) {
	v, err := parseJSON(payload)
	if err != nil {
		return nil, parseResult{msg: "The transaction payload was an invalid request. Invalid JSON."}
	}
	errs := &errTree{}
	var internal string
	big := false
	var out any
	o := newObject(v, errs)
	if o != nil {
		switch family {
		case ledger.FamilyPublishMeasurement:
			r := publishReq{begin: o.timestamp("begin"), end: o.timestamp("end")}
			r.sector = o.str("sector")
			if r.sector != "" && r.sector != ledger.SectorDK1 && r.sector != ledger.SectorDK2 {
				errs.add(pyRepr("sector"), "Must be one of: DK1, DK2.")
			}
			r.typ = o.enum("type", []string{string(ledger.Production), string(ledger.Consumption)}, &internal)
			if av := o.get("amount", false); av != nil {
				n, ok, tooBig := pyInt(av)
				switch {
				case !ok:
					errs.add(pyRepr("amount"), msgInteger)
				case negative(av, n, tooBig):
					errs.add(pyRepr("amount"), "Must be greater than or equal to 0.")
				default:
					r.amount, big = n, big || tooBig
				}
			}
			out = r
		case ledger.FamilyIssueGGO:
			out = issueReq{origin: o.str("origin"), destination: o.str("destination"), techType: o.str("tech_type"), fuelType: o.str("fuel_type"), emissions: o.mapping("emissions")}
		case ledger.FamilyTransferGGO:
			out = transferReq{origin: o.str("origin"), destination: o.str("destination")}
		case ledger.FamilySplitGGO:
			r := splitReq{origin: o.str("origin")}
			r.parts = parseParts(o, &big)
			out = r
		case ledger.FamilyRetireGGO:
			out = retireReq{origin: o.str("origin"), settlement: o.str("settlement_address")}
		case ledger.FamilySettlement:
			out = settlementReq{settlement: o.str("settlement_address"), measurement: o.str("measurement_address"), ggos: o.strList("ggo_addresses")}
		}
		o.finish()
	}
	if internal != "" {
		return nil, parseResult{internal: internal}
	}
	if !errs.empty() {
		return nil, parseResult{msg: errs.String()}
	}
	if big {
		return nil, parseResult{internal: "integer outside the 64-bit range"}
	}
	if r, ok := out.(publishReq); ok {
		// Schema-level checks run only when every field is valid.
		if b, err := r.end.before(r.begin); err != nil {
			return nil, parseResult{internal: err.Error()}
		} else if b || r.begin.equal(r.end) {
			return nil, parseResult{msg: "{'_schema': ['Begin must be before End!']}"}
		}
		if r.end.t.Sub(r.begin.t) != 3600e9 {
			return nil, parseResult{msg: "{'_schema': ['Only positive hourly measurements are currently supported!']}"}
		}
	}
	return out, parseResult{}
}

func parseParts(o *object, big *bool) []splitPart {
	v := o.get("parts", false)
	if v == nil {
		return nil
	}
	if v.kind != kArray {
		o.errs.add(pyRepr("parts"), msgList)
		return nil
	}
	sub := &errTree{}
	parts := make([]splitPart, len(v.arr))
	for i, e := range v.arr {
		key := strconv.Itoa(i)
		if e.kind == kNull {
			sub.add(key, msgNull)
			continue
		}
		pe := &errTree{}
		po := newObject(e, pe)
		if po != nil {
			parts[i] = splitPart{address: po.str("address"), amount: po.integer("amount", big)}
			po.finish()
		}
		sub.attach(key, pe)
	}
	o.errs.attach(pyRepr("parts"), sub)
	return parts
}

// measurement is a stored Measurement.
type measurement struct {
	amount     int64
	typ        string
	begin, end pyTime
	sector     string
}

// ggo is a stored GGO; next is nil while unspent.
type ggo struct {
	origin             string
	amount             int64
	begin, end         pyTime
	sector             string
	techType, fuelType string
	next               *ggoNext
	emissions          *pyValue
}

type ggoNext struct {
	action    string // TRANSFER, SPLIT or RETIRE
	addresses []string
}

type settlementPart struct {
	ggo    string
	amount int64
}

type settlement struct {
	measurement string
	parts       []settlementPart
}

func (m measurement) encode() []byte {
	var w ledger.PyObject
	w.Int("amount", m.amount)
	w.Str("type", m.typ)
	w.Str("begin", m.begin.iso())
	w.Str("end", m.end.iso())
	w.Str("sector", m.sector)
	return w.Bytes()
}

func (g ggo) encode() []byte {
	var w ledger.PyObject
	w.Str("origin", g.origin)
	w.Int("amount", g.amount)
	w.Str("begin", g.begin.iso())
	w.Str("end", g.end.iso())
	w.Str("sector", g.sector)
	w.Str("tech_type", g.techType)
	w.Str("fuel_type", g.fuelType)
	if g.next == nil {
		w.Raw("next", []byte("null"))
	} else {
		var nw ledger.PyObject
		nw.Str("action", g.next.action)
		nw.Strs("addresses", g.next.addresses)
		w.Raw("next", nw.Bytes())
	}
	if g.emissions == nil {
		w.Raw("emissions", []byte("null"))
	} else {
		w.Raw("emissions", appendPy(nil, g.emissions))
	}
	return w.Bytes()
}

func (s settlement) encode() []byte {
	var w ledger.PyObject
	w.Str("measurement", s.measurement)
	parts := make([]ledger.PyObject, len(s.parts))
	for i, p := range s.parts {
		parts[i].Str("ggo", p.ggo)
		parts[i].Int("amount", p.amount)
	}
	w.Objects("parts", parts)
	return w.Bytes()
}

// decodeMeasurement parses stored bytes; ok is false for anything that is
// not a valid Measurement.
func decodeMeasurement(b []byte) (measurement, bool) {
	v, errs, big := decodeObject(b)
	if v == nil {
		return measurement{}, false
	}
	o := newObject(v, errs)
	internal := ""
	m := measurement{amount: o.integer("amount", &big), typ: o.enum("type", []string{"PRODUCTION", "CONSUMPTION"}, &internal),
		begin: o.timestamp("begin"), end: o.timestamp("end"), sector: o.str("sector")}
	o.finish()
	return m, errs.empty() && !big && internal == ""
}

func decodeGGO(b []byte) (ggo, bool) {
	v, errs, big := decodeObject(b)
	if v == nil {
		return ggo{}, false
	}
	o := newObject(v, errs)
	internal := ""
	g := ggo{origin: o.str("origin"), amount: o.integer("amount", &big), begin: o.timestamp("begin"), end: o.timestamp("end"),
		sector: o.str("sector"), techType: o.str("tech_type"), fuelType: o.str("fuel_type")}
	if nv := o.get("next", true); nv != nil {
		no := newObject(nv, errs)
		if no != nil {
			g.next = &ggoNext{action: no.enum("action", []string{"TRANSFER", "SPLIT", "RETIRE"}, &internal), addresses: no.strList("addresses")}
			no.finish()
		}
	}
	g.emissions = o.mapping("emissions")
	o.finish()
	return g, errs.empty() && !big && internal == ""
}

func decodeSettlement(b []byte) (settlement, bool) {
	v, errs, big := decodeObject(b)
	if v == nil {
		return settlement{}, false
	}
	o := newObject(v, errs)
	s := settlement{measurement: o.str("measurement")}
	if pv := o.get("parts", false); pv != nil {
		if pv.kind != kArray {
			return settlement{}, false
		}
		for _, e := range pv.arr {
			po := newObject(e, errs)
			if po == nil {
				return settlement{}, false
			}
			s.parts = append(s.parts, settlementPart{ggo: po.str("ggo"), amount: po.integer("amount", &big)})
			po.finish()
		}
	}
	o.finish()
	return s, errs.empty() && !big
}

func decodeObject(b []byte) (*pyValue, *errTree, bool) {
	if len(b) == 0 {
		return nil, nil, false
	}
	v, err := parseJSON(b)
	if err != nil || v.kind != kObject {
		return nil, nil, false
	}
	return v, &errTree{}, false
}

// negative reports whether a lenient integer is below zero, also when it
// does not fit in int64.
func negative(v *pyValue, n int64, tooBig bool) bool {
	if !tooBig {
		return n < 0
	}
	if v.kind == kInt {
		return v.i.Sign() < 0
	}
	return v.f < 0
}

// appendPy writes a parsed value back as json.dumps does.
func appendPy(b []byte, v *pyValue) []byte {
	switch v.kind {
	case kNull:
		return append(b, "null"...)
	case kBool:
		if v.b {
			return append(b, "true"...)
		}
		return append(b, "false"...)
	case kInt:
		return v.i.Append(b, 10)
	case kFloat:
		out, err := ledger.AppendPyFloat(b, v.f)
		if err != nil {
			// Python writes the non-finite values it parsed as these tokens.
			switch {
			case v.f > 0:
				return append(b, "Infinity"...)
			case v.f < 0:
				return append(b, "-Infinity"...)
			}
			return append(b, "NaN"...)
		}
		return out
	case kString:
		return ledger.AppendPyString(b, v.s)
	case kArray:
		b = append(b, '[')
		for i, e := range v.arr {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = appendPy(b, e)
		}
		return append(b, ']')
	}
	b = append(b, '{')
	for i, k := range v.keys {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = ledger.AppendPyString(b, k)
		b = append(b, ": "...)
		b = appendPy(b, v.obj[k])
	}
	return append(b, '}')
}
