package relay_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/uptrace/bun"

	"github.com/originhub/originhub/internal/relay"
	"github.com/originhub/originhub/internal/testkit"
)

func TestMain(m *testing.M) { testkit.Main(m) }

type tech struct {
	bun.BaseModel  `bun:"table:technologies"`
	TechnologyCode string `bun:"technology_code"`
	FuelCode       string `bun:"fuel_code"`
	Label          string `bun:"label"`
}

func techKey(t *tech) []any { return []any{t.TechnologyCode, t.FuelCode} }

func ptr[T any](v T) *T { return &v }

// TestPaginateWalksEveryRowOnce pages through the seeded technologies forward and backward,
// in both orders and several page sizes, and checks the result against one plain query.
func TestPaginateWalksEveryRowOnce(t *testing.T) {
	ctx := t.Context()
	d := testkit.DB(t)
	filter := func() *bun.SelectQuery {
		return d.NewSelect().Model((*tech)(nil)).Where("label IN (?)", bun.In([]string{"Solar", "Wind", "Hydro", "Nuclear", "Marine"}))
	}
	for _, desc := range []bool{false, true} {
		var want []string
		dir := "ASC"
		if desc {
			dir = "DESC"
		}
		var all []tech
		if err := filter().OrderExpr("technology_code "+dir+", fuel_code "+dir).Scan(ctx, &all); err != nil {
			t.Fatal(err)
		}
		for _, r := range all {
			want = append(want, r.TechnologyCode+"/"+r.FuelCode)
		}
		if len(want) != 42 {
			t.Fatalf("fixture: %d rows, want 42", len(want))
		}
		order := relay.Order{Columns: []string{"technology_code", "fuel_code"}, Desc: desc}
		for _, size := range []int{1, 5, 41, 42, 100} {
			t.Run(fmt.Sprintf("desc=%v/size=%d", desc, size), func(t *testing.T) {
				// forward
				var got []string
				var after *string
				pages := 0
				for {
					c, err := relay.Paginate(ctx, filter(), relay.Args{First: ptr(size), After: after}, order, techKey)
					if err != nil {
						t.Fatal(err)
					}
					pages++
					for _, e := range c.Edges {
						got = append(got, e.Node.TechnologyCode+"/"+e.Node.FuelCode)
					}
					if c.PageInfo.HasPreviousPage != (after != nil) {
						t.Fatalf("page %d: hasPreviousPage = %v", pages, c.PageInfo.HasPreviousPage)
					}
					if !c.PageInfo.HasNextPage {
						break
					}
					after = c.PageInfo.EndCursor
				}
				assertSame(t, "forward", got, want)
				if wantPages := (42 + size - 1) / size; pages != wantPages {
					t.Fatalf("forward took %d pages, want %d", pages, wantPages)
				}
				// backward
				got = nil
				var before *string
				for {
					c, err := relay.Paginate(ctx, filter(), relay.Args{Last: ptr(size), Before: before}, order, techKey)
					if err != nil {
						t.Fatal(err)
					}
					var page []string
					for _, e := range c.Edges {
						page = append(page, e.Node.TechnologyCode+"/"+e.Node.FuelCode)
					}
					got = append(page, got...)
					if !c.PageInfo.HasPreviousPage {
						break
					}
					before = c.PageInfo.StartCursor
				}
				assertSame(t, "backward", got, want)
			})
		}
	}
}

func TestPaginateTotalCountAndArgs(t *testing.T) {
	ctx := t.Context()
	d := testkit.DB(t)
	q := d.NewSelect().Model((*tech)(nil)).Where("label = ?", "Solar")
	order := relay.Order{Columns: []string{"technology_code", "fuel_code"}}
	c, err := relay.Paginate(ctx, q, relay.Args{First: ptr(2)}, order, techKey)
	if err != nil {
		t.Fatal(err)
	}
	n, err := c.TotalCount(ctx)
	if err != nil || n != 5 {
		t.Fatalf("TotalCount() = %d, %v; want 5", n, err)
	}
	if len(c.Edges) != 2 {
		t.Fatalf("got %d edges, want 2", len(c.Edges))
	}

	bad := "not-a-cursor"
	wrongShape := relay.EncodeID("x", "y") // valid base64, not a cursor
	tests := []struct {
		name      string
		args      relay.Args
		wantField string
	}{
		{"first zero", relay.Args{First: ptr(0)}, "first"},
		{"first too big", relay.Args{First: ptr(101)}, "first"},
		{"last negative", relay.Args{Last: ptr(-1)}, "last"},
		{"first and last", relay.Args{First: ptr(1), Last: ptr(1)}, "first"},
		{"garbage after", relay.Args{After: &bad}, "after"},
		{"foreign before", relay.Args{Before: &wrongShape}, "before"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := relay.Paginate(ctx, q, tc.args, order, techKey)
			var ae *relay.ArgsError
			if !errors.As(err, &ae) || !errors.Is(err, relay.ErrInvalidArgs) {
				t.Fatalf("Paginate() error = %v, want an ArgsError", err)
			}
			if ae.Field != tc.wantField {
				t.Fatalf("error field = %q, want %q", ae.Field, tc.wantField)
			}
		})
	}
}

func TestIDRoundTrip(t *testing.T) {
	id := relay.EncodeIntID("User", 42)
	n, err := relay.DecodeIntID(id, "User")
	if err != nil || n != 42 {
		t.Fatalf("DecodeIntID() = %d, %v; want 42", n, err)
	}
	if _, err := relay.DecodeIntID(id, "Ggo"); !errors.Is(err, relay.ErrInvalidID) {
		t.Fatalf("wrong type accepted: %v", err)
	}
	for _, bad := range []string{"", "!!", relay.EncodeID("User", "abc"), relay.EncodeID("User", "-1")} {
		if _, err := relay.DecodeIntID(bad, "User"); !errors.Is(err, relay.ErrInvalidID) {
			t.Errorf("DecodeIntID(%q) accepted", bad)
		}
	}
}

func assertSame(t *testing.T, what string, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %d rows, want %d", what, len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("%s: row %d = %s, want %s", what, i, got[i], want[i])
		}
	}
}
