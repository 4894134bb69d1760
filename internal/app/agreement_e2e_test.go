package app_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/originhub/originhub/internal/agreement"
	"github.com/originhub/originhub/internal/relay"
	"github.com/originhub/originhub/internal/testkit"
	"github.com/originhub/originhub/models"
)

// party is one user of an e2e test: its row and its Authorization header.
type party struct {
	models.User
	auth string
}

func newParty(t *testing.T, p *platform, name string) party {
	t.Helper()
	sub := testkit.Subject(t) + "-" + name
	u, err := p.app.Users.Ensure(t.Context(), sub)
	if err != nil {
		t.Fatal(err)
	}
	return party{User: u, auth: "Bearer " + p.token(t, sub)}
}

type userError struct {
	Field   []string `json:"field"`
	Message string   `json:"message"`
	Code    string   `json:"code"`
}

// agreementJSON is what the tests select of an Agreement.
type agreementJSON struct {
	ID           string `json:"id"`
	PublicID     string `json:"publicId"`
	Reference    string `json:"reference"`
	Direction    string `json:"direction"`
	State        string `json:"state"`
	ProposedByMe bool   `json:"proposedByMe"`
	Counterpart  struct {
		ID               string `json:"id"`
		Name             string `json:"name"`
		Company          string `json:"company"`
		AccountReference string `json:"accountReference"`
	} `json:"counterpart"`
	Amount           *int    `json:"amount"`
	Unit             *string `json:"unit"`
	CapPerHour       *int64  `json:"capPerHour"`
	AmountPercent    *int    `json:"amountPercent"`
	DateFrom         string  `json:"dateFrom"`
	DateTo           string  `json:"dateTo"`
	Technologies     []string
	TransferPriority *int    `json:"transferPriority"`
	Transferred      int64   `json:"transferred"`
	AcceptedAt       *string `json:"acceptedAt"`
	DeclinedAt       *string `json:"declinedAt"`
	WithdrawnAt      *string `json:"withdrawnAt"`
	CancelledAt      *string `json:"cancelledAt"`
}

const agreementFields = `id publicId reference direction state proposedByMe
	counterpart { id name company accountReference }
	amount unit capPerHour amountPercent dateFrom dateTo technologies transferPriority transferred
	acceptedAt declinedAt withdrawnAt cancelledAt`

type agreementPayloadJSON struct {
	Agreement  *agreementJSON `json:"agreement"`
	UserErrors []userError    `json:"userErrors"`
}

// agreementAPI drives the agreement mutations and queries over HTTP.
type agreementAPI struct {
	t *testing.T
	p *platform
}

func (a agreementAPI) mutate(who party, name, inputType string, in map[string]any) agreementPayloadJSON {
	a.t.Helper()
	q := `mutation($in: ` + inputType + `!) { ` + name + `(input: $in) { agreement { ` + agreementFields + ` } userErrors { field message code } } }`
	_, r := a.p.post(a.t, who.auth, q, map[string]any{"in": in})
	var out map[string]agreementPayloadJSON
	mustData(a.t, r, &out)
	return out[name]
}

func (a agreementAPI) propose(who party, in map[string]any) agreementPayloadJSON {
	a.t.Helper()
	return a.mutate(who, "proposeAgreement", "ProposeAgreementInput", in)
}

// ok fails the test unless the payload carries an agreement in state want.
func (a agreementAPI) ok(what string, pl agreementPayloadJSON, want string) agreementJSON {
	a.t.Helper()
	if len(pl.UserErrors) > 0 || pl.Agreement == nil || pl.Agreement.State != want {
		a.t.Fatalf("%s = %+v (agreement %+v), want %s", what, pl.UserErrors, pl.Agreement, want)
	}
	return *pl.Agreement
}

// refused fails the test unless the payload carries exactly one userError with code and field.
func (a agreementAPI) refused(what string, pl agreementPayloadJSON, code, field string) {
	a.t.Helper()
	if pl.Agreement != nil || len(pl.UserErrors) != 1 || pl.UserErrors[0].Code != code || strings.Join(pl.UserErrors[0].Field, ".") != field {
		a.t.Fatalf("%s = %+v (agreement %+v), want one %s userError on %s", what, pl.UserErrors, pl.Agreement, code, field)
	}
}

