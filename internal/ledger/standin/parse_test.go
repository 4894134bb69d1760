package standin

import (
	"strings"
	"testing"

	"github.com/originhub/originhub/internal/ledger"
	"github.com/originhub/originhub/internal/ledger/vectors"
)

var families = []ledger.Family{
	ledger.FamilyPublishMeasurement, ledger.FamilyIssueGGO, ledger.FamilyTransferGGO,
	ledger.FamilySplitGGO, ledger.FamilyRetireGGO, ledger.FamilySettlement,
}

func TestParseErrors(t *testing.T) {
	const ok = ""
	tests := []struct {
		family  ledger.Family
		payload string
		want    string
	}{
		{ledger.FamilyTransferGGO, `not json`, "The transaction payload was an invalid request. Invalid JSON."},
		{ledger.FamilyTransferGGO, `[1]`, "{'_schema': ['Invalid input type.']}"},
		{ledger.FamilyTransferGGO, `{"origin": "a"}`, "{'destination': ['Missing data for required field.']}"},
		{ledger.FamilyTransferGGO, `{"origin": "a", "destination": 5}`, "{'destination': ['Not a valid string.']}"},
		{ledger.FamilyTransferGGO, `{"origin": "a", "destination": "b", "x'y": 1}`, `{"x'y": ['Unknown field.']}`},
		{ledger.FamilyTransferGGO, `{"destination": "b", "origin": "a"}`, ok},
		{ledger.FamilyPublishMeasurement, `{"begin": "2020-01-01T00:00:00+00:00", "end": "2020-01-01T01:00:00+00:00", "sector": "DK3", "type": "PRODUCTION", "amount": 1}`, "{'sector': ['Must be one of: DK1, DK2.']}"},
		{ledger.FamilyPublishMeasurement, `{"begin": "2020-01-01T00:00:00+00:00", "end": "2020-01-01T01:00:00+00:00", "sector": "DK1", "type": "LEFT", "amount": 1}`, "{'type': ['Invalid enum member LEFT']}"},
		{ledger.FamilyPublishMeasurement, `{"begin": "2020-01-01T00:00:00+00:00", "end": "2020-01-01T01:00:00+00:00", "sector": "DK1", "type": "PRODUCTION", "amount": -1}`, "{'amount': ['Must be greater than or equal to 0.']}"},
		{ledger.FamilyPublishMeasurement, `{"begin": "2020-01-01T00:00:00+00:00", "end": "2020-01-01T01:00:00+00:00", "sector": "DK1", "type": "PRODUCTION", "amount": true}`, "{'amount': ['Not a valid integer.']}"},
		{ledger.FamilyPublishMeasurement, `{"begin": "2020-01-01T00:00:00+00:00", "end": "2020-01-01T01:00:00+00:00", "sector": "DK1", "type": "PRODUCTION", "amount": "100"}`, ok},
		{ledger.FamilyPublishMeasurement, `{"begin": "2020-01-01T00:00:00+00:00", "end": "2020-01-01T01:00:00+00:00", "sector": "DK1", "type": "PRODUCTION", "amount": 100.7}`, ok},
		{ledger.FamilyPublishMeasurement, `{"begin": "2020-01-01", "end": "2020-01-01T01:00:00+00:00", "sector": "DK1", "type": "PRODUCTION", "amount": 1}`, "{'begin': ['Not a valid datetime.']}"},
		{ledger.FamilyPublishMeasurement, `{"begin": "2020-01-01T02:00:00+00:00", "end": "2020-01-01T01:00:00+00:00", "sector": "DK1", "type": "PRODUCTION", "amount": 1}`, "{'_schema': ['Begin must be before End!']}"},
		{ledger.FamilyPublishMeasurement, `{"begin": "2020-01-01T00:00:00+00:00", "end": "2020-01-01T02:00:00+00:00", "sector": "DK1", "type": "PRODUCTION", "amount": 1}`, "{'_schema': ['Only positive hourly measurements are currently supported!']}"},
		{ledger.FamilyPublishMeasurement, `{"begin": "2020-01-01T01:00:00+01:00", "end": "2020-01-01T01:00Z", "sector": "DK1", "type": "PRODUCTION", "amount": 1}`, ok},
		{ledger.FamilySplitGGO, `{"origin": "a", "parts": [{"address": "b", "amount": "x"}]}`, "{'parts': {0: {'amount': ['Not a valid integer.']}}}"},
		{ledger.FamilySplitGGO, `{"origin": "a", "parts": [1]}`, "{'parts': {0: {'_schema': ['Invalid input type.']}}}"},
		{ledger.FamilySplitGGO, `{"origin": "a", "parts": {}}`, "{'parts': ['Not a valid list.']}"},
		{ledger.FamilySettlement, `{"settlement_address": "a", "measurement_address": "b", "ggo_addresses": [1]}`, "{'ggo_addresses': {0: ['Not a valid string.']}}"},
		{ledger.FamilyIssueGGO, `{"origin": "a", "destination": "b", "tech_type": "t", "fuel_type": "f", "emissions": {"co2": 1}}`, "{'emissions': {'co2': {'value': ['Not a valid mapping type.']}}}"},
		{ledger.FamilyIssueGGO, `{"origin": "a", "destination": "b", "tech_type": "t", "fuel_type": "f"}`, ok},
	}
	for _, tc := range tests {
		_, res := parsePayload(tc.family, []byte(tc.payload))
		if res.msg != tc.want || res.internal != "" {
			t.Errorf("parse %s %s = %q / %q, want %q", tc.family, tc.payload, res.msg, res.internal, tc.want)
		}
	}
}

