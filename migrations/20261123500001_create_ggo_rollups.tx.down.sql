DROP TRIGGER IF EXISTS ggos_rollup_truncate ON ggos;

--bun:split

DROP TRIGGER IF EXISTS ggos_rollup_delete ON ggos;

--bun:split

DROP TRIGGER IF EXISTS ggos_rollup_update ON ggos;

--bun:split

DROP TRIGGER IF EXISTS ggos_rollup_insert ON ggos;

--bun:split

DROP FUNCTION IF EXISTS ggo_rollup_truncate();

--bun:split

DROP FUNCTION IF EXISTS ggo_rollup_track();

--bun:split

DROP TABLE IF EXISTS ggo_rollup_days;

--bun:split

DROP TABLE IF EXISTS ggo_rollup_hours;

--bun:split

DROP TABLE IF EXISTS ggo_rollup_deltas;
