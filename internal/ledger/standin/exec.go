package standin

import (
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/originhub/originhub/internal/ledger"
)

// invalidError makes a transaction INVALID with the processor's message.
type invalidError struct{ msg string }

func (e *invalidError) Error() string { return e.msg }

func invalidf(format string, args ...any) error {
	return &invalidError{msg: fmt.Sprintf(format, args...)}
}

// internalError is a failure the real processor does not turn into INVALID
// (spec 9.5, 11.1): the validator retries it forever and the batch stays
// PENDING. Strict mode reports it as INVALID with a "stand-in: " message.
type internalError struct{ reason string }

func (e *internalError) Error() string { return e.reason }

func internalf(format string, args ...any) error {
	return &internalError{reason: fmt.Sprintf(format, args...)}
}

// strictPrefix starts every message only the stand-in gives.
const strictPrefix = "stand-in: "

// stateReader loads committed state for addresses not yet seen in a round.
type stateReader func(addr string) ([]byte, error)

// overlay is the state as a batch sees it: its own writes over the round's
// writes over what was loaded from the database.
type overlay struct {
	load   stateReader
	base   map[string][]byte // committed state, nil value = empty
	round  map[string][]byte // writes of batches committed in this round
	writes map[string][]byte // writes of the batch being executed
}

func (o *overlay) get(addr string) ([]byte, error) {
	if v, ok := o.writes[addr]; ok {
		return v, nil
	}
	if v, ok := o.round[addr]; ok {
		return v, nil
	}
	if v, ok := o.base[addr]; ok {
		return v, nil
	}
	v, err := o.load(addr)
	if err != nil {
		return nil, err
	}
	o.base[addr] = v
	return v, nil
}

// txContext is what one transaction may touch (spec 9.2): reads under its
// inputs, writes under its outputs, always full 70-character addresses.
type txContext struct {
	st     *overlay
	header ledger.TransactionHeader
	signer []byte
	strict bool
}

func covered(addr string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(addr, p) {
			return true
		}
	}
	return false
}

func (c *txContext) get(addr string) ([]byte, error) {
	if !ledger.IsAddressFormat(addr) {
		return nil, internalf("read of malformed address %q", addr)
	}
	if !covered(addr, c.header.Inputs) {
		return nil, internalf("read of %s outside the transaction inputs", addr)
	}
	return c.st.get(addr)
}

func (c *txContext) set(addr string, data []byte) error {
	if !ledger.IsAddressFormat(addr) {
		return internalf("write to malformed address %q", addr)
	}
	if !covered(addr, c.header.Outputs) {
		return internalf("write to %s outside the transaction outputs", addr)
	}
	c.st.writes[addr] = data
	return nil
}

func (c *txContext) key(p ledger.Prefix) string { return ledger.AddressOf(p, c.signer) }

// readObject reads and strictly parses the object at addr; anything else
// there, including nothing, fails with the processor's message.
func readObject[T any](c *txContext, addr, what string, decode func([]byte) (T, bool)) (T, error) {
	var zero T
	b, err := c.get(addr)
	if err != nil {
		return zero, err
	}
	v, ok := decode(b)
	if !ok {
		return zero, invalidf("Address %q does not contain a valid %s.", addr, what)
	}
	return v, nil
}

func (c *txContext) readMeasurement(addr string) (measurement, error) {
	return readObject(c, addr, "Measurement", decodeMeasurement)
}

func (c *txContext) readGGO(addr string) (ggo, error) {
	return readObject(c, addr, "GGO", decodeGGO)
}

func (c *txContext) empty(addr string) (bool, error) {
	b, err := c.get(addr)
	return len(b) == 0, err
}