func TestPyTime(t *testing.T) {
	tests := []struct{ in, iso string }{
		{"2020-01-01T00:00:00+00:00", "2020-01-01T00:00:00+00:00"},
		{"2020-01-01T00:00Z", "2020-01-01T00:00:00+00:00"},
		{"2020-01-01 00:00:00.5+0130", "2020-01-01T00:00:00.500000+01:30"},
		{"2020-01-01T00:00:00.1234567-05", "2020-01-01T00:00:00.123456-05:00"},
		{"2020-01-01T00:00:00", "2020-01-01T00:00:00"},
	}
	for _, tc := range tests {
		p, ok := parsePyTime(tc.in)
		if !ok || p.iso() != tc.iso {
			t.Errorf("parsePyTime(%q) = %q, %v; want %q", tc.in, p.iso(), ok, tc.iso)
		}
	}
	for _, bad := range []string{"2020-13-01T00:00", "2020-02-30T00:00", "2020-01-01", "2020-01-01T00:00+24:00", "x"} {
		if _, ok := parsePyTime(bad); ok {
			t.Errorf("parsePyTime(%q) accepted", bad)
		}
	}
}

func FuzzParsePayload(f *testing.F) {
	var v struct {
		Transactions []struct {
			Family  string `json:"family_name"`
			Payload string `json:"payload_utf8"`
		} `json:"transactions"`
	}
	if err := vectors.Decode("transactions.json", &v); err != nil {
		f.Fatal(err)
	}
	for i, tv := range v.Transactions {
		for j, fam := range families {
			if string(fam) == tv.Family {
				f.Add(uint8(j), []byte(tv.Payload))
			}
		}
		f.Add(uint8(i), []byte(strings.Replace(tv.Payload, `"`, `'`, 1)))
	}
	f.Fuzz(func(t *testing.T, fi uint8, payload []byte) {
		fam := families[int(fi)%len(families)]
		req, res := parsePayload(fam, payload)
		if res.msg == "" && res.internal == "" && req == nil {
			t.Fatal("no request and no error")
		}
		if req != nil && (res.msg != "" || res.internal != "") {
			t.Fatal("request and error")
		}
		// Whatever parses as stored state re-encodes to something that
		// parses to the same bytes again.
		if g, ok := decodeGGO(payload); ok {
			again, ok := decodeGGO(g.encode())
			if !ok || string(again.encode()) != string(g.encode()) {
				t.Fatalf("GGO round trip differs: %s", g.encode())
			}
		}
	})
}
