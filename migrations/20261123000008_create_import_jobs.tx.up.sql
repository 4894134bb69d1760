CREATE TABLE import_jobs (
    id                bigserial PRIMARY KEY,
    user_id           bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind              text NOT NULL,
    metering_point_id bigint REFERENCES metering_points (id) ON DELETE CASCADE,
    state             text NOT NULL DEFAULT 'QUEUED',
    window_from       timestamptz,
    window_to         timestamptz,
    rows_read         bigint NOT NULL DEFAULT 0,
    rows_written      bigint NOT NULL DEFAULT 0,
    attempts          integer NOT NULL DEFAULT 0,
    last_error        text,
    created_at        timestamptz NOT NULL DEFAULT now(),
    started_at        timestamptz,
    finished_at       timestamptz,
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT import_jobs_kind_check CHECK (kind IN ('METERING_POINTS', 'MEASUREMENTS')),
    CONSTRAINT import_jobs_state_check CHECK (state IN ('QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED')),
    CONSTRAINT import_jobs_window_check CHECK (window_to IS NULL OR window_from IS NULL OR window_to > window_from)
);

--bun:split

CREATE INDEX import_jobs_user_id_created_at_idx ON import_jobs (user_id, created_at DESC, id);
