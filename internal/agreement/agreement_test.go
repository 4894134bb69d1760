package agreement_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/originhub/originhub/internal/agreement"
	"github.com/originhub/originhub/internal/relay"
	"github.com/originhub/originhub/internal/testkit"
	"github.com/originhub/originhub/internal/user"
	"github.com/originhub/originhub/models"
)

func TestMain(m *testing.M) { testkit.Main(m) }

func users(t *testing.T, n int) []models.User {
	t.Helper()
	us := user.NewService(testkit.DB(t))
	out := make([]models.User, n)
	for i := range out {
		u, err := us.Ensure(t.Context(), testkit.Subject(t))
		if err != nil {
			t.Fatal(err)
		}
		out[i] = u
	}
	return out
}

func newService(t *testing.T) *agreement.Service {
	now := time.Date(2027, 1, 10, 12, 0, 0, 0, time.UTC)
	return agreement.NewService(testkit.DB(t), func() time.Time { return now })
}

func percent(p int) *int { return &p }

func propose(t *testing.T, s *agreement.Service, from, to models.User, ref string) models.Agreement {
	t.Helper()
	a, err := s.Propose(t.Context(), from.ID, agreement.ProposeInput{Direction: agreement.Outbound, CounterpartID: to.ID, Reference: ref,
		AmountPercent: percent(10), DateFrom: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), DateTo: time.Date(2027, 12, 31, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatalf("Propose(%s) = %v", ref, err)
	}
	return a
}

func TestProposeValidation(t *testing.T) {
	s := newService(t)
	u := users(t, 2)
	day := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	amount, unit, bad := int64(5), models.UnitMWh, models.AmountUnit("TWh")
	tests := []struct {
		name string
		in   agreement.ProposeInput
		want string // field of the InputError; "" for success
	}{
		{"fixed amount", agreement.ProposeInput{Direction: agreement.Outbound, Amount: &amount, Unit: &unit}, ""},
		{"percent inbound", agreement.ProposeInput{Direction: agreement.Inbound, AmountPercent: percent(100)}, ""},
		{"no cap", agreement.ProposeInput{Direction: agreement.Outbound}, "input.amount"},
		{"percent 0", agreement.ProposeInput{Direction: agreement.Outbound, AmountPercent: percent(0)}, "input.amountPercent"},
		{"percent 101", agreement.ProposeInput{Direction: agreement.Outbound, AmountPercent: percent(101)}, "input.amountPercent"},
		{"amount without unit", agreement.ProposeInput{Direction: agreement.Outbound, Amount: &amount}, "input.amount"},
		{"unknown unit", agreement.ProposeInput{Direction: agreement.Outbound, Amount: &amount, Unit: &bad}, "input.amount"},
		{"unknown technology", agreement.ProposeInput{Direction: agreement.Outbound, AmountPercent: percent(5), Technologies: []string{"Coal power"}}, "input.technologies"},
		{"others' facility", agreement.ProposeInput{Direction: agreement.Outbound, AmountPercent: percent(5), FacilityGSRNs: []string{"570000000000000000"}}, "input.facilityGsrns"},
		{"inbound facility", agreement.ProposeInput{Direction: agreement.Inbound, AmountPercent: percent(5), FacilityGSRNs: []string{"570000000000000000"}}, "input.facilityGsrns"},
		{"no direction", agreement.ProposeInput{AmountPercent: percent(5)}, "input.direction"},
		{"self", agreement.ProposeInput{Direction: agreement.Outbound, AmountPercent: percent(5), CounterpartID: u[0].ID}, "input.counterpartId"},
		{"no such counterpart", agreement.ProposeInput{Direction: agreement.Outbound, AmountPercent: percent(5), CounterpartID: -1}, "input.counterpartId"},
		{"dates reversed", agreement.ProposeInput{Direction: agreement.Outbound, AmountPercent: percent(5), DateFrom: day.AddDate(0, 0, 1)}, "input.dateTo"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			if in.CounterpartID == 0 {
				in.CounterpartID = u[1].ID
			}
			if in.DateFrom.IsZero() {
				in.DateFrom = day
			}
			in.DateTo, in.Reference = day, "ref"
			a, err := s.Propose(t.Context(), u[0].ID, in)
			var ie *agreement.InputError
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("Propose() = %v, want success", err)
			case tc.want == "" && (a.State != models.AgreementPending || a.PublicID == ""):
				t.Fatalf("Propose() = %+v, want PENDING with a public id", a)
			case tc.want != "" && (!errors.As(err, &ie) || ie.Field != tc.want):
				t.Fatalf("Propose() error = %v, want InputError on %s", err, tc.want)
			}
		})
	}
}

