-- A user's link to ElOverblik: the customer key we hand to ElOverblik's onboarding, the
-- one-time state that proves a callback answers our own request, and what was granted.
CREATE TABLE eloverblik_links (
    user_id       bigint PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    customer_key  text NOT NULL,
    state         text NOT NULL DEFAULT 'PENDING',
    nonce         text,
    access_from   timestamptz,
    access_to     timestamptz,
    requested_at  timestamptz NOT NULL DEFAULT now(),
    granted_at    timestamptz,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT eloverblik_links_customer_key_key UNIQUE (customer_key),
    CONSTRAINT eloverblik_links_nonce_key UNIQUE (nonce),
    CONSTRAINT eloverblik_links_state_check CHECK (state IN ('PENDING', 'GRANTED', 'DENIED'))
);

--bun:split

-- The newest hour imported for each metering point (exclusive end); incremental imports
-- continue from here, re-reading a trailing window because DataHub revises readings.
ALTER TABLE metering_points ADD COLUMN imported_until timestamptz;

--bun:split

ALTER TABLE metering_points ADD COLUMN last_import_error text;

--bun:split

-- At most one open measurement import per metering point: the scheduler and users asking
-- for imports cannot pile up duplicate jobs.
CREATE UNIQUE INDEX import_jobs_open_measurements_idx ON import_jobs (metering_point_id)
    WHERE kind = 'MEASUREMENTS' AND state IN ('QUEUED', 'RUNNING');

--bun:split

CREATE UNIQUE INDEX import_jobs_open_metering_points_idx ON import_jobs (user_id)
    WHERE kind = 'METERING_POINTS' AND state IN ('QUEUED', 'RUNNING');
