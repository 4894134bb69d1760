-- Public disclosures (issue 8, datahub spec section 6): a consumer publishes, for chosen
-- consumption points and a period, its hourly consumption and the technology mix of the
-- GGOs retired to it. The definition lives in disclosures; a worker task compiles the data
-- into disclosure_hours and disclosure_retired, which the public query reads.
CREATE TABLE disclosures (
    id                 bigserial PRIMARY KEY,
    -- the public id: random, unguessable, the only handle anonymous readers have
    public_id          uuid NOT NULL DEFAULT gen_random_uuid(),
    user_id            bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name               text NOT NULL,
    description        text NOT NULL DEFAULT '',
    begin_at           timestamptz NOT NULL,
    end_at             timestamptz NOT NULL,
    -- the finest resolution anyone may read
    max_resolution     text NOT NULL,
    -- one series per metering point (true) or one aggregate series (false)
    per_metering_point boolean NOT NULL,
    show_gsrn          boolean NOT NULL,
    show_address       boolean NOT NULL,
    -- only shares are public, never absolute amounts
    share_only         boolean NOT NULL,
    state              text NOT NULL DEFAULT 'PENDING',
    error              text,
    -- bumped by every edit; a compilation records the version it compiled
    version            integer NOT NULL DEFAULT 1,
    compiled_version   integer,
    compiled_at        timestamptz,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT disclosures_public_id_key UNIQUE (public_id),
    CONSTRAINT disclosures_name_check CHECK (length(name) BETWEEN 1 AND 200),
    CONSTRAINT disclosures_description_check CHECK (length(description) <= 2000),
    CONSTRAINT disclosures_range_check CHECK (begin_at < end_at
        AND date_trunc('hour', begin_at) = begin_at AND date_trunc('hour', end_at) = end_at),
    CONSTRAINT disclosures_max_resolution_check CHECK (max_resolution IN ('HOUR', 'DAY', 'MONTH', 'YEAR')),
    CONSTRAINT disclosures_state_check CHECK (state IN ('PENDING', 'PROCESSING', 'AVAILABLE', 'FAILED')),
    CONSTRAINT disclosures_error_check CHECK ((state = 'FAILED') = (error IS NOT NULL))
);

--bun:split

CREATE INDEX disclosures_user_id_idx ON disclosures (user_id, id);

--bun:split

-- The sweep finds disclosures to (re)compile by state and age.
CREATE INDEX disclosures_state_compiled_at_idx ON disclosures (state, compiled_at);

--bun:split

-- The disclosed points; position orders the series and is the only identity a hidden
-- point has in public.
CREATE TABLE disclosure_metering_points (
    disclosure_id     bigint NOT NULL REFERENCES disclosures (id) ON DELETE CASCADE,
    metering_point_id bigint NOT NULL REFERENCES metering_points (id) ON DELETE CASCADE,
    position          integer NOT NULL,
    PRIMARY KEY (disclosure_id, metering_point_id),
    CONSTRAINT disclosure_metering_points_position_key UNIQUE (disclosure_id, position)
);

--bun:split

-- Compiled consumption per point and hour, with what retired GGOs cover of it.
CREATE TABLE disclosure_hours (
    disclosure_id     bigint NOT NULL REFERENCES disclosures (id) ON DELETE CASCADE,
    metering_point_id bigint NOT NULL,
    begin_at          timestamptz NOT NULL,
    consumed_wh       bigint NOT NULL,
    retired_wh        bigint NOT NULL,
    -- least(retired, consumed): the part matched hour by hour
    matched_wh        bigint NOT NULL,
    PRIMARY KEY (disclosure_id, metering_point_id, begin_at),
    CONSTRAINT disclosure_hours_amounts_check CHECK (consumed_wh >= 0 AND retired_wh >= 0
        AND matched_wh = least(consumed_wh, retired_wh))
);

--bun:split

-- Compiled GGOs retired to a point per hour and technology label (committed retirements,
-- the amounts of the retired parts).
CREATE TABLE disclosure_retired (
    disclosure_id     bigint NOT NULL REFERENCES disclosures (id) ON DELETE CASCADE,
    metering_point_id bigint NOT NULL,
    begin_at          timestamptz NOT NULL,
    technology        text NOT NULL,
    amount_wh         bigint NOT NULL,
    PRIMARY KEY (disclosure_id, metering_point_id, begin_at, technology),
    CONSTRAINT disclosure_retired_amount_wh_check CHECK (amount_wh > 0)
);
