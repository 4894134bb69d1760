package eco_test

import (
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/originhub/originhub/internal/declaration"
	"github.com/originhub/originhub/internal/eco"
	"github.com/originhub/originhub/internal/testkit"
)

func TestMain(m *testing.M) { testkit.Main(m) }

var gsrnSeq atomic.Int64

// world is a user with consumption points, their hourly readings and retired GGOs.
type world struct {
	db     *bun.DB
	userID int64
	points map[string]int64 // gsrn -> id
}

func newWorld(t testing.TB, db *bun.DB) *world {
	t.Helper()
	w := &world{db: db, points: map[string]int64{}}
	if err := db.NewRaw("INSERT INTO users (subject) VALUES (?) RETURNING id", testkit.Subject(t)).Scan(t.Context(), &w.userID); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *world) point(t testing.TB, typ, sector string) string {
	t.Helper()
	g := fmt.Sprintf("571%06d%09d", w.userID%1_000_000, gsrnSeq.Add(1)+time.Now().UnixNano()%1_000_000_000)
	var id int64
	if err := w.db.NewRaw("INSERT INTO metering_points (user_id, gsrn, type, sector) VALUES (?, ?, ?, ?) RETURNING id", w.userID, g, typ, sector).Scan(t.Context(), &id); err != nil {
		t.Fatal(err)
	}
	w.points[g] = id
	return g
}