func (a agreementAPI) list(who party, args string) []agreementJSON {
	a.t.Helper()
	_, r := a.p.post(a.t, who.auth, `{ agreements`+args+` { nodes { `+agreementFields+` } } }`, nil)
	var out struct {
		Agreements struct{ Nodes []agreementJSON }
	}
	mustData(a.t, r, &out)
	return out.Agreements.Nodes
}

func refs(as []agreementJSON) []string {
	var out []string
	for _, a := range as {
		out = append(out, a.Reference)
	}
	return out
}

// TestAgreementLifecycleOverGraphQL runs the state machine over HTTP: propose → accept,
// propose → decline, withdraw, cancel by either party, transfer priorities; validation
// refusals are BAD_USER_INPUT; a third user sees and touches none of it.
func TestAgreementLifecycleOverGraphQL(t *testing.T) {
	p := start(t, testConfig(t, testkit.DatabaseURI(t), "GRAPHQL_MAX_DEPTH", "8", "RATE_LIMIT_PER_MINUTE", "0"))
	api := agreementAPI{t: t, p: p}
	alice, bob, eve := newParty(t, p, "alice"), newParty(t, p, "bob"), newParty(t, p, "eve")
	carol := newParty(t, p, "carol")
	// Profiles: what counterparts find each other by. Unique prefixes keep other tests' users out.
	tag := strings.ToLower(strings.ReplaceAll(alice.Subject, "-", ""))
	profile := `mutation($in: UpdateProfileInput!) { updateProfile(input: $in) { me { name company } userErrors { field code } } }`
	for _, x := range []struct {
		who           party
		name, company string
	}{{alice, "Alice " + tag, "Aço Vind " + tag}, {bob, "Bob " + tag, "Blæst ApS " + tag}, {carol, "Carol " + tag, "Sol " + tag}} {
		_, r := p.post(t, x.who.auth, profile, map[string]any{"in": map[string]any{"name": x.name, "company": x.company}})
		if got := string(r.Data["updateProfile"]); len(r.Errors) > 0 || !strings.Contains(got, `"userErrors":[]`) || !strings.Contains(got, x.company) {
			t.Fatalf("updateProfile = %s %+v", got, r.Errors)
		}
	}
	_, r := p.post(t, eve.auth, profile, map[string]any{"in": map[string]any{"name": strings.Repeat("x", 201), "company": ""}})
	if !strings.Contains(string(r.Data["updateProfile"]), `"BAD_USER_INPUT"`) {
		t.Fatalf("updateProfile(201 characters) = %s, want BAD_USER_INPUT", r.Data["updateProfile"])
	}

	// Autocomplete by name or company prefix, case-insensitive; only profile fields.
	find := func(who party, q string) ([]agreementJSON, gqlResponse) {
		_, r := p.post(t, who.auth, `query($q: String!) { agreementCounterparts(query: $q) { id name company accountReference } }`, map[string]any{"q": q})
		var out struct{ AgreementCounterparts []json.RawMessage }
		if len(r.Errors) > 0 {
			return nil, r
		}
		mustData(t, r, &out)
		cps := make([]agreementJSON, len(out.AgreementCounterparts))
		for i, raw := range out.AgreementCounterparts {
			if err := json.Unmarshal(raw, &cps[i].Counterpart); err != nil {
				t.Fatal(err)
			}
		}
		return cps, r
	}
	for _, q := range []string{"BLÆST APS " + tag, "bob " + tag} {
		cps, _ := find(alice, q)
		if len(cps) != 1 || cps[0].Counterpart.AccountReference != bob.AccountReference || cps[0].Counterpart.Name != "Bob "+tag || cps[0].Counterpart.ID == "" {
			t.Fatalf("agreementCounterparts(%q) = %+v, want bob", q, cps)
		}
	}
	// Neither an account reference nor anything else a user holds finds anyone; nobody finds themselves.
	for _, q := range []string{bob.AccountReference, "alice " + tag} {
		if cps, _ := find(alice, q); len(cps) != 0 {
			t.Fatalf("agreementCounterparts(%q) = %+v, want nobody", q, cps)
		}
	}
	if _, r := find(alice, "b"); r.code() != "BAD_USER_INPUT" {
		t.Fatalf("agreementCounterparts(1 character) = %+v, want BAD_USER_INPUT", r.Errors)
	}
	// A Counterpart has the profile and nothing else.
	_, r = p.post(t, "", `{ __type(name: "Counterpart") { fields { name } } }`, nil)
	if got := string(r.Data["__type"]); got != `{"fields":[{"name":"id"},{"name":"name"},{"name":"company"},{"name":"accountReference"}]}` {
		t.Fatalf("Counterpart fields = %s, want id, name, company, accountReference only", got)
	}
	cps, _ := find(alice, "bob "+tag)
	bobID := cps[0].Counterpart.ID
	cps, _ = find(alice, "carol "+tag)
	carolID := cps[0].Counterpart.ID

	base := func(ref string) map[string]any {
		return map[string]any{"direction": "OUTBOUND", "counterpartId": bobID, "reference": ref, "amountPercent": 10,
			"dateFrom": "2027-01-01", "dateTo": "2027-12-31", "proposalNote": "hello"}
	}
	with := func(ref string, kv ...any) map[string]any {
		in := base(ref)
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(in, kv[i].(string))
			} else {
				in[kv[i].(string)] = kv[i+1]
			}
		}
		return in
	}
	// Validation: each refusal is a BAD_USER_INPUT userError on the input field. selfID is
	// alice's own id, as bob finds her.
	selfID := ""
	if cps, _ := find(bob, "alice "+tag); len(cps) == 1 {
		selfID = cps[0].Counterpart.ID
	}
	for _, tc := range []struct {
		name  string
		in    map[string]any
		field string
	}{
		{"percent 0", with("v", "amountPercent", 0), "input.amountPercent"},
		{"percent 101", with("v", "amountPercent", 101), "input.amountPercent"},
		{"amount without unit", with("v", "amountPercent", nil, "amount", 5), "input.amount"},
		{"no cap", with("v", "amountPercent", nil), "input.amount"},
		{"unknown technology", with("v", "technologies", []string{"Coal power"}), "input.technologies"},
		{"others' facility", with("v", "facilityGsrns", []string{"570000000000000000"}), "input.facilityGsrns"},
		{"dates reversed", with("v", "dateFrom", "2027-02-01", "dateTo", "2027-01-31"), "input.dateTo"},
		{"empty reference", with(" "), "input.reference"},
		{"not an account id", with("v", "counterpartId", "nope"), "input.counterpartId"},
		{"self", with("v", "counterpartId", selfID), "input.counterpartId"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			api.refused("proposeAgreement("+tc.name+")", api.propose(alice, tc.in), "BAD_USER_INPUT", tc.field)
		})
	}
	// An input that is not even a Date is a GraphQL error, also BAD_USER_INPUT.
	if _, r := p.post(t, alice.auth, `mutation($in: ProposeAgreementInput!) { proposeAgreement(input: $in) { userErrors { code } } }`,
		map[string]any{"in": with("v", "dateFrom", "2027-13-01")}); r.code() != "BAD_USER_INPUT" {
		t.Fatalf("proposeAgreement(month 13) = %+v, want BAD_USER_INPUT", r.Errors)
	}

	// Propose → accept.
	amount := with("A", "amountPercent", nil, "amount", 5, "unit", "KWH", "technologies", []string{"Wind"})
	a := api.ok("propose A", api.propose(alice, amount), "PENDING")
	if a.Direction != "OUTBOUND" || !a.ProposedByMe || a.Counterpart.Name != "Bob "+tag || a.Counterpart.AccountReference != bob.AccountReference ||
		deref(a.CapPerHour) != 5000 || deref(a.Unit) != "KWH" || a.DateFrom != "2027-01-01" || a.DateTo != "2027-12-31" || a.TransferPriority != nil {
		t.Fatalf("proposed A = %+v", a)
	}
	if n := pendingCount(t, p, bob); n != 1 {
		t.Fatalf("bob's pendingAgreementCount = %d, want 1", n)
	}
	if n := pendingCount(t, p, alice); n != 0 {
		t.Fatalf("alice's pendingAgreementCount = %d, want 0 (she proposed it)", n)
	}
	got := api.list(bob, `(where: {state: [PENDING], proposedByMe: false})`)
	if len(got) != 1 || got[0].ID != a.ID || got[0].Direction != "INBOUND" || got[0].ProposedByMe || got[0].Counterpart.Company != "Aço Vind "+tag {
		t.Fatalf("bob's agreements awaiting him = %+v, want A inbound from alice", got)
	}
	api.refused("alice accepts her own", api.mutate(alice, "respondToAgreement", "RespondToAgreementInput", map[string]any{"id": a.ID, "accept": true}), "CONFLICT", "input.id")

	// A third user: nothing to see, nothing to touch.
	if got := api.list(eve, ""); len(got) != 0 {
		t.Fatalf("eve's agreements = %+v, want none", got)
	}
	if _, r := p.post(t, eve.auth, `query($id: ID!) { agreement(id: $id) { id } }`, map[string]any{"id": a.ID}); r.code() != "NOT_FOUND" || string(r.Data["agreement"]) != "null" {
		t.Fatalf("eve's agreement(A) = %s %+v, want NOT_FOUND", r.Data["agreement"], r.Errors)
	}
	if _, r := p.post(t, eve.auth, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": a.ID}); len(r.Errors) > 0 || string(r.Data["node"]) != "null" {
		t.Fatalf("eve's node(A) = %s %+v, want null", r.Data["node"], r.Errors)
	}
	for _, m := range []struct{ name, typ string }{
		{"respondToAgreement", "RespondToAgreementInput"}, {"cancelAgreement", "CancelAgreementInput"}, {"withdrawAgreement", "WithdrawAgreementInput"},
	} {
		in := map[string]any{"id": a.ID}
		if m.name == "respondToAgreement" {
			in["accept"] = true
		}
		api.refused("eve's "+m.name, api.mutate(eve, m.name, m.typ, in), "NOT_FOUND", "input.id")
	}
	if _, r := p.post(t, eve.auth, `mutation($ids: [ID!]!) { setAgreementTransferPriority(input: {ids: $ids}) { userErrors { code } } }`,
		map[string]any{"ids": []string{a.ID}}); !strings.Contains(string(r.Data["setAgreementTransferPriority"]), "BAD_USER_INPUT") {
		t.Fatalf("eve's setAgreementTransferPriority(A) = %s, want BAD_USER_INPUT", r.Data["setAgreementTransferPriority"])
	}
	if n := pendingCount(t, p, eve); n != 0 {
		t.Fatalf("eve's pendingAgreementCount = %d", n)
	}

	a = api.ok("bob accepts A", api.mutate(bob, "respondToAgreement", "RespondToAgreementInput", map[string]any{"id": a.ID, "accept": true}), "ACCEPTED")
	if a.AcceptedAt == nil || a.Direction != "INBOUND" || a.TransferPriority != nil {
		t.Fatalf("accepted A as bob sees it = %+v, want inbound with an acceptance time and no priority", a)
	}
	_, r = p.post(t, alice.auth, `query($id: ID!) { agreement(id: $id) { `+agreementFields+` } }`, map[string]any{"id": a.ID})
	var one struct{ Agreement agreementJSON }
	mustData(t, r, &one)
	if one.Agreement.Direction != "OUTBOUND" || deref(one.Agreement.TransferPriority) != 0 || one.Agreement.Transferred != 0 {
		t.Fatalf("A as alice sees it = %+v, want outbound, priority 0, nothing transferred yet", one.Agreement)
	}
	api.refused("accept A twice", api.mutate(bob, "respondToAgreement", "RespondToAgreementInput", map[string]any{"id": a.ID, "accept": true}), "CONFLICT", "input.id")

	// Propose → decline; proposed inbound by bob.
	d := api.ok("bob proposes D", api.propose(bob, with("D", "direction", "INBOUND", "counterpartId", selfID)), "PENDING")
	if d.Direction != "INBOUND" {
		t.Fatalf("D as bob sees it = %+v, want INBOUND", d)
	}
	d = api.ok("alice declines D", api.mutate(alice, "respondToAgreement", "RespondToAgreementInput", map[string]any{"id": d.ID, "accept": false}), "DECLINED")
	if d.DeclinedAt == nil || d.Direction != "OUTBOUND" || d.TransferPriority != nil {
		t.Fatalf("declined D = %+v", d)
	}
	// Withdraw: only the proposer, only while pending.
	w := api.ok("propose W", api.propose(alice, with("W")), "PENDING")
	api.refused("bob withdraws alice's W", api.mutate(bob, "withdrawAgreement", "WithdrawAgreementInput", map[string]any{"id": w.ID}), "CONFLICT", "input.id")
	w = api.ok("withdraw W", api.mutate(alice, "withdrawAgreement", "WithdrawAgreementInput", map[string]any{"id": w.ID}), "WITHDRAWN")
	if w.WithdrawnAt == nil {
		t.Fatalf("withdrawn W = %+v", w)
	}
	api.refused("accept withdrawn W", api.mutate(bob, "respondToAgreement", "RespondToAgreementInput", map[string]any{"id": w.ID, "accept": true}), "CONFLICT", "input.id")
	api.refused("cancel pending", api.mutate(alice, "cancelAgreement", "CancelAgreementInput", map[string]any{"id": api.ok("propose P", api.propose(alice, with("P")), "PENDING").ID}), "CONFLICT", "input.id")

	// Priorities: B to carol and C to bob go after A in acceptance order.
	b := api.ok("propose B", api.propose(alice, with("B", "counterpartId", carolID)), "PENDING")
	api.ok("carol accepts B", api.mutate(carol, "respondToAgreement", "RespondToAgreementInput", map[string]any{"id": b.ID, "accept": true}), "ACCEPTED")
	c := api.ok("propose C", api.propose(alice, with("C")), "PENDING")
	api.ok("bob accepts C", api.mutate(bob, "respondToAgreement", "RespondToAgreementInput", map[string]any{"id": c.ID, "accept": true}), "ACCEPTED")
	outbound := `(where: {state: [ACCEPTED], direction: OUTBOUND}, orderBy: TRANSFER_PRIORITY)`
	if got := refs(api.list(alice, outbound)); !slices.Equal(got, []string{"A", "B", "C"}) {
		t.Fatalf("alice's outbound = %v, want [A B C] (acceptance order)", got)
	}
	setPrio := `mutation($ids: [ID!]!) { setAgreementTransferPriority(input: {ids: $ids}) { agreements { reference transferPriority } userErrors { field code } } }`
	_, r = p.post(t, alice.auth, setPrio, map[string]any{"ids": []string{c.ID, a.ID}})
	if got := string(r.Data["setAgreementTransferPriority"]); len(r.Errors) > 0 ||
		got != `{"agreements":[{"reference":"C","transferPriority":0},{"reference":"A","transferPriority":1},{"reference":"B","transferPriority":2}],"userErrors":[]}` {
		t.Fatalf("setAgreementTransferPriority([C A]) = %s %+v", got, r.Errors)
	}
	// The recipient cannot order the sender's agreements; an id that is not an agreement's is refused.
	for who, ids := range map[string][]string{"bob": {a.ID}, "alice": {bobID}} {
		auth := bob.auth
		if who == "alice" {
			auth = alice.auth
		}
		_, r = p.post(t, auth, setPrio, map[string]any{"ids": ids})
		if got := string(r.Data["setAgreementTransferPriority"]); !strings.Contains(got, `"code":"BAD_USER_INPUT"`) || !strings.Contains(got, `"agreements":[]`) {
			t.Fatalf("%s's setAgreementTransferPriority(%v) = %s, want BAD_USER_INPUT", who, ids, got)
		}
	}
	// Cancel by either party; the sender's priorities close the gap.
	cancelled := api.ok("bob cancels A", api.mutate(bob, "cancelAgreement", "CancelAgreementInput", map[string]any{"id": a.ID}), "CANCELLED")
	if cancelled.CancelledAt == nil {
		t.Fatalf("cancelled A = %+v", cancelled)
	}
	if got := api.list(alice, outbound); len(got) != 2 || got[0].Reference != "C" || deref(got[0].TransferPriority) != 0 || got[1].Reference != "B" || deref(got[1].TransferPriority) != 1 {
		t.Fatalf("alice's outbound after bob cancelled A = %+v, want C 0, B 1", got)
	}
	api.ok("alice cancels B", api.mutate(alice, "cancelAgreement", "CancelAgreementInput", map[string]any{"id": b.ID}), "CANCELLED")
	api.refused("cancel B twice", api.mutate(carol, "cancelAgreement", "CancelAgreementInput", map[string]any{"id": b.ID}), "CONFLICT", "input.id")

	// Lists by state and pages; eve still sees nothing.
	if got := refs(api.list(alice, `(where: {state: [CANCELLED]})`)); !slices.Equal(got, []string{"B", "A"}) {
		t.Fatalf("alice's cancelled = %v, want [B A] (newest first)", got)
	}
	if got := refs(api.list(carol, "")); !slices.Equal(got, []string{"B"}) {
		t.Fatalf("carol's agreements = %v, want [B] only", got)
	}
	_, r = p.post(t, alice.auth, `{ agreements(first: 2) { totalCount pageInfo { hasNextPage endCursor } nodes { reference } } }`, nil)
	var page struct {
		Agreements struct {
			TotalCount int
			PageInfo   struct {
				HasNextPage bool
				EndCursor   string
			}
			Nodes []agreementJSON
		}
	}
	mustData(t, r, &page)
	if page.Agreements.TotalCount != 6 || !page.Agreements.PageInfo.HasNextPage || refs(page.Agreements.Nodes)[0] != "C" {
		t.Fatalf("alice's first page = %+v, want 6 in all (A D W P B C), C first", page.Agreements)
	}
	if got := refs(api.list(alice, `(first: 10, after: "`+page.Agreements.PageInfo.EndCursor+`")`)); !slices.Equal(got, []string{"P", "W", "D", "A"}) {
		t.Fatalf("alice's second page = %v, want [P W D A]", got)
	}
	if got := api.list(eve, `(where: {state: [ACCEPTED, CANCELLED, DECLINED, WITHDRAWN, PENDING]})`); len(got) != 0 {
		t.Fatalf("eve's agreements at the end = %+v, want none", got)
	}
}

