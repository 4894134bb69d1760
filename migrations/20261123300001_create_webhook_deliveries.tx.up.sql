-- Subscriptions: events are a closed set, URLs and secrets are bounded, and the secret is
-- kept sealed (AES-GCM under SECRET) instead of in plain text. The table has held no rows
-- before this migration (nothing wrote it), so the plain column is dropped, not converted.
ALTER TABLE webhook_subscriptions
    DROP COLUMN secret,
    ADD COLUMN secret_sealed bytea,
    ADD CONSTRAINT webhook_subscriptions_event_check CHECK (event IN (
        'GGO_RECEIVED', 'GGO_ISSUED', 'MEASUREMENT_PUBLISHED', 'OPERATION_COMMITTED', 'OPERATION_FAILED', 'FORECAST_RECEIVED')),
    ADD CONSTRAINT webhook_subscriptions_url_length_check CHECK (length(url) <= 2048);

--bun:split

-- One row per (event, subscription): the outbox written in the emitter's transaction and
-- the delivery log. The url and body are copied so the log stays readable after the
-- subscription is deleted, and every attempt sends the same bytes.
CREATE TABLE webhook_deliveries (
    id               bigserial PRIMARY KEY,
    user_id          bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    subscription_id  bigint REFERENCES webhook_subscriptions (id) ON DELETE SET NULL,
    event            text NOT NULL,
    event_id         text NOT NULL,
    url              text NOT NULL,
    body             bytea NOT NULL,
    state            text NOT NULL DEFAULT 'PENDING',
    attempts         integer NOT NULL DEFAULT 0,
    max_attempts     integer NOT NULL,
    last_status_code integer,
    last_error       text,
    last_attempt_at  timestamptz,
    next_attempt_at  timestamptz,
    finished_at      timestamptz,
    locked_until     timestamptz,
    redelivery_of    bigint REFERENCES webhook_deliveries (id) ON DELETE SET NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT webhook_deliveries_state_check CHECK (state IN ('PENDING', 'SUCCEEDED', 'FAILED')),
    CONSTRAINT webhook_deliveries_attempts_check CHECK (attempts >= 0 AND attempts <= max_attempts),
    CONSTRAINT webhook_deliveries_body_check CHECK (octet_length(body) <= 262144),
    CONSTRAINT webhook_deliveries_pending_check CHECK ((state = 'PENDING') = (finished_at IS NULL))
);

--bun:split

-- The delivery log, newest first per user.
CREATE INDEX webhook_deliveries_user_id_id_idx ON webhook_deliveries (user_id, id DESC);

--bun:split

CREATE INDEX webhook_deliveries_subscription_id_idx ON webhook_deliveries (subscription_id);

--bun:split

-- The sweeper looks only at live deliveries.
CREATE INDEX webhook_deliveries_next_attempt_at_idx ON webhook_deliveries (next_attempt_at) WHERE state = 'PENDING';

--bun:split

-- The sweeper prunes finished deliveries past the retention.
CREATE INDEX webhook_deliveries_finished_at_idx ON webhook_deliveries (finished_at) WHERE state <> 'PENDING';

--bun:split

CREATE TABLE webhook_delivery_attempts (
    delivery_id bigint NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    attempt     integer NOT NULL,
    started_at  timestamptz NOT NULL,
    duration_ms integer NOT NULL,
    status_code integer,
    error       text,
    PRIMARY KEY (delivery_id, attempt),
    CONSTRAINT webhook_delivery_attempts_attempt_check CHECK (attempt >= 1)
);
