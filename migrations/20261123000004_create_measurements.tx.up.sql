-- Hourly readings, the big table: range-partitioned by month on begin_at so that a table of
-- billions stays fast and old months can be detached. Partitions are created ahead by
-- ensure_measurement_partitions, called by imports for their window and by a periodic task.
CREATE TABLE measurements (
    metering_point_id bigint NOT NULL,
    begin_at          timestamptz NOT NULL,
    amount_wh         bigint NOT NULL,
    quality           text NOT NULL DEFAULT 'A04',
    imported_at       timestamptz NOT NULL DEFAULT now(),
    revised_at        timestamptz,
    PRIMARY KEY (metering_point_id, begin_at),
    CONSTRAINT measurements_amount_wh_check CHECK (amount_wh >= 0),
    CONSTRAINT measurements_begin_at_hour_check CHECK (date_trunc('hour', begin_at) = begin_at)
) PARTITION BY RANGE (begin_at);

--bun:split

CREATE FUNCTION ensure_measurement_partitions(from_at timestamptz, to_at timestamptz)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    month   timestamptz := date_trunc('month', from_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
    created integer := 0;
    name    text;
BEGIN
    IF to_at - from_at > interval '100 years' THEN
        RAISE EXCEPTION 'partition window too large: % to %', from_at, to_at;
    END IF;
    WHILE month < to_at LOOP
        name := 'measurements_' || to_char(month AT TIME ZONE 'UTC', 'YYYYMM');
        IF to_regclass(name) IS NULL THEN
            -- Two importers may race to create the same month; the advisory lock serialises them.
            PERFORM pg_advisory_xact_lock(hashtext(name));
            IF to_regclass(name) IS NULL THEN
                EXECUTE format(
                    'CREATE TABLE %I PARTITION OF measurements FOR VALUES FROM (%L) TO (%L)',
                    name, month, month + interval '1 month');
                created := created + 1;
            END IF;
        END IF;
        month := month + interval '1 month';
    END LOOP;
    RETURN created;
END
$$;

--bun:split

-- A DataHub revision of an already imported reading: kept so GGO issuance can react.
CREATE TABLE measurement_revisions (
    id                bigserial PRIMARY KEY,
    metering_point_id bigint NOT NULL REFERENCES metering_points (id) ON DELETE CASCADE,
    begin_at          timestamptz NOT NULL,
    old_amount_wh     bigint NOT NULL,
    new_amount_wh     bigint NOT NULL,
    revised_at        timestamptz NOT NULL DEFAULT now()
);

--bun:split

CREATE INDEX measurement_revisions_metering_point_id_begin_at_idx ON measurement_revisions (metering_point_id, begin_at);
