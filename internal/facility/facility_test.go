package facility_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/originhub/originhub/internal/facility"
	"github.com/originhub/originhub/internal/testkit"
	"github.com/originhub/originhub/internal/user"
	"github.com/originhub/originhub/models"
)

func TestMain(m *testing.M) { testkit.Main(m) }

var seq int

// points gives a new user a wind plant (DK1), a solar plant (DK2) and two consumption points.
func points(t *testing.T) (models.User, []int64) {
	t.Helper()
	db := testkit.DB(t)
	u, err := user.NewService(db).Ensure(t.Context(), testkit.Subject(t))
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for i, p := range []struct{ typ, sector, tech, fuel, street string }{
		{"PRODUCTION", "DK1", "T020000", "F01050100", "Vindvej"},
		{"PRODUCTION", "DK2", "T010000", "F01040100", "Solgade"},
		{"CONSUMPTION", "DK1", "", "", "Fabriksvej"},
		{"CONSUMPTION", "DK1", "", "", "Kontorvej"},
	} {
		seq++
		var tc, fc any
		if p.tech != "" {
			tc, fc = p.tech, p.fuel
		}
		var id int64
		if err := db.NewRaw("INSERT INTO metering_points (user_id, gsrn, type, sector, technology_code, fuel_code, street_name) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
			u.ID, fmt.Sprintf("58%08d%02d%06d", u.ID, i, seq), p.typ, p.sector, tc, fc, p.street).Scan(t.Context(), &id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return u, ids
}

func TestFiltersEditAndPriority(t *testing.T) {
	s := facility.NewService(testkit.DB(t))
	ctx := t.Context()
	u, ids := points(t)
	other, otherIDs := points(t)
	name := "Factory"
	if _, err := s.Edit(ctx, u.ID, ids[2], &name, []string{"hq", "site", "hq"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Edit(ctx, u.ID, ids[0], nil, []string{"site"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Edit(ctx, u.ID, otherIDs[0], &name, nil); !errors.Is(err, facility.ErrNotFound) {
		t.Fatalf("Edit(other's) = %v, want ErrNotFound", err)
	}
	cons, wind := models.MeteringPointConsumption, models.MeteringPointProduction
	tests := []struct {
		name string
		f    facility.Filter
		want []int64
	}{
		{"all", facility.Filter{}, ids},
		{"consumption", facility.Filter{Type: &cons}, ids[2:]},
		{"production DK2", facility.Filter{Type: &wind, Sectors: []models.Sector{models.SectorDK2}}, ids[1:2]},
		{"tag site", facility.Filter{Tags: []string{"site"}}, []int64{ids[0], ids[2]}},
		{"tags hq and site", facility.Filter{Tags: []string{"hq", "site"}}, ids[2:3]},
		{"technology", facility.Filter{Technologies: []string{"Solar"}}, ids[1:2]},
		{"text in name", facility.Filter{Text: "factORY"}, ids[2:3]},
		{"text in address", facility.Filter{Text: "kontor"}, ids[3:4]},
		{"like is escaped", facility.Filter{Text: "%"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.List(ctx, u.ID, tc.f, facility.OrderRetiringPriority)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("List() = %d facilities, want %d", len(got), len(tc.want))
			}
			for _, mp := range got {
				found := false
				for _, id := range tc.want {
					found = found || mp.ID == id
				}
				if !found || mp.UserID != u.ID {
					t.Fatalf("List() has %d (user %d), want %v", mp.ID, mp.UserID, tc.want)
				}
			}
		})
	}
	if err := s.SetRetiringPriority(ctx, u.ID, []int64{ids[3], ids[2]}); err != nil {
		t.Fatal(err)
	}
	got, err := s.List(ctx, u.ID, facility.Filter{Type: &cons}, facility.OrderRetiringPriority)
	if err != nil || got[0].ID != ids[3] || *got[0].RetiringPriority != 0 || *got[1].RetiringPriority != 1 {
		t.Fatalf("List(by priority) = %+v, %v, want %d then %d", got, err, ids[3], ids[2])
	}
	if err := s.SetRetiringPriority(ctx, u.ID, []int64{ids[2]}); err != nil {
		t.Fatal(err)
	}
	got, _ = s.List(ctx, u.ID, facility.Filter{Type: &cons}, facility.OrderRetiringPriority)
	if got[0].ID != ids[2] || got[1].RetiringPriority != nil {
		t.Fatalf("after re-prioritising, %d has %v, want cleared", got[1].ID, got[1].RetiringPriority)
	}
	for name, list := range map[string][]int64{"production": {ids[0]}, "other's": {otherIDs[2]}, "twice": {ids[2], ids[2]}} {
		if err := s.SetRetiringPriority(ctx, u.ID, list); !errors.Is(err, facility.ErrInvalidInput) {
			t.Errorf("SetRetiringPriority(%s) = %v, want ErrInvalidInput", name, err)
		}
	}
	if got, err := s.List(ctx, other.ID, facility.Filter{Text: "Factory"}, facility.OrderName); err != nil || len(got) != 0 {
		t.Fatalf("other's List(Factory) = %d, %v, want none of u's", len(got), err)
	}
	o, err := s.FilteringOptions(ctx, u.ID, facility.Filter{})
	if err != nil || len(o.Tags) != 2 || o.Tags[0] != "hq" || len(o.Sectors) != 2 || len(o.Technologies) == 0 {
		t.Fatalf("FilteringOptions() = %+v, %v", o, err)
	}
}
