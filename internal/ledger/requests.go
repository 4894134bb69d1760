package ledger

import (
	"errors"
	"fmt"
	"time"
)

// The constructors below build the transactions the services send, with
// the inputs and outputs of spec 5.2, and refuse up front what the real
// processor would accept but the stand-in's strict mode rejects (spec
// section 12): bad namespaces or checksums, non-UTC or unaligned hours,
// non-positive or repeated split parts, a signer that does not own the GGO,
// and a retire without its settlement.

// ErrInvalidRequest is wrapped by every client-side check failure.
var ErrInvalidRequest = errors.New("invalid ledger request")

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidRequest, fmt.Sprintf(format, args...))
}

func checkAddr(p Prefix, role, a string) error {
	if err := CheckAddress(p, a); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrInvalidRequest, role, err)
	}
	return nil
}

// Measurement describes one hourly measurement to publish.
type Measurement struct {
	Address string    // MEASUREMENT address of the hour's key
	Begin   time.Time // UTC, on the hour; End is Begin + 1 h
	Sector  string    // DK1 or DK2
	Type    MeasurementType
	Amount  int64 // Wh, >= 0
}

// PublishMeasurement builds a PublishMeasurementRequest signed by signer
// (the batch signer in the services: the metering point key).
func PublishMeasurement(signer *Key, m Measurement) (Tx, error) {
	if err := checkAddr(PrefixMeasurement, "measurement address", m.Address); err != nil {
		return Tx{}, err
	}
	if err := checkHour(m.Begin); err != nil {
		return Tx{}, err
	}
	if m.Sector != SectorDK1 && m.Sector != SectorDK2 {
		return Tx{}, invalid("sector %q is not DK1 or DK2", m.Sector)
	}
	if m.Type != Production && m.Type != Consumption {
		return Tx{}, invalid("measurement type %q", m.Type)
	}
	if m.Amount < 0 {
		return Tx{}, invalid("negative amount %d", m.Amount)
	}
	req := PublishMeasurementRequest{Begin: m.Begin, End: m.Begin.Add(time.Hour), Sector: m.Sector, Type: m.Type, Amount: m.Amount}
	return NewTx(signer, req, []string{m.Address}, []string{m.Address})
}

func checkHour(t time.Time) error {
	if _, off := t.Zone(); off != 0 {
		return invalid("begin %s is not UTC", t)
	}
	if !t.Equal(t.Truncate(time.Hour)) {
		return invalid("begin %s is not on the hour", t)
	}
	if _, err := MeasurementIndex(t); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidRequest, err)
	}
	return nil
}

// Issue describes a GGO to issue for a production measurement.
type Issue struct {
	MeasurementAddress string
	// GGOAddress must be the GGO address of the measurement's own key (same
	// characters 6-61), so that a measurement can be issued only once.
	GGOAddress string
	TechType   string // e.g. T020001
	FuelType   string // e.g. F01050100
	Emissions  []byte // optional JSON object of objects
}

// IssueGGO builds an IssueGGORequest signed by signer.
func IssueGGO(signer *Key, is Issue) (Tx, error) {
	if err := checkAddr(PrefixMeasurement, "measurement address", is.MeasurementAddress); err != nil {
		return Tx{}, err
	}
	if err := checkAddr(PrefixGGO, "ggo address", is.GGOAddress); err != nil {
		return Tx{}, err
	}
	if KeyPart(is.GGOAddress) != KeyPart(is.MeasurementAddress) {
		return Tx{}, invalid("ggo address %s does not belong to measurement %s", is.GGOAddress, is.MeasurementAddress)
	}
	req := IssueGGORequest{Origin: is.MeasurementAddress, Destination: is.GGOAddress, TechType: is.TechType, FuelType: is.FuelType, Emissions: is.Emissions}
	return NewTx(signer, req, []string{is.MeasurementAddress, is.GGOAddress}, []string{is.GGOAddress})
}

// checkOwner checks that owner's GGO address is origin, which also makes
// origin a well-formed GGO address.
func checkOwner(owner *Key, origin string) error {
	if owner == nil || owner.Address(PrefixGGO) != origin {
		if err := checkAddr(PrefixGGO, "origin", origin); err != nil {
			return err
		}
		return invalid("key does not own ggo %s", origin)
	}
	return nil
}

