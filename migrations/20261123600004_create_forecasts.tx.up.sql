-- Forecast series one account sends another (reference's forecast_forecast).
CREATE TABLE forecasts (
    id                 bigserial PRIMARY KEY,
    public_id          uuid NOT NULL DEFAULT gen_random_uuid(),
    sender_user_id     bigint NOT NULL REFERENCES users (id),
    recipient_user_id  bigint NOT NULL REFERENCES users (id),
    reference          text NOT NULL,
    sector             text NOT NULL,
    begin_at           timestamptz NOT NULL,
    end_at             timestamptz NOT NULL,
    resolution_seconds integer NOT NULL,
    values_wh          bigint[] NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT forecasts_public_id_key UNIQUE (public_id),
    CONSTRAINT forecasts_sector_check CHECK (sector IN ('DK1', 'DK2')),
    CONSTRAINT forecasts_resolution_check CHECK (resolution_seconds > 0),
    CONSTRAINT forecasts_values_check CHECK (cardinality(values_wh) BETWEEN 1 AND 100000),
    CONSTRAINT forecasts_end_check CHECK (end_at = begin_at + resolution_seconds * cardinality(values_wh) * interval '1 second'),
    CONSTRAINT forecasts_reference_check CHECK (length(reference) BETWEEN 1 AND 200)
);

--bun:split

CREATE INDEX forecasts_sender_user_id_created_at_idx ON forecasts (sender_user_id, created_at DESC, id DESC);

--bun:split

CREATE INDEX forecasts_recipient_user_id_created_at_idx ON forecasts (recipient_user_id, created_at DESC, id DESC);