// apply runs one transaction against the overlay, following spec section 11
// step by step so that the first failing check gives the reference message.
func (c *txContext) apply(payload []byte) error {
	family := ledger.Family(c.header.FamilyName)
	if family == ledger.FamilyPublishMeasurement {
		// The target is checked before the payload is parsed (11.2).
		if len(c.header.Outputs) == 0 {
			return internalf("publish without outputs")
		}
		target := c.header.Outputs[0]
		free, err := c.empty(target)
		if err != nil {
			return err
		}
		if !free {
			return invalidf("Address already in use %q!", target)
		}
	}
	if !utf8.Valid(payload) {
		return internalf("payload is not valid UTF-8")
	}
	req, res := parsePayload(family, payload)
	if res.internal != "" {
		return internalf("%s", res.internal)
	}
	if res.msg != "" {
		return &invalidError{msg: res.msg}
	}
	if c.strict {
		if msg := strictCheck(c.header, req); msg != "" {
			return &invalidError{msg: strictPrefix + msg}
		}
	}
	switch r := req.(type) {
	case publishReq:
		m := measurement{amount: r.amount, typ: r.typ, begin: r.begin, end: r.end, sector: r.sector}
		return c.set(c.header.Outputs[0], m.encode())
	case issueReq:
		return c.issue(r)
	case transferReq:
		return c.transfer(r)
	case splitReq:
		return c.split(r)
	case retireReq:
		g, err := c.spendable(r.origin)
		if err != nil {
			return err
		}
		g.next = &ggoNext{action: "RETIRE", addresses: []string{r.settlement}}
		return c.set(r.origin, g.encode())
	case settlementReq:
		return c.settle(r)
	}
	return internalf("no handler for family %q", family)
}

func (c *txContext) issue(r issueReq) error {
	m, err := c.readMeasurement(r.origin)
	if err != nil {
		return err
	}
	free, err := c.empty(r.destination)
	if err != nil {
		return err
	}
	if !free {
		return invalidf("GGO already issued!")
	}
	if m.typ != string(ledger.Production) {
		return invalidf("Measurement is not of type Production!")
	}
	g := ggo{origin: r.origin, amount: m.amount, begin: m.begin, end: m.end, sector: m.sector,
		techType: r.techType, fuelType: r.fuelType, emissions: r.emissions}
	return c.set(r.destination, g.encode())
}

// spendable reads the GGO at origin and checks steps 2-4 shared by
// transfer, split and retire.
func (c *txContext) spendable(origin string) (ggo, error) {
	g, err := c.readGGO(origin)
	if err != nil {
		return ggo{}, err
	}
	if g.next != nil {
		return ggo{}, invalidf("GGO already has been used")
	}
	if c.key(ledger.PrefixGGO) != origin {
		return ggo{}, invalidf("Invalid key for GGO")
	}
	return g, nil
}

func (c *txContext) transfer(r transferReq) error {
	g, err := c.spendable(r.origin)
	if err != nil {
		return err
	}
	free, err := c.empty(r.destination)
	if err != nil {
		return err
	}
	if !free {
		return invalidf("Destination address not empty")
	}
	child := g
	child.origin, child.next = r.origin, nil
	g.next = &ggoNext{action: "TRANSFER", addresses: []string{r.destination}}
	if err := c.set(r.origin, g.encode()); err != nil {
		return err
	}
	return c.set(r.destination, child.encode())
}

func (c *txContext) split(r splitReq) error {
	g, err := c.spendable(r.origin)
	if err != nil {
		return err
	}
	sum := new(big.Int)
	addrs := make([]string, len(r.parts))
	for i, p := range r.parts {
		free, err := c.empty(p.address)
		if err != nil {
			return err
		}
		if !free {
			return invalidf("Destination address not empty")
		}
		sum.Add(sum, big.NewInt(p.amount))
		addrs[i] = p.address
	}
	if sum.Cmp(big.NewInt(g.amount)) != 0 {
		return invalidf("The sum of the parts does not equal the whole")
	}
	for _, p := range r.parts {
		child := g
		child.origin, child.amount, child.next = r.origin, p.amount, nil
		if err := c.set(p.address, child.encode()); err != nil {
			return err
		}
	}
	g.next = &ggoNext{action: "SPLIT", addresses: addrs}
	return c.set(r.origin, g.encode())
}

func (c *txContext) settle(r settlementReq) error {
	m, err := c.readMeasurement(r.measurement)
	if err != nil {
		return err
	}
	b, err := c.get(r.settlement)
	if err != nil {
		return err
	}
	s, exists := decodeSettlement(b)
	if exists {
		if s.measurement != r.measurement {
			return invalidf("Measurement does not equal settlement measurement")
		}
		if c.key(ledger.PrefixSettlement) != r.settlement {
			return invalidf("Invalid key for settlement")
		}
	} else {
		if ledger.KeyPart(r.measurement) != ledger.KeyPart(r.settlement) {
			return invalidf("Not correct settlement address for measurement")
		}
		if m.typ != string(ledger.Consumption) {
			return invalidf("Measurment is not of type consumption")
		}
		if c.key(ledger.PrefixMeasurement) != r.measurement {
			return invalidf("Invalid key for measurement")
		}
		s = settlement{measurement: r.measurement}
	}
	for _, addr := range r.ggos {
		g, err := c.readGGO(addr)
		if err != nil {
			return err
		}
		if g.next == nil || g.next.action != "RETIRE" || len(g.next.addresses) != 1 || g.next.addresses[0] != r.settlement {
			return invalidf("Invalid retired GGO in settlement")
		}
		if g.sector != m.sector {
			return invalidf("GGO not produced in same sector as measurement")
		}
		if !g.begin.equal(m.begin) {
			return invalidf("GGO not produced at the same time as measurement")
		}
		if slices.ContainsFunc(s.parts, func(p settlementPart) bool { return p.ggo == addr }) {
			return invalidf("GGO already part of settlement")
		}
		s.parts = append(s.parts, settlementPart{ggo: addr, amount: g.amount})
	}
	sum := new(big.Int)
	for _, p := range s.parts {
		sum.Add(sum, big.NewInt(p.amount))
	}
	if sum.Cmp(big.NewInt(m.amount)) > 0 {
		return invalidf("Invalid to retire more that measurement amount")
	}
	return c.set(r.settlement, s.encode())
}