// TransferGGO builds a TransferGGORequest signed by the GGO's own key.
func TransferGGO(owner *Key, origin, destination string) (Tx, error) {
	if err := checkOwner(owner, origin); err != nil {
		return Tx{}, err
	}
	if err := checkAddr(PrefixGGO, "destination", destination); err != nil {
		return Tx{}, err
	}
	if destination == origin {
		return Tx{}, invalid("destination equals origin")
	}
	req := TransferGGORequest{Origin: origin, Destination: destination}
	return NewTx(owner, req, []string{origin, destination}, []string{origin, destination})
}

// SplitGGO builds a SplitGGORequest signed by the GGO's own key. Parts must
// be positive and go to distinct addresses; that they sum to the GGO's
// amount is checked by the ledger, which knows the amount.
func SplitGGO(owner *Key, origin string, parts []SplitPart) (Tx, error) {
	if err := checkOwner(owner, origin); err != nil {
		return Tx{}, err
	}
	if len(parts) == 0 {
		return Tx{}, invalid("split without parts")
	}
	addrs := make([]string, 0, len(parts)+1)
	addrs = append(addrs, origin)
	seen := map[string]bool{origin: true}
	for i, p := range parts {
		if err := checkAddr(PrefixGGO, fmt.Sprintf("part %d", i), p.Address); err != nil {
			return Tx{}, err
		}
		if p.Amount <= 0 {
			return Tx{}, invalid("part %d amount %d is not positive", i, p.Amount)
		}
		if seen[p.Address] {
			return Tx{}, invalid("part %d address %s repeats", i, p.Address)
		}
		seen[p.Address] = true
		addrs = append(addrs, p.Address)
	}
	req := SplitGGORequest{Origin: origin, Parts: parts}
	return NewTx(owner, req, addrs, addrs)
}

// RetiredGGO is one GGO to retire, with its own key.
type RetiredGGO struct {
	Key     *Key
	Address string
}

// RetireGGO builds the SDK's compound retire: one RetireGGORequest per GGO
// (signed by that GGO's key) followed by the SettlementRequest (signed by the
// consumption measurement's key). The settlement address must be the
// SETTLEMENT address of that key. Put all returned transactions in one batch,
// in order: a retire without its settlement would spend the GGO for nothing.
func RetireGGO(measurementKey *Key, measurementAddress string, ggos []RetiredGGO) ([]Tx, error) {
	if measurementKey == nil {
		return nil, invalid("nil measurement key")
	}
	if err := checkAddr(PrefixMeasurement, "measurement address", measurementAddress); err != nil {
		return nil, err
	}
	if measurementKey.Address(PrefixMeasurement) != measurementAddress {
		return nil, invalid("key does not own measurement %s", measurementAddress)
	}
	if len(ggos) == 0 {
		return nil, invalid("retire without ggos")
	}
	settlement := measurementKey.Address(PrefixSettlement)
	txs := make([]Tx, 0, len(ggos)+1)
	addrs := make([]string, len(ggos))
	seen := make(map[string]bool, len(ggos))
	for i, g := range ggos {
		if err := checkOwner(g.Key, g.Address); err != nil {
			return nil, err
		}
		if seen[g.Address] {
			return nil, invalid("ggo %s repeats", g.Address)
		}
		seen[g.Address] = true
		tx, err := NewTx(g.Key, RetireGGORequest{Origin: g.Address, SettlementAddress: settlement}, []string{g.Address}, []string{g.Address})
		if err != nil {
			return nil, err
		}
		txs = append(txs, tx)
		addrs[i] = g.Address
	}
	req := SettlementRequest{SettlementAddress: settlement, MeasurementAddress: measurementAddress, GGOAddresses: addrs}
	inputs := append([]string{settlement, measurementAddress}, addrs...)
	tx, err := NewTx(measurementKey, req, inputs, []string{settlement})
	if err != nil {
		return nil, err
	}
	return append(txs, tx), nil
}