func (w *world) reading(t *testing.T, gsrn string, at time.Time, wh int64) {
	t.Helper()
	ctx := t.Context()
	if _, err := w.db.ExecContext(ctx, "SELECT ensure_measurement_partitions(?, ?)", at, at.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := w.db.ExecContext(ctx, "INSERT INTO measurements (metering_point_id, begin_at, amount_wh) VALUES (?, ?, ?)", w.points[gsrn], at, wh); err != nil {
		t.Fatal(err)
	}
}

// retired inserts a GGO of Wind (T020000/F01050100) in state retired to gsrn.
func (w *world) retired(t *testing.T, gsrn string, at time.Time, wh int64, state string) {
	t.Helper()
	if _, err := w.db.ExecContext(t.Context(), `INSERT INTO ggos (user_id, begin_at, end_at, amount_wh, sector, technology_code, fuel_code,
		state, origin, issued_at, expires_at, retire_metering_point_id, retired_at)
		VALUES (?, ?, ?, ?, 'DK1', 'T020000', 'F01050100', ?, 'PART', ?, ?, ?, ?)`,
		w.userID, at, at.Add(time.Hour), wh, state, at, at.Add(90*24*time.Hour), w.points[gsrn], at); err != nil {
		t.Fatal(err)
	}
}

func mix(t *testing.T, db *bun.DB, kind, sector string, at time.Time, parts map[string][2]int64) {
	t.Helper()
	for tech, p := range parts {
		if _, err := db.ExecContext(t.Context(), `INSERT INTO energy_mix (kind, sector, begin_at, technology, share_ppm, co2eq_mg_per_kwh, source)
			VALUES (?, ?, ?, ?, ?, ?, 'test')`, kind, sector, at, tech, p[0], p[1]); err != nil {
			t.Fatal(err)
		}
	}
}

// handExample builds the example of TestDeclareHandComputed; see the comments there.
func handExample(t *testing.T, db *bun.DB, h0 time.Time) (*world, string) {
	t.Helper()
	w := newWorld(t, db)
	c := w.point(t, "CONSUMPTION", "DK1")
	hour := func(n int) time.Time { return h0.Add(time.Duration(n) * time.Hour) }
	w.reading(t, c, hour(0), 1000)
	w.reading(t, c, hour(1), 2000)
	w.reading(t, c, hour(2), 1000)
	w.retired(t, c, hour(0), 600, "RETIRED")
	w.retired(t, c, hour(1), 2000, "RETIRED")
	w.retired(t, c, hour(1), 500, "RETIRED")
	w.retired(t, c, hour(2), 700, "PENDING") // batch not committed: not retired yet
	for n := 0; n < 2; n++ {
		mix(t, db, "residual", "DK1", hour(n), map[string][2]int64{"Coal": {500_000, 800_000}, "Wind": {500_000, 10_000}})
		mix(t, db, "grid", "DK1", hour(n), map[string][2]int64{"Coal": {250_000, 800_000}, "Wind": {750_000, 10_000}})
	}
	return w, c
}

// TestDeclareHandComputed checks a small example computed by hand (DK1, three hours):
//
//	h0: consumed 1000 Wh, 600 Wh Wind retired; the rest 400 Wh by the hourly residual mix
//	    (Coal 50 % at 800 g/kWh, Wind 50 % at 10 g/kWh): Coal 200, Wind 200.
//	    Emissions 600×11 + 200×800 + 200×10 = 168,600 mg (Wh × g/kWh = mg; retired Wind
//	    uses the default Wind factor, 11 g/kWh).
//	h1: consumed 2000 Wh, 2500 Wh Wind retired: 2000 matched, 500 excess; 22,000 mg.
//	h2: consumed 1000 Wh, no retirement (a PENDING GGO does not count), no hourly mix: the
//	    seeded default residual mix gives Coal 250, Naturalgas 200, Oil 20, Nuclear 300,
//	    Wind 80, Solar 30, Hydro 60, Biomass 40, Waste 20; 344,360 mg.
//
// Totals: consumed 4000, retired 3100, matched 2600 (24/7 share 0.65), emissions 534.96 g
// (133.740 g/kWh). General: 207,500 + 415,000 + 149,270 mg = 771.77 g.
func TestDeclareHandComputed(t *testing.T) {
	db := testkit.DB(t)
	h0 := time.Date(2031, 3, 1, 0, 0, 0, 0, time.UTC)
	w, c := handExample(t, db, h0)
	s := eco.NewService(db)
	res, err := s.Declare(t.Context(), w.userID, eco.Query{GSRNs: []string{c}, From: h0, To: h0.Add(3 * time.Hour), Resolution: declaration.All})
	if err != nil {
		t.Fatal(err)
	}
	ind, gen := res.Declaration.Individual, res.Declaration.General
	checks := []struct {
		name      string
		got, want int64
	}{
		{"consumed", ind.ConsumedWh, 4000},
		{"retired", ind.RetiredWh, 3100},
		{"matched", ind.MatchedWh, 2600},
		{"excess", ind.ExcessWh, 500},
		{"emissions", ind.EmissionsUG, 534_960_000},
		{"general consumed", gen.ConsumedWh, 4000},
		{"general emissions", gen.EmissionsUG, 771_770_000},
		{"hours", int64(len(res.Declaration.Hours)), 3},
		{"missing residual", int64(len(res.Declaration.MissingResidual)), 1},
		{"missing grid", int64(len(res.Declaration.MissingGrid)), 1},
		{"periods", int64(len(res.Periods)), 1},
	}
	for _, ck := range checks {
		if ck.got != ck.want {
			t.Errorf("%s = %d, want %d", ck.name, ck.got, ck.want)
		}
	}
	if got := ind.Matched().Decimal(6); got != "0.650000" {
		t.Errorf("matched share = %s, want 0.650000", got)
	}
	if got := ind.Intensity().Decimal(3); got != "133.740" {
		t.Errorf("intensity = %s, want 133.740", got)
	}
	want := map[string]int64{"Wind": 2880, "Coal": 450, "Naturalgas": 200, "Oil": 20, "Nuclear": 300, "Solar": 30, "Hydro": 60, "Biomass": 40, "Waste": 20}
	if len(ind.Technologies) != len(want) {
		t.Errorf("technologies = %v, want %v", ind.Technologies, want)
	}
	for _, ta := range ind.Technologies {
		if want[ta.Technology] != ta.Wh {
			t.Errorf("technology %s = %d Wh, want %d", ta.Technology, ta.Wh, want[ta.Technology])
		}
	}
	if m := res.Declaration.MissingResidual[0]; !m.Hour.Equal(h0.Add(2*time.Hour)) || m.Use != declaration.MixDefault {
		t.Errorf("missing residual = %+v, want h2 filled by the default", m)
	}
}

func TestDeclareRefusesOthersAndBadInput(t *testing.T) {
	db := testkit.DB(t)
	h0 := time.Date(2031, 4, 1, 0, 0, 0, 0, time.UTC)
	w, c := handExample(t, db, h0)
	other := newWorld(t, db)
	prod := w.point(t, "PRODUCTION", "DK1")
	s := eco.NewService(db)
	tests := []struct {
		name   string
		userID int64
		q      eco.Query
	}{
		{"someone else's point", other.userID, eco.Query{GSRNs: []string{c}, From: h0, To: h0.Add(time.Hour)}},
		{"a production point", w.userID, eco.Query{GSRNs: []string{prod}, From: h0, To: h0.Add(time.Hour)}},
		{"no points at all", other.userID, eco.Query{From: h0, To: h0.Add(time.Hour)}},
		{"empty range", w.userID, eco.Query{From: h0, To: h0}},
		{"not whole hours", w.userID, eco.Query{From: h0.Add(time.Minute), To: h0.Add(time.Hour)}},
		{"too long", w.userID, eco.Query{From: h0, To: h0.Add(eco.MaxSpan + time.Hour)}},
		{"bad zone", w.userID, eco.Query{From: h0, To: h0.Add(time.Hour), TimeZone: "Mars/Olympus"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Declare(t.Context(), tc.userID, tc.q)
			if !errors.Is(err, eco.ErrInvalidInput) {
				t.Fatalf("Declare() error = %v, want ErrInvalidInput", err)
			}
		})
	}
}

// TestDeclareDayPeriodsInZone checks that periods are cut in the requested zone: in
// Copenhagen (UTC+1 in March) the three UTC hours 23:00, 00:00, 01:00 of two UTC days fall
// on one local day.
func TestDeclareDayPeriodsInZone(t *testing.T) {
	db := testkit.DB(t)
	h0 := time.Date(2031, 5, 1, 22, 0, 0, 0, time.UTC) // 00:00 in Copenhagen (UTC+2)
	w, c := handExample(t, db, h0)
	res, err := eco.NewService(db).Declare(t.Context(), w.userID, eco.Query{GSRNs: []string{c}, From: h0, To: h0.Add(3 * time.Hour), Resolution: declaration.Day, TimeZone: "Europe/Copenhagen"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Periods) != 1 || res.Periods[0].Hours != 3 || res.Periods[0].Individual.ConsumedWh != 4000 {
		t.Fatalf("periods = %+v, want one local day of 3 hours and 4000 Wh", res.Periods)
	}
	utc, err := eco.NewService(db).Declare(t.Context(), w.userID, eco.Query{GSRNs: []string{c}, From: h0, To: h0.Add(3 * time.Hour), Resolution: declaration.Day})
	if err != nil {
		t.Fatal(err)
	}
	if len(utc.Periods) != 2 {
		t.Fatalf("UTC periods = %d, want 2", len(utc.Periods))
	}
}
