package migrations_test

import (
	"testing"

	"github.com/originhub/originhub/internal/db"
	"github.com/originhub/originhub/internal/testkit"
	"github.com/originhub/originhub/migrations"
)

func TestMain(m *testing.M) { testkit.Main(m) }

// TestUpDownUp applies every migration to an empty database, rolls all of them back, and
// applies them again: every down must undo its up completely.
func TestUpDownUp(t *testing.T) {
	ctx := t.Context()
	uri := testkit.FreshDatabase(t)
	d, err := db.Open(ctx, db.Options{URI: uri, PoolSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()

	tables := func() int {
		var n int
		if err := d.NewRaw("SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename NOT LIKE 'bun_%'").Scan(ctx, &n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	up, err := migrations.Up(ctx, d)
	if err != nil {
		t.Fatalf("first up: %v", err)
	}
	if len(up) == 0 {
		t.Fatal("first up applied nothing")
	}
	if n := tables(); n < 8 {
		t.Fatalf("after up: %d tables, want at least 8", n)
	}
	var techs int
	if err := d.NewRaw("SELECT count(*) FROM technologies").Scan(ctx, &techs); err != nil {
		t.Fatal(err)
	}
	if techs != 2666 {
		t.Fatalf("technologies seeded = %d, want 2666 (rows of datahub-technologies.csv)", techs)
	}
	if again, err := migrations.Up(ctx, d); err != nil || len(again) != 0 {
		t.Fatalf("second up = %v, %v; want nothing to do", again, err)
	}

	down, err := migrations.Down(ctx, d)
	if err != nil {
		t.Fatalf("down: %v", err)
	}
	if len(down) != len(up) {
		t.Fatalf("down rolled back %d migrations, want %d", len(down), len(up))
	}
	if n := tables(); n != 0 {
		t.Fatalf("after down: %d tables left, want 0", n)
	}
	var funcs int
	if err := d.NewRaw("SELECT count(*) FROM pg_proc WHERE proname = 'ensure_measurement_partitions'").Scan(ctx, &funcs); err != nil {
		t.Fatal(err)
	}
	if funcs != 0 {
		t.Fatal("after down: ensure_measurement_partitions still exists")
	}

	if again, err := migrations.Up(ctx, d); err != nil || len(again) != len(up) {
		t.Fatalf("up after down = %d migrations, %v; want %d", len(again), err, len(up))
	}
	st, err := migrations.Status(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Unapplied()) != 0 {
		t.Fatalf("unapplied after up: %v", st.Unapplied())
	}
}

func TestMeasurementPartitions(t *testing.T) {
	ctx := t.Context()
	d := testkit.DB(t)
	var created int
	if err := d.NewRaw("SELECT ensure_measurement_partitions('2024-01-15T10:00:00Z', '2024-04-01T00:00:00Z')").Scan(ctx, &created); err != nil {
		t.Fatal(err)
	}
	if created != 3 {
		t.Fatalf("created %d partitions, want 3 (Jan, Feb, Mar 2024)", created)
	}
	if err := d.NewRaw("SELECT ensure_measurement_partitions('2024-01-01T00:00:00Z', '2024-03-01T00:00:00Z')").Scan(ctx, &created); err != nil {
		t.Fatal(err)
	}
	if created != 0 {
		t.Fatalf("second call created %d partitions, want 0", created)
	}
	// A reading outside every partition is refused, never silently kept.
	_, err := d.ExecContext(ctx, "INSERT INTO measurements (metering_point_id, begin_at, amount_wh) VALUES (1, '2030-01-01T00:00:00Z', 1)")
	if err == nil {
		t.Fatal("insert into a month with no partition succeeded")
	}
	if _, err := d.ExecContext(ctx, "INSERT INTO measurements (metering_point_id, begin_at, amount_wh) VALUES (1, '2024-02-29T23:00:00Z', 5)"); err != nil {
		t.Fatalf("insert into February 2024: %v", err)
	}
	var part string
	if err := d.NewRaw("SELECT tableoid::regclass::text FROM measurements WHERE metering_point_id = 1").Scan(ctx, &part); err != nil {
		t.Fatal(err)
	}
	if part != "measurements_202402" {
		t.Fatalf("row landed in %s, want measurements_202402", part)
	}
}

// TestEnergyMixDefaults checks the seeded default mixes: every kind and sector sums to one
// whole (1,000,000 ppm), and the technologies are labels of the technologies table.
func TestEnergyMixDefaults(t *testing.T) {
	ctx := t.Context()
	d := testkit.DB(t)
	var rows []struct {
		Kind   string `bun:"kind"`
		Sector string `bun:"sector"`
		Total  int64  `bun:"total"`
		Bad    int64  `bun:"bad"`
	}
	if err := d.NewRaw(`SELECT kind, sector, sum(share_ppm)::bigint AS total,
		count(*) FILTER (WHERE technology NOT IN (SELECT label FROM technologies)) AS bad
		FROM energy_mix_defaults GROUP BY kind, sector ORDER BY kind, sector`).Scan(ctx, &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 {
		t.Fatalf("default mixes = %+v, want grid and residual for DK1 and DK2", rows)
	}
	for _, r := range rows {
		if r.Total != 1_000_000 || r.Bad != 0 {
			t.Errorf("default %s %s: shares sum to %d ppm with %d unknown technologies, want 1000000 and 0", r.Kind, r.Sector, r.Total, r.Bad)
		}
	}
}