// strictCheck rejects, in strict mode, what the processor lets through
// (spec section 12). It returns "" when the request passes.
func strictCheck(h ledger.TransactionHeader, req any) string {
	check := func(p ledger.Prefix, role, addr string) string {
		if err := ledger.CheckAddress(p, addr); err != nil {
			return fmt.Sprintf("%s %s is not a valid %s address", role, addr, p)
		}
		return ""
	}
	first := func(msgs ...string) string {
		for _, m := range msgs {
			if m != "" {
				return m
			}
		}
		return ""
	}
	switch r := req.(type) {
	case publishReq:
		if msg := check(ledger.PrefixMeasurement, "measurement", h.Outputs[0]); msg != "" {
			return msg
		}
		for _, t := range []pyTime{r.begin, r.end} {
			if _, off := t.t.Zone(); !t.aware || off != 0 {
				return fmt.Sprintf("timestamp %s is not UTC", t.iso())
			}
		}
		if r.begin.t.Minute() != 0 || r.begin.t.Second() != 0 || r.begin.t.Nanosecond() != 0 {
			return fmt.Sprintf("begin %s is not on the hour", r.begin.iso())
		}
	case issueReq:
		if msg := first(check(ledger.PrefixMeasurement, "origin", r.origin), check(ledger.PrefixGGO, "destination", r.destination)); msg != "" {
			return msg
		}
		if ledger.KeyPart(r.origin) != ledger.KeyPart(r.destination) {
			return fmt.Sprintf("destination %s is not the GGO address of measurement %s", r.destination, r.origin)
		}
	case transferReq:
		return first(check(ledger.PrefixGGO, "origin", r.origin), check(ledger.PrefixGGO, "destination", r.destination))
	case splitReq:
		if msg := check(ledger.PrefixGGO, "origin", r.origin); msg != "" {
			return msg
		}
		seen := map[string]bool{}
		for i, p := range r.parts {
			if msg := check(ledger.PrefixGGO, fmt.Sprintf("part %d", i), p.address); msg != "" {
				return msg
			}
			if p.amount <= 0 {
				return fmt.Sprintf("part %d amount %d is not positive", i, p.amount)
			}
			if seen[p.address] {
				return fmt.Sprintf("part %d address %s is repeated", i, p.address)
			}
			seen[p.address] = true
		}
	case retireReq:
		return first(check(ledger.PrefixGGO, "origin", r.origin), check(ledger.PrefixSettlement, "settlement", r.settlement))
	case settlementReq:
		if msg := first(check(ledger.PrefixSettlement, "settlement", r.settlement), check(ledger.PrefixMeasurement, "measurement", r.measurement)); msg != "" {
			return msg
		}
		for _, g := range r.ggos {
			if msg := check(ledger.PrefixGGO, "ggo", g); msg != "" {
				return msg
			}
		}
	}
	return ""
}

// decodedBatch is a batch as stored: its id, transaction headers, and
// payloads, all verified at submission.
type decodedBatch struct {
	id      string
	txIDs   []string
	headers []ledger.TransactionHeader
	msgs    []ledger.Transaction
}

func decodeStoredBatch(id string, body []byte) (decodedBatch, error) {
	list, err := ledger.UnmarshalBatchList(body)
	if err != nil || len(list) != 1 {
		return decodedBatch{}, fmt.Errorf("decode stored batch %s: %v", id, err)
	}
	b := decodedBatch{id: id, msgs: list[0].Transactions}
	for _, t := range b.msgs {
		h, err := ledger.UnmarshalTransactionHeader(t.HeaderBytes)
		if err != nil {
			return decodedBatch{}, fmt.Errorf("decode stored batch %s: %w", id, err)
		}
		b.headers = append(b.headers, h)
		b.txIDs = append(b.txIDs, t.HeaderSignature)
	}
	return b, nil
}

