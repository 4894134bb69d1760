package ledger

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/originhub/originhub/internal/ledger/vectors"
)

type txVector struct {
	Name        string `json:"name"`
	Family      string `json:"family_name"`
	SignerPath  string `json:"transaction_signer_path"`
	BatcherPath string `json:"batch_signer_path"`
	Payload     string `json:"payload_utf8"`
	PayloadHex  string `json:"payload_hex"`
	PayloadSHA  string `json:"payload_sha512"`
	Header      struct {
		Inputs  []string `json:"inputs"`
		Outputs []string `json:"outputs"`
	} `json:"header_fields"`
	HeaderHex string `json:"header_hex"`
	Signature string `json:"header_signature"`
	ID        string `json:"transaction_id"`
	TxHex     string `json:"transaction_hex"`
}

// requestFromPayload rebuilds the typed request a vector's payload encodes,
// so that Payload() is checked against the vector bytes.
func requestFromPayload(t *testing.T, family, payload string) Request {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(payload), &m); err != nil {
		t.Fatal(err)
	}
	str := func(k string) string {
		var s string
		if err := json.Unmarshal(m[k], &s); err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		return s
	}
	ts := func(k string) time.Time {
		tm, err := time.Parse(time.RFC3339, str(k))
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	switch Family(family) {
	case FamilyPublishMeasurement:
		var amount int64
		_ = json.Unmarshal(m["amount"], &amount)
		return PublishMeasurementRequest{Begin: ts("begin"), End: ts("end"), Sector: str("sector"), Type: MeasurementType(str("type")), Amount: amount}
	case FamilyIssueGGO:
		r := IssueGGORequest{Origin: str("origin"), Destination: str("destination"), TechType: str("tech_type"), FuelType: str("fuel_type")}
		if string(m["emissions"]) != "null" {
			r.Emissions = m["emissions"]
		}
		return r
	case FamilyTransferGGO:
		return TransferGGORequest{Origin: str("origin"), Destination: str("destination")}
	case FamilySplitGGO:
		var parts []struct {
			Address string `json:"address"`
			Amount  int64  `json:"amount"`
		}
		_ = json.Unmarshal(m["parts"], &parts)
		r := SplitGGORequest{Origin: str("origin")}
		for _, p := range parts {
			r.Parts = append(r.Parts, SplitPart(p))
		}
		return r
	case FamilyRetireGGO:
		return RetireGGORequest{Origin: str("origin"), SettlementAddress: str("settlement_address")}
	case FamilySettlement:
		var ggos []string
		_ = json.Unmarshal(m["ggo_addresses"], &ggos)
		return SettlementRequest{SettlementAddress: str("settlement_address"), MeasurementAddress: str("measurement_address"), GGOAddresses: ggos}
	}
	t.Fatalf("unknown family %s", family)
	return nil
}

func loadTxVectors(t *testing.T) map[string]txVector {
	var v struct {
		Transactions []txVector `json:"transactions"`
	}
	loadVectors(t, "transactions.json", &v)
	out := make(map[string]txVector)
	for _, tv := range v.Transactions {
		out[tv.ID] = tv
		out[tv.Name] = tv
	}
	return out
}

func rawTx(t *testing.T, m *Key, tv txVector) Tx {
	t.Helper()
	req := requestFromPayload(t, tv.Family, tv.Payload)
	tx, err := NewTx(derive(t, m, tv.SignerPath), req, tv.Header.Inputs, tv.Header.Outputs)
	if err != nil {
		t.Fatal(err)
	}
	return tx
}