func pendingCount(t *testing.T, p *platform, who party) int {
	t.Helper()
	_, r := p.post(t, who.auth, `{ pendingAgreementCount }`, nil)
	var out struct{ PendingAgreementCount int }
	mustData(t, r, &out)
	return out.PendingAgreementCount
}

// TestAgreementSummaryAndDistributionOverGraphQL routes two hours automatically and reads
// the transfer summary, the agreements' transferred sums and the GGO distribution over
// GraphQL: they are exactly what the domain computes and what the GGOs hold, to each party
// its side, to a stranger nothing.
func TestAgreementSummaryAndDistributionOverGraphQL(t *testing.T) {
	w := newConsumeWorld(t, series{
		wind:  []int64{1000, 2000},
		solar: []int64{500, 0},
		cons1: []int64{600, 100},
		cons2: []int64{0, 0},
		cons3: []int64{0, 0},
		carol: []int64{0, 0},
	})
	ctx, p := t.Context(), w.p
	if err := w.facilities.SetRetiringPriority(ctx, w.alice.ID, []int64{w.cons1}); err != nil {
		t.Fatal(err)
	}
	amount, unit, pct := int64(300), models.UnitWh, 50
	a1 := w.accept(t, w.alice, w.bob, agreement.ProposeInput{Reference: "A1", Amount: &amount, Unit: &unit, Technologies: []string{"Solar"}})
	a2 := w.accept(t, w.alice, w.bob, agreement.ProposeInput{Reference: "A2", AmountPercent: &pct, FacilityGSRNs: []string{w.windGSRN}})
	if _, err := p.app.Account.ConsumePeriod(ctx, w.alice.ID, w.hour(0), w.hour(2)); err != nil {
		t.Fatal(err)
	}
	w.settle(t)
	_, transferred := w.routes(t)
	total := map[int64]int64{}
	for k, v := range transferred {
		total[k[0]] += v
	}
	if total[a1.ID] == 0 || total[a2.ID] == 0 {
		t.Fatalf("transferred = %v, want something under both agreements", transferred)
	}
	alice, bob, carol := "Bearer "+p.token(t, w.alice.Subject), "Bearer "+p.token(t, w.bob.Subject), "Bearer "+p.token(t, w.carol.Subject)
	id1, id2 := relay.EncodeIntID("Agreement", a1.ID), relay.EncodeIntID("Agreement", a2.ID)
	span := map[string]any{"gte": w.hour(0), "lt": w.hour(2)}

	type row struct {
		Bucket     time.Time `json:"bucket"`
		Category   string    `json:"category"`
		Technology string    `json:"technology"`
		Amount     int64     `json:"amount"`
	}
	summary := func(auth string, where map[string]any, resolution string) []row {
		t.Helper()
		_, r := p.post(t, auth, `query($w: AgreementSummaryFilter, $b: TimeRange!, $res: Resolution!) {
			agreementSummary(where: $w, begin: $b, resolution: $res) { bucket technology amount } }`,
			map[string]any{"w": where, "b": span, "res": resolution})
		var out struct{ AgreementSummary []row }
		mustData(t, r, &out)
		return out.AgreementSummary
	}
	sum := func(rows []row, tech string) (n int64) {
		for _, r := range rows {
			if tech == "" || r.Technology == tech {
				n += r.Amount
			}
		}
		return n
	}
	// Alice's outbound hourly summary is the domain's, row for row.
	out := agreement.Outbound
	want, err := w.agreements.Summary(ctx, w.alice.ID, agreement.SummaryInput{Direction: &out, From: w.hour(0), Until: w.hour(2), Resolution: agreement.Hour})
	if err != nil {
		t.Fatal(err)
	}
	got := summary(alice, map[string]any{"direction": "OUTBOUND"}, "HOUR")
	if len(got) != len(want) || len(got) == 0 {
		t.Fatalf("agreementSummary(OUTBOUND, HOUR) = %+v, want %+v", got, want)
	}
	for i := range want {
		if !got[i].Bucket.Equal(want[i].Bucket) || got[i].Technology != want[i].Technology || got[i].Amount != int64(want[i].AmountWh) {
			t.Errorf("agreementSummary row %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	// Per agreement and per party, the sums are what the GGOs hold: A1 only Solar, A2 only Wind.
	for _, tc := range []struct {
		name, auth string
		where      map[string]any
		tech       string
		want       int64
	}{
		{"alice A1", alice, map[string]any{"agreementId": id1}, "Solar", total[a1.ID]},
		{"alice A2", alice, map[string]any{"agreementId": id2}, "Wind", total[a2.ID]},
		{"alice A1 wind", alice, map[string]any{"agreementId": id1}, "Wind", 0},
		{"bob inbound", bob, map[string]any{"direction": "INBOUND"}, "", total[a1.ID] + total[a2.ID]},
		{"bob outbound", bob, map[string]any{"direction": "OUTBOUND"}, "", 0},
		{"bob A2 by day", bob, map[string]any{"agreementId": id2}, "", total[a2.ID]},
		{"carol A1", carol, map[string]any{"agreementId": id1}, "", 0},
		{"carol all", carol, nil, "", 0},
	} {
		res := "HOUR"
		if strings.Contains(tc.name, "by day") {
			res = "DAY"
		}
		if got := sum(summary(tc.auth, tc.where, res), tc.tech); got != tc.want {
			t.Errorf("agreementSummary(%s) = %d Wh, want %d", tc.name, got, tc.want)
		}
	}
	// Agreement.transferred, for both parties; a stranger gets NOT_FOUND.
	for _, auth := range []string{alice, bob} {
		_, r := p.post(t, auth, `query($a: ID!, $b: ID!) { a: agreement(id: $a) { transferred } b: agreement(id: $b) { transferred } }`, map[string]any{"a": id1, "b": id2})
		var tr struct{ A, B struct{ Transferred int64 } }
		mustData(t, r, &tr)
		if tr.A.Transferred != total[a1.ID] || tr.B.Transferred != total[a2.ID] {
			t.Errorf("transferred = %d, %d, want %d, %d", tr.A.Transferred, tr.B.Transferred, total[a1.ID], total[a2.ID])
		}
	}
	if _, r := p.post(t, carol, `query($a: ID!) { agreement(id: $a) { transferred } }`, map[string]any{"a": id1}); r.code() != "NOT_FOUND" {
		t.Fatalf("carol's agreement(A1) = %+v, want NOT_FOUND", r.Errors)
	}

	// The distribution is the domain's; its OUTBOUND is what went under the agreements.
	dist := func(auth string) []row {
		t.Helper()
		_, r := p.post(t, auth, `query($b: TimeRange!) { ggoDistribution(begin: $b) { category technology amount } }`, map[string]any{"b": span})
		var out struct{ GgoDistribution []row }
		mustData(t, r, &out)
		return out.GgoDistribution
	}
	wantDist, err := p.app.Account.Distribution(ctx, w.alice.ID, w.hour(0), w.hour(2))
	if err != nil {
		t.Fatal(err)
	}
	gotDist := dist(alice)
	if len(gotDist) != len(wantDist) {
		t.Fatalf("ggoDistribution = %+v, want %+v", gotDist, wantDist)
	}
	byKey := map[string]int64{}
	for i, r := range gotDist {
		if r.Category != wantDist[i].Category || r.Technology != wantDist[i].Technology || r.Amount != int64(wantDist[i].AmountWh) {
			t.Errorf("ggoDistribution row %d = %+v, want %+v", i, r, wantDist[i])
		}
		byKey[r.Category+" "+r.Technology] = r.Amount
	}
	if byKey["ISSUED Wind"] != 3000 || byKey["ISSUED Solar"] != 500 ||
		byKey["OUTBOUND Solar"] != total[a1.ID] || byKey["OUTBOUND Wind"] != total[a2.ID] {
		t.Errorf("ggoDistribution = %v, want 3000 Wh wind and 500 Wh solar issued, outbound as transferred %v", byKey, total)
	}
	inbound := int64(0)
	for _, r := range dist(bob) {
		if r.Category == "INBOUND" {
			inbound += r.Amount
		}
	}
	if inbound != total[a1.ID]+total[a2.ID] {
		t.Errorf("bob's INBOUND = %d, want %d", inbound, total[a1.ID]+total[a2.ID])
	}
	if got := dist(carol); len(got) != 0 {
		t.Errorf("carol's ggoDistribution = %+v, want none (she holds nothing)", got)
	}
	// Ranges: both bounds, in order.
	for name, b := range map[string]map[string]any{
		"no lt":    {"gte": w.hour(0)},
		"reversed": {"gte": w.hour(2), "lt": w.hour(0)},
	} {
		for _, q := range []string{
			`query($b: TimeRange!) { ggoDistribution(begin: $b) { amount } }`,
			`query($b: TimeRange!) { agreementSummary(begin: $b, resolution: DAY) { amount } }`,
		} {
			if _, r := p.post(t, alice, q, map[string]any{"b": b}); r.code() != "BAD_USER_INPUT" {
				t.Errorf("%s with %s = %+v, want BAD_USER_INPUT", q, name, r.Errors)
			}
		}
	}
}
