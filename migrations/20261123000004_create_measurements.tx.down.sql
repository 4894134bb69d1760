DROP TABLE measurement_revisions;

--bun:split

DROP FUNCTION ensure_measurement_partitions(timestamptz, timestamptz);

--bun:split

DROP TABLE measurements;
