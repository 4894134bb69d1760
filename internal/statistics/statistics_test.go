package statistics_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/originhub/originhub/internal/statistics"
	"github.com/originhub/originhub/internal/testkit"
)

func TestMain(m *testing.M) { testkit.Main(m) }

func TestTotalsPublishOnlyGroupsOfEnoughUsers(t *testing.T) {
	db := testkit.DB(t)
	ctx := t.Context()
	h0 := time.Date(2032, 1, 10, 0, 0, 0, 0, time.UTC)
	if _, err := db.ExecContext(ctx, "SELECT ensure_measurement_partitions(?, ?)", h0, h0.Add(48*time.Hour)); err != nil {
		t.Fatal(err)
	}
	n := 0
	point := func(userID int64, typ, sector, tech, fuel string) int64 {
		n++
		var id int64
		if err := db.NewRaw("INSERT INTO metering_points (user_id, gsrn, type, sector, technology_code, fuel_code) VALUES (?, ?, ?, ?, nullif(?, ''), nullif(?, '')) RETURNING id",
			userID, fmt.Sprintf("578%06d%09d", userID, n), typ, sector, tech, fuel).Scan(ctx, &id); err != nil {
			t.Fatal(err)
		}
		return id
	}
	user := func() int64 {
		var id int64
		if err := db.NewRaw("INSERT INTO users (subject) VALUES (?) RETURNING id", fmt.Sprintf("%s-%d", testkit.Subject(t), n)).Scan(ctx, &id); err != nil {
			t.Fatal(err)
		}
		n++
		return id
	}
	reading := func(mp int64, h int, wh int64) {
		if _, err := db.ExecContext(ctx, "INSERT INTO measurements (metering_point_id, begin_at, amount_wh) VALUES (?, ?, ?)", mp, h0.Add(time.Duration(h)*time.Hour), wh); err != nil {
			t.Fatal(err)
		}
	}
	ggo := func(userID, mp int64, h int, wh int64, state string) {
		at := h0.Add(time.Duration(h) * time.Hour)
		if _, err := db.ExecContext(ctx, `INSERT INTO ggos (user_id, metering_point_id, begin_at, end_at, amount_wh, sector, technology_code, fuel_code, state, origin, issued_at, expires_at)
			VALUES (?, ?, ?, ?, ?, 'DK1', 'T020000', 'F01050100', ?, 'ISSUED', ?, ?)`, userID, mp, at, at.Add(time.Hour), wh, state, at, at.Add(2000*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	for i, wh := range []int64{100, 200, 300} {
		u := user()
		mp := point(u, "PRODUCTION", "DK1", "T020000", "F01050100")
		reading(mp, 3, wh)
		state := "STORED"
		if i == 0 {
			state = "RETIRED" // retired by one user only: its RETIRED group is suppressed
		}
		ggo(u, mp, 3, wh, state)
		if i < 2 {
			reading(point(u, "CONSUMPTION", "DK1", "", ""), 3, 1000+wh) // two consumers: suppressed
		}
	}
	lone := user()
	reading(point(lone, "PRODUCTION", "DK2", "T010000", "F01040100"), 5, 50)               // one producer: suppressed
	ggo(lone, point(lone, "PRODUCTION", "DK1", "T020000", "F01050100"), 4, 999, "PENDING") // not committed: never counted

	s := statistics.NewService(db)
	tests := []struct {
		name           string
		q              statistics.Query
		want           []string
		wantSuppressed int
	}{
		{
			name: "day totals", q: statistics.Query{From: h0, To: h0.Add(24 * time.Hour), Resolution: "DAY"},
			want:           []string{"2032-01-10 ISSUED DK1 Wind 600", "2032-01-10 PRODUCTION DK1 Wind 600"},
			wantSuppressed: 3, // CONSUMPTION DK1, PRODUCTION DK2 Solar, RETIRED DK1 Wind
		},
		{
			name: "a range inside a day is widened to the whole day", q: statistics.Query{From: h0.Add(3 * time.Hour), To: h0.Add(4 * time.Hour), Resolution: "DAY"},
			want: []string{"2032-01-10 ISSUED DK1 Wind 600", "2032-01-10 PRODUCTION DK1 Wind 600"}, wantSuppressed: 3,
		},
		{
			name: "filters select whole groups", q: statistics.Query{From: h0, To: h0.Add(24 * time.Hour), Resolution: "HOUR", Kinds: []statistics.Kind{statistics.Issued}, Technologies: []string{"Wind"}},
			want: []string{"2032-01-10 ISSUED DK1 Wind 600"},
		},
		{
			name: "another sector", q: statistics.Query{From: h0, To: h0.Add(24 * time.Hour), Resolution: "MONTH", Sectors: []string{"DK2"}},
			wantSuppressed: 1,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := s.Totals(ctx, tc.q)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range res.Points {
				got = append(got, fmt.Sprintf("%s %s %s %s %d", p.Begin.Format("2006-01-02"), p.Kind, p.Sector, p.Technology, p.AmountWh))
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) || res.Suppressed != tc.wantSuppressed {
				t.Fatalf("Totals() = %v (suppressed %d), want %v (suppressed %d)", got, res.Suppressed, tc.want, tc.wantSuppressed)
			}
		})
	}
	if _, err := s.Totals(ctx, statistics.Query{From: h0, To: h0, Resolution: "DAY"}); !errors.Is(err, statistics.ErrInvalidInput) {
		t.Errorf("empty range: %v, want ErrInvalidInput", err)
	}
	if _, err := s.Totals(ctx, statistics.Query{From: h0, To: h0.Add(time.Hour), Resolution: "WEEK"}); !errors.Is(err, statistics.ErrInvalidInput) {
		t.Errorf("bad resolution: %v, want ErrInvalidInput", err)
	}
}
