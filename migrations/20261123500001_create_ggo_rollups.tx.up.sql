-- GGO summaries read pre-summed rollups instead of the ggos table: sums of amount_wh and
-- counts per (user, period, sector, technology, fuel, state, origin), by hour (any time zone,
-- any resolution) and by UTC day (UTC summaries of whole days).
--
-- Triggers on ggos only INSERT signed delta rows, in the same transaction as the change, so
-- base + deltas always equals a plain SUM over ggos in every snapshot. They never update a
-- shared row: concurrent operations on one account do not queue behind a rollup row lock.
-- CompactRollup (account service, periodic task) folds deltas into the base tables under an
-- advisory lock.
--
-- amount_wh is numeric, not bigint: it holds sums of many GGOs (a statement's, a day's), and
-- a sum that leaves bigint must not make the change to ggos itself fail. Summary casts its
-- answers to bigint, as a plain sum over ggos would have to.
CREATE TABLE ggo_rollup_deltas (
    id              bigserial PRIMARY KEY,
    user_id         bigint NOT NULL,
    begin_at        timestamptz NOT NULL, -- the hour
    sector          text NOT NULL,
    technology_code text NOT NULL,
    fuel_code       text NOT NULL,
    state           text NOT NULL,
    origin          text NOT NULL,
    amount_wh       numeric NOT NULL,
    n               bigint NOT NULL
);

--bun:split

CREATE INDEX ggo_rollup_deltas_user_id_begin_at_idx ON ggo_rollup_deltas (user_id, begin_at);

--bun:split

CREATE TABLE ggo_rollup_hours (
    user_id         bigint NOT NULL,
    begin_at        timestamptz NOT NULL,
    sector          text NOT NULL,
    technology_code text NOT NULL,
    fuel_code       text NOT NULL,
    state           text NOT NULL,
    origin          text NOT NULL,
    amount_wh       numeric NOT NULL,
    n               bigint NOT NULL,
    PRIMARY KEY (user_id, begin_at, sector, technology_code, fuel_code, state, origin)
);

--bun:split

-- Rows whose GGOs all moved on are removed after each compaction.
CREATE INDEX ggo_rollup_hours_empty_idx ON ggo_rollup_hours (user_id) WHERE n = 0;

--bun:split

CREATE TABLE ggo_rollup_days (
    user_id         bigint NOT NULL,
    begin_at        timestamptz NOT NULL, -- the UTC day
    sector          text NOT NULL,
    technology_code text NOT NULL,
    fuel_code       text NOT NULL,
    state           text NOT NULL,
    origin          text NOT NULL,
    amount_wh       numeric NOT NULL,
    n               bigint NOT NULL,
    PRIMARY KEY (user_id, begin_at, sector, technology_code, fuel_code, state, origin)
);

--bun:split

CREATE INDEX ggo_rollup_days_empty_idx ON ggo_rollup_days (user_id) WHERE n = 0;

--bun:split

-- One statement-level function for the three triggers: each statement adds one delta row per
-- key it changed (old rows negated, new rows added), and nothing when a change nets to zero
-- (an update of columns the rollup does not keep).
CREATE FUNCTION ggo_rollup_track() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO ggo_rollup_deltas (user_id, begin_at, sector, technology_code, fuel_code, state, origin, amount_wh, n)
        SELECT user_id, begin_at, sector, technology_code, fuel_code, state, origin, sum(amount_wh), count(*)
        FROM new_rows GROUP BY 1, 2, 3, 4, 5, 6, 7;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO ggo_rollup_deltas (user_id, begin_at, sector, technology_code, fuel_code, state, origin, amount_wh, n)
        SELECT user_id, begin_at, sector, technology_code, fuel_code, state, origin, -sum(amount_wh), -count(*)
        FROM old_rows GROUP BY 1, 2, 3, 4, 5, 6, 7;
    ELSE
        INSERT INTO ggo_rollup_deltas (user_id, begin_at, sector, technology_code, fuel_code, state, origin, amount_wh, n)
        SELECT user_id, begin_at, sector, technology_code, fuel_code, state, origin, sum(a), sum(c)
        FROM (SELECT user_id, begin_at, sector, technology_code, fuel_code, state, origin, -amount_wh AS a, -1 AS c FROM old_rows
              UNION ALL
              SELECT user_id, begin_at, sector, technology_code, fuel_code, state, origin, amount_wh, 1 FROM new_rows) d
        GROUP BY 1, 2, 3, 4, 5, 6, 7
        HAVING sum(a) <> 0 OR sum(c) <> 0;
    END IF;
    RETURN NULL;
END
$$;

--bun:split

CREATE TRIGGER ggos_rollup_insert AFTER INSERT ON ggos
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ggo_rollup_track();

--bun:split

CREATE TRIGGER ggos_rollup_update AFTER UPDATE ON ggos
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ggo_rollup_track();

--bun:split

CREATE TRIGGER ggos_rollup_delete AFTER DELETE ON ggos
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION ggo_rollup_track();

--bun:split

-- TRUNCATE would bypass the row triggers; it empties the rollups with the GGOs.
CREATE FUNCTION ggo_rollup_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE ggo_rollup_deltas, ggo_rollup_hours, ggo_rollup_days;
    RETURN NULL;
END
$$;

--bun:split

CREATE TRIGGER ggos_rollup_truncate AFTER TRUNCATE ON ggos FOR EACH STATEMENT EXECUTE FUNCTION ggo_rollup_truncate();

--bun:split

-- GGOs stored before the triggers existed; the triggers (created above, in the same
-- transaction) track every change from here on.
INSERT INTO ggo_rollup_deltas (user_id, begin_at, sector, technology_code, fuel_code, state, origin, amount_wh, n)
SELECT user_id, begin_at, sector, technology_code, fuel_code, state, origin, sum(amount_wh), count(*)
FROM ggos GROUP BY 1, 2, 3, 4, 5, 6, 7;
