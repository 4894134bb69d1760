-- Indexes k of traded-GGO keys m/0/k come from one sequence instead of a per-user counter
-- row: nextval never blocks, so concurrent operations on one account (or on one recipient)
-- do not queue behind a wallet row lock. Indexes stay unique per user (they are unique
-- overall) and gaps are harmless. BIP32 non-hardened indexes end at 2^31 - 1.
CREATE SEQUENCE ggo_key_index_seq AS integer MINVALUE 0 START WITH 0 MAXVALUE 2147483647 NO CYCLE;

--bun:split

-- Partition creation raced by two importers could still collide between the existence
-- check and CREATE; the duplicate is now ignored.
CREATE OR REPLACE FUNCTION ensure_measurement_partitions(from_at timestamptz, to_at timestamptz)
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
            PERFORM pg_advisory_xact_lock(hashtext(name));
            BEGIN
                EXECUTE format(
                    'CREATE TABLE %I PARTITION OF measurements FOR VALUES FROM (%L) TO (%L)',
                    name, month, month + interval '1 month');
                created := created + 1;
            EXCEPTION WHEN duplicate_table THEN
                NULL; -- another session created it first
            END;
        END IF;
        month := month + interval '1 month';
    END LOOP;
    RETURN created;
END
$$;