func TestLifecycleAndPriorities(t *testing.T) {
	s := newService(t)
	ctx := t.Context()
	u := users(t, 4)
	alice, bob, carol, eve := u[0], u[1], u[2], u[3]
	a := propose(t, s, alice, bob, "a")
	b := propose(t, s, alice, carol, "b")
	c := propose(t, s, alice, bob, "c")
	w := propose(t, s, alice, bob, "w")

	// The proposer cannot accept; strangers cannot see or touch.
	if _, err := s.Respond(ctx, alice.ID, a.ID, agreement.RespondInput{Accept: true}); !errors.Is(err, agreement.ErrConflict) {
		t.Fatalf("proposer Respond() = %v, want ErrConflict", err)
	}
	for name, f := range map[string]func() error{
		"get":      func() error { _, err := s.Get(ctx, eve.ID, a.ID); return err },
		"respond":  func() error { _, err := s.Respond(ctx, eve.ID, a.ID, agreement.RespondInput{Accept: true}); return err },
		"cancel":   func() error { _, err := s.Cancel(ctx, eve.ID, a.ID); return err },
		"withdraw": func() error { _, err := s.Withdraw(ctx, eve.ID, a.ID); return err },
	} {
		if err := f(); !errors.Is(err, agreement.ErrNotFound) {
			t.Errorf("stranger %s = %v, want ErrNotFound", name, err)
		}
	}
	if l, err := s.List(ctx, eve.ID); err != nil || len(l.Pending)+len(l.Sent)+len(l.Outbound)+len(l.Inbound) != 0 {
		t.Fatalf("stranger List() = %+v, %v, want nothing", l, err)
	}
	if n, err := s.PendingCount(ctx, bob.ID); err != nil || n != 3 {
		t.Fatalf("bob PendingCount() = %d, %v, want 3", n, err)
	}

	for _, x := range []struct {
		id int64
		by models.User
	}{{a.ID, bob}, {b.ID, carol}, {c.ID, bob}} {
		got, err := s.Respond(ctx, x.by.ID, x.id, agreement.RespondInput{Accept: true})
		if err != nil || got.State != models.AgreementAccepted {
			t.Fatalf("Respond(%d) = %+v, %v", x.id, got, err)
		}
	}
	if got, err := s.Withdraw(ctx, alice.ID, w.ID); err != nil || got.State != models.AgreementWithdrawn {
		t.Fatalf("Withdraw() = %+v, %v", got, err)
	}
	if _, err := s.Respond(ctx, bob.ID, w.ID, agreement.RespondInput{Accept: true}); !errors.Is(err, agreement.ErrConflict) {
		t.Fatalf("Respond(withdrawn) = %v, want ErrConflict", err)
	}
	order := func() []string {
		l, err := s.List(ctx, alice.ID)
		if err != nil {
			t.Fatal(err)
		}
		var refs []string
		for i, x := range l.Outbound {
			if x.TransferPriority == nil || *x.TransferPriority != i {
				t.Errorf("outbound %s priority = %v, want %d", x.Reference, x.TransferPriority, i)
			}
			refs = append(refs, x.Reference)
		}
		return refs
	}
	if got := order(); len(got) != 3 || got[0] != "a" || got[1] != "b" || got[2] != "c" {
		t.Fatalf("outbound order = %v, want [a b c] (acceptance order)", got)
	}
	if err := s.SetTransferPriority(ctx, alice.ID, []int64{c.ID, a.ID}); err != nil {
		t.Fatal(err)
	}
	if got := order(); got[0] != "c" || got[1] != "a" || got[2] != "b" {
		t.Fatalf("outbound order = %v, want [c a b]", got)
	}
	if err := s.SetTransferPriority(ctx, bob.ID, []int64{a.ID}); !errors.Is(err, agreement.ErrInvalidInput) {
		t.Fatalf("recipient SetTransferPriority() = %v, want ErrInvalidInput", err)
	}
	// Either party cancels; priorities close the gap.
	if got, err := s.Cancel(ctx, bob.ID, a.ID); err != nil || got.State != models.AgreementCancelled || got.CancelledAt == nil {
		t.Fatalf("Cancel() = %+v, %v", got, err)
	}
	if got := order(); len(got) != 2 || got[0] != "c" || got[1] != "b" {
		t.Fatalf("outbound order after cancel = %v, want [c b]", got)
	}
	l, err := s.List(ctx, bob.ID)
	if err != nil || len(l.Inbound) != 1 || len(l.Cancelled) != 1 || l.Inbound[0].ID != c.ID {
		t.Fatalf("bob List() = %+v, %v, want c inbound and a cancelled", l, err)
	}
}

