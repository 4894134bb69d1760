DROP INDEX import_jobs_open_metering_points_idx;

--bun:split

DROP INDEX import_jobs_open_measurements_idx;

--bun:split

ALTER TABLE metering_points DROP COLUMN last_import_error;

--bun:split

ALTER TABLE metering_points DROP COLUMN imported_until;

--bun:split

DROP TABLE eloverblik_links;
