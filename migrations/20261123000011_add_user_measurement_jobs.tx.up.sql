-- A measurement import may cover all of a user's metering points (metering_point_id NULL):
-- at most one such job is open per user.
CREATE UNIQUE INDEX import_jobs_open_user_measurements_idx ON import_jobs (user_id)
    WHERE kind = 'MEASUREMENTS' AND metering_point_id IS NULL AND state IN ('QUEUED', 'RUNNING');