func TestTransactionVectors(t *testing.T) {
	var v struct {
		Transactions []txVector `json:"transactions"`
	}
	loadVectors(t, "transactions.json", &v)
	m := seedMaster(t)
	for _, tv := range v.Transactions {
		t.Run(tv.Name, func(t *testing.T) {
			tx := rawTx(t, m, tv)
			if string(tx.Payload) != tv.Payload || hex.EncodeToString(tx.Payload) != tv.PayloadHex {
				t.Fatalf("payload = %s\nwant      %s", tx.Payload, tv.Payload)
			}
			b, err := NewBatch(derive(t, m, tv.BatcherPath), tx)
			if err != nil {
				t.Fatal(err)
			}
			st := b.Transactions[0]
			if got := hex.EncodeToString(st.HeaderBytes); got != tv.HeaderHex {
				t.Errorf("header = %s\nwant     %s", got, tv.HeaderHex)
			}
			if st.ID != tv.Signature || st.ID != tv.ID {
				t.Errorf("id = %s, want %s", st.ID, tv.ID)
			}
			if got := hex.EncodeToString(st.Bytes); got != tv.TxHex {
				t.Errorf("transaction = %s\nwant          %s", got, tv.TxHex)
			}
			h, err := UnmarshalTransactionHeader(st.HeaderBytes)
			if err != nil {
				t.Fatal(err)
			}
			if h.PayloadSHA512 != tv.PayloadSHA || !slices.Equal(h.Inputs, tv.Header.Inputs) || h.FamilyName != tv.Family {
				t.Errorf("decoded header = %+v", h)
			}
		})
	}
}

func checkBatch(t *testing.T, b Batch, bv vectors.Batch) {
	t.Helper()
	if b.ID != bv.ID {
		t.Errorf("batch id = %s, want %s", b.ID, bv.ID)
	}
	if !slices.Equal(b.TransactionIDs(), bv.TxIDs) {
		t.Errorf("transaction ids = %v, want %v", b.TransactionIDs(), bv.TxIDs)
	}
	if got := hex.EncodeToString(b.HeaderBytes); got != bv.HeaderHex {
		t.Errorf("batch header = %s\nwant %s", got, bv.HeaderHex)
	}
	if got := hex.EncodeToString(b.BatchBytes); got != bv.BatchHex {
		t.Errorf("batch differs")
	}
	if got := hex.EncodeToString(b.Bytes); got != bv.ListHex {
		t.Errorf("batch list differs")
	}
	if got := base64.StdEncoding.EncodeToString(b.Bytes); got != bv.Base64 {
		t.Errorf("batch list base64 differs")
	}
}

// TestBatchVectors builds batches A-E with the high-level constructors the
// services use, and the invalid batches from raw transactions.
func TestBatchVectors(t *testing.T) {
	m := seedMaster(t)
	txv := loadTxVectors(t)
	set := vectors.Load(t)
	valid, invalid := set.Valid, set.Invalid
	mp0, mp1 := derive(t, m, "m/1/0"), derive(t, m, "m/1/1")
	begin := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	mkP, _ := mp0.MeasurementKey(begin)
	mkC, _ := mp1.MeasurementKey(begin)
	u0, _ := m.TradedGGOKey(0)
	u1, _ := m.TradedGGOKey(1)
	u2, _ := m.TradedGGOKey(2)
	must := func(tx Tx, err error) Tx {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return tx
	}
	build := map[string]func() (Batch, error){
		"A_publish_and_issue": func() (Batch, error) {
			pub := must(PublishMeasurement(mp0, Measurement{Address: mkP.Address(PrefixMeasurement), Begin: begin, Sector: "DK1", Type: Production, Amount: 100}))
			iss := must(IssueGGO(mp0, Issue{MeasurementAddress: mkP.Address(PrefixMeasurement), GGOAddress: mkP.Address(PrefixGGO), TechType: "T020001", FuelType: "F01050100"}))
			return NewBatch(mp0, pub, iss)
		},
		"B_publish_consumption": func() (Batch, error) {
			pub := must(PublishMeasurement(mp1, Measurement{Address: mkC.Address(PrefixMeasurement), Begin: begin, Sector: "DK1", Type: Consumption, Amount: 80}))
			return NewBatch(mp1, pub)
		},
		"C_split": func() (Batch, error) {
			sp := must(SplitGGO(mkP, mkP.Address(PrefixGGO), []SplitPart{{u0.Address(PrefixGGO), 60}, {u1.Address(PrefixGGO), 40}}))
			return NewBatch(m, sp)
		},
		"D_transfer": func() (Batch, error) {
			return NewBatch(m, must(TransferGGO(u1, u1.Address(PrefixGGO), u2.Address(PrefixGGO))))
		},
		"E_retire_and_settle": func() (Batch, error) {
			txs, err := RetireGGO(mkC, mkC.Address(PrefixMeasurement), []RetiredGGO{{u0, u0.Address(PrefixGGO)}})
			if err != nil {
				return Batch{}, err
			}
			return NewBatch(m, txs...)
		},
	}
	for _, bv := range valid {
		t.Run(bv.Name, func(t *testing.T) {
			b, err := build[bv.Name]()
			if err != nil {
				t.Fatal(err)
			}
			checkBatch(t, b, bv)
		})
	}
	for _, bv := range append(valid, invalid...) {
		t.Run("raw "+bv.Name, func(t *testing.T) {
			var txs []Tx
			for _, id := range bv.TxIDs {
				txs = append(txs, rawTx(t, m, txv[id]))
			}
			b, err := NewBatch(derive(t, m, bv.BatcherPath), txs...)
			if err != nil {
				t.Fatal(err)
			}
			checkBatch(t, b, bv)
			list, err := UnmarshalBatchList(b.Bytes)
			if err != nil || len(list) != 1 {
				t.Fatalf("UnmarshalBatchList() = %d, %v", len(list), err)
			}
			if got := list[0].Marshal(); !bytes.Equal(got, b.BatchBytes) {
				t.Errorf("decode/encode round trip differs")
			}
		})
	}
}