func TestCounterpartsAndProfile(t *testing.T) {
	s := newService(t)
	ctx := t.Context()
	u := users(t, 3)
	if _, err := s.SetProfile(ctx, u[1].ID, "Zeta Wind", "Blæst ApS "+u[1].Subject); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetProfile(ctx, u[2].ID, "Other "+u[2].Subject, "Zeta Sol"); err != nil {
		t.Fatal(err)
	}
	got, err := s.Counterparts(ctx, u[0].ID, "blÆST aps "+u[1].Subject)
	if err != nil || len(got) != 1 || got[0].ID != u[1].ID {
		t.Fatalf("Counterparts(company prefix) = %+v, %v, want user 1", got, err)
	}
	if got, err := s.Counterparts(ctx, u[1].ID, "Zeta Wind"); err != nil || len(got) != 0 {
		t.Fatalf("Counterparts(own name) = %+v, %v, want nobody (never oneself)", got, err)
	}
	if _, err := s.Counterparts(ctx, u[0].ID, "z"); !errors.Is(err, agreement.ErrInvalidInput) {
		t.Fatalf("Counterparts(1 char) = %v, want ErrInvalidInput", err)
	}
}

func TestPageFiltersOrdersAndScopes(t *testing.T) {
	s := newService(t)
	ctx := t.Context()
	u := users(t, 4)
	alice, bob, carol, eve := u[0], u[1], u[2], u[3]
	a := propose(t, s, alice, bob, "a")
	b := propose(t, s, alice, carol, "b")
	c := propose(t, s, alice, bob, "c")
	in := propose(t, s, bob, alice, "in") // bob sends to alice: inbound for her, proposed by bob
	p := propose(t, s, carol, alice, "p") // left pending: awaits alice's answer
	w := propose(t, s, alice, carol, "w")
	for _, x := range []struct {
		id int64
		by models.User
	}{{a.ID, bob}, {b.ID, carol}, {c.ID, bob}, {in.ID, alice}} {
		got, err := s.Respond(ctx, x.by.ID, x.id, agreement.RespondInput{Accept: true})
		if err != nil || got.AcceptedAt == nil {
			t.Fatalf("Respond(%d) = %+v, %v, want accepted with a time", x.id, got, err)
		}
	}
	if got, err := s.Withdraw(ctx, alice.ID, w.ID); err != nil || got.WithdrawnAt == nil {
		t.Fatalf("Withdraw() = %+v, %v, want withdrawn with a time", got, err)
	}
	if err := s.SetTransferPriority(ctx, alice.ID, []int64{c.ID, b.ID}); err != nil {
		t.Fatal(err)
	}
	out, inb, yes, no := agreement.Outbound, agreement.Inbound, true, false
	refs := func(user int64, f agreement.Filter, order agreement.Order, args relay.Args) []string {
		t.Helper()
		conn, err := s.Page(ctx, user, f, order, args)
		if err != nil {
			t.Fatalf("Page(%+v, %s) = %v", f, order, err)
		}
		var got []string
		for _, x := range conn.Nodes() {
			got = append(got, x.Reference)
		}
		return got
	}
	two := 2
	tests := []struct {
		name  string
		user  int64
		f     agreement.Filter
		order agreement.Order
		want  []string
	}{
		{"all, newest first", alice.ID, agreement.Filter{}, agreement.OrderCreated, []string{"w", "p", "in", "c", "b", "a"}},
		{"outbound by priority", alice.ID, agreement.Filter{Direction: &out, States: []models.AgreementState{models.AgreementAccepted}}, agreement.OrderTransferPriority, []string{"c", "b", "a"}},
		{"inbound", alice.ID, agreement.Filter{Direction: &inb}, agreement.OrderCreated, []string{"p", "in"}},
		{"awaiting an answer", alice.ID, agreement.Filter{States: []models.AgreementState{models.AgreementPending}, ProposedByUser: &no}, "", []string{"p"}},
		{"proposed by alice", alice.ID, agreement.Filter{ProposedByUser: &yes}, agreement.OrderCreated, []string{"w", "c", "b", "a"}},
		{"withdrawn", alice.ID, agreement.Filter{States: []models.AgreementState{models.AgreementWithdrawn}}, agreement.OrderCreated, []string{"w"}},
		// Bob's own outbound agreement first; alice's (c before a for her) are not his to
		// sort by her priorities, so they follow oldest first.
		{"recipient by priority", bob.ID, agreement.Filter{}, agreement.OrderTransferPriority, []string{"in", "a", "c"}},
		{"stranger", eve.ID, agreement.Filter{}, agreement.OrderCreated, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := refs(tc.user, tc.f, tc.order, relay.Args{}); !slices.Equal(got, tc.want) {
				t.Fatalf("Page() = %v, want %v", got, tc.want)
			}
		})
	}
	// Pages follow each other in both orders.
	for _, order := range []agreement.Order{agreement.OrderCreated, agreement.OrderTransferPriority} {
		first, err := s.Page(ctx, alice.ID, agreement.Filter{}, order, relay.Args{First: &two})
		if err != nil || len(first.Edges) != 2 || !first.PageInfo.HasNextPage {
			t.Fatalf("Page(%s, first 2) = %+v, %v", order, first, err)
		}
		rest := refs(alice.ID, agreement.Filter{}, order, relay.Args{After: first.PageInfo.EndCursor})
		all := append([]string{first.Edges[0].Node.Reference, first.Edges[1].Node.Reference}, rest...)
		if whole := refs(alice.ID, agreement.Filter{}, order, relay.Args{}); !slices.Equal(all, whole) {
			t.Fatalf("Page(%s) in pages = %v, want %v", order, all, whole)
		}
	}
	if _, err := s.Page(ctx, alice.ID, agreement.Filter{}, "SIDEWAYS", relay.Args{}); !errors.Is(err, agreement.ErrInvalidInput) {
		t.Fatalf("Page(unknown order) = %v, want ErrInvalidInput", err)
	}

	// Profiles only of those who share an agreement; nothing transferred yet.
	cps, err := s.CounterpartsByIDs(ctx, alice.ID, []int64{bob.ID, carol.ID, eve.ID})
	if err != nil || len(cps) != 2 || cps[bob.ID].AccountReference != bob.AccountReference || cps[bob.ID].Subject != "" {
		t.Fatalf("CounterpartsByIDs(alice) = %+v, %v, want bob and carol, profile columns only", cps, err)
	}
	if cps, err := s.CounterpartsByIDs(ctx, eve.ID, []int64{alice.ID, bob.ID}); err != nil || len(cps) != 0 {
		t.Fatalf("CounterpartsByIDs(stranger) = %+v, %v, want nobody", cps, err)
	}
	sums, err := s.TransferredByIDs(ctx, alice.ID, []int64{a.ID, p.ID})
	if v, ok := sums[a.ID]; err != nil || len(sums) != 2 || !ok || v != 0 {
		t.Fatalf("TransferredByIDs() = %v, %v, want 0 for both", sums, err)
	}
	if sums, err := s.TransferredByIDs(ctx, eve.ID, []int64{a.ID}); err != nil || len(sums) != 0 {
		t.Fatalf("TransferredByIDs(stranger) = %v, %v, want none", sums, err)
	}
}