// batchOutcome is the result of executing one batch.
type batchOutcome struct {
	committed bool
	txID, msg string // INVALID: the failing transaction and its message
	stuck     string // stays PENDING (compatible mode) for this reason
}

var knownFamilies = map[string]bool{
	string(ledger.FamilyPublishMeasurement): true, string(ledger.FamilyIssueGGO): true,
	string(ledger.FamilyTransferGGO): true, string(ledger.FamilySplitGGO): true,
	string(ledger.FamilyRetireGGO): true, string(ledger.FamilySettlement): true,
}

// validPrefix is the validator's rule for inputs/outputs entries.
func validPrefix(a string) bool {
	if len(a) > ledger.AddressLen || len(a)%2 != 0 {
		return false
	}
	_, err := hex.DecodeString(a)
	return err == nil && strings.ToLower(a) == a
}

// execute runs every transaction of b in order on st. On success the
// batch's writes are left in st.writes for the caller to merge; on failure
// they are discarded. committedTx reports transaction ids already committed.
func execute(st *overlay, b decodedBatch, strict bool, committedTx func(string) bool) (batchOutcome, error) {
	st.writes = map[string][]byte{}
	stuck := func(txID, reason string) batchOutcome {
		if strict {
			return batchOutcome{txID: txID, msg: strictPrefix + reason}
		}
		return batchOutcome{stuck: reason}
	}
	for i, h := range b.headers {
		id := b.txIDs[i]
		if committedTx(id) {
			return stuck(id, fmt.Sprintf("transaction %s is already committed", id)), nil
		}
		if !knownFamilies[h.FamilyName] || h.FamilyVersion != ledger.FamilyVersion {
			return stuck(id, fmt.Sprintf("no transaction processor for %s %s", h.FamilyName, h.FamilyVersion)), nil
		}
		for _, d := range h.Dependencies {
			// The SDK never sets dependencies. One on a committed
			// transaction is satisfied; any other keeps the batch out of
			// blocks (spec 9.5), and the stand-in does not wait for it.
			if !committedTx(d) {
				return stuck(id, fmt.Sprintf("dependency %s is not a committed transaction", d)), nil
			}
		}
		for _, a := range slices.Concat(h.Inputs, h.Outputs) {
			if !validPrefix(a) {
				return stuck(id, fmt.Sprintf("input or output %q is not lowercase hex of even length up to 70", a)), nil
			}
		}
		signer, _ := hex.DecodeString(h.SignerPublicKey)
		c := &txContext{st: st, header: h, signer: signer, strict: strict}
		err := c.apply(b.msgs[i].Payload)
		var inv *invalidError
		var ie *internalError
		switch {
		case err == nil:
		case errors.As(err, &inv):
			return batchOutcome{txID: id, msg: inv.msg}, nil
		case errors.As(err, &ie):
			return stuck(id, ie.reason), nil
		default:
			return batchOutcome{}, err
		}
	}
	if strict {
		if id, msg := unsettledRetire(b); msg != "" {
			return batchOutcome{txID: id, msg: strictPrefix + msg}, nil
		}
	}
	return batchOutcome{committed: true}, nil
}

// unsettledRetire finds a retire with no later settlement in the same batch
// that lists its GGO under the same settlement address.
func unsettledRetire(b decodedBatch) (txID, msg string) {
	for i, h := range b.headers {
		if h.FamilyName != string(ledger.FamilyRetireGGO) {
			continue
		}
		req, _ := parsePayload(ledger.FamilyRetireGGO, b.msgs[i].Payload)
		r := req.(retireReq)
		settled := false
		for j := i + 1; j < len(b.headers) && !settled; j++ {
			if b.headers[j].FamilyName != string(ledger.FamilySettlement) {
				continue
			}
			sreq, _ := parsePayload(ledger.FamilySettlement, b.msgs[j].Payload)
			s := sreq.(settlementReq)
			settled = s.settlement == r.settlement && slices.Contains(s.ggos, r.origin)
		}
		if !settled {
			return b.txIDs[i], fmt.Sprintf("retired GGO %s is not added to settlement %s in the same batch", r.origin, r.settlement)
		}
	}
	return "", ""
}