func TestConstructorsRefuse(t *testing.T) {
	m := seedMaster(t)
	u0, _ := m.TradedGGOKey(0)
	u1, _ := m.TradedGGOKey(1)
	g0, g1 := u0.Address(PrefixGGO), u1.Address(PrefixGGO)
	mp, _ := m.MeteringPointKey(0)
	begin := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	mk, _ := mp.MeasurementKey(begin)
	cet := time.FixedZone("CET", 3600)
	tests := []struct {
		name string
		err  error
	}{
		{"split by non-owner", func() error { _, err := SplitGGO(u1, g0, []SplitPart{{g1, 1}}); return err }()},
		{"split zero part", func() error { _, err := SplitGGO(u0, g0, []SplitPart{{g1, 0}}); return err }()},
		{"split repeated part", func() error { _, err := SplitGGO(u0, g0, []SplitPart{{g1, 1}, {g1, 1}}); return err }()},
		{"split to measurement ns", func() error {
			_, err := SplitGGO(u0, g0, []SplitPart{{mk.Address(PrefixMeasurement), 1}})
			return err
		}()},
		{"transfer bad checksum", func() error { _, err := TransferGGO(u0, g0, g1[:69]+"0"); return err }()},
		{"publish unaligned", func() error {
			_, err := PublishMeasurement(mp, Measurement{Address: mk.Address(PrefixMeasurement), Begin: begin.Add(time.Minute), Sector: "DK1", Type: Production})
			return err
		}()},
		{"publish non-UTC", func() error {
			_, err := PublishMeasurement(mp, Measurement{Address: mk.Address(PrefixMeasurement), Begin: begin.In(cet), Sector: "DK1", Type: Production})
			return err
		}()},
		{"issue to foreign ggo", func() error {
			_, err := IssueGGO(mp, Issue{MeasurementAddress: mk.Address(PrefixMeasurement), GGOAddress: g0, TechType: "T", FuelType: "F"})
			return err
		}()},
		{"retire by non-owner", func() error {
			_, err := RetireGGO(mk, mk.Address(PrefixMeasurement), []RetiredGGO{{u1, g0}})
			return err
		}()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.err == nil {
				t.Errorf("constructor accepted an invalid request")
			}
		})
	}
}
