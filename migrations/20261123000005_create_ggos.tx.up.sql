CREATE TABLE ggos (
    id                bigserial PRIMARY KEY,
    user_id           bigint NOT NULL REFERENCES users (id),
    -- the production metering point it was issued for; NULL on parts and received GGOs' views
    metering_point_id bigint REFERENCES metering_points (id),
    parent_id         bigint REFERENCES ggos (id),
    begin_at          timestamptz NOT NULL,
    end_at            timestamptz NOT NULL,
    amount_wh         bigint NOT NULL,
    sector            text NOT NULL,
    technology_code   text NOT NULL,
    fuel_code         text NOT NULL,
    state             text NOT NULL DEFAULT 'PENDING',
    address           text,
    key_path          text,
    issued_at         timestamptz NOT NULL,
    expires_at        timestamptz NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT ggos_amount_wh_check CHECK (amount_wh > 0),
    CONSTRAINT ggos_hour_check CHECK (end_at = begin_at + interval '1 hour' AND date_trunc('hour', begin_at) = begin_at),
    CONSTRAINT ggos_sector_check CHECK (sector IN ('DK1', 'DK2')),
    CONSTRAINT ggos_state_check CHECK (state IN ('PENDING', 'STORED', 'LOCKED', 'TRANSFERRED', 'RETIRED', 'EXPIRED', 'SPLIT', 'INVALID')),
    CONSTRAINT ggos_address_key UNIQUE (address)
);

--bun:split

CREATE INDEX ggos_user_id_state_begin_at_idx ON ggos (user_id, state, begin_at);

--bun:split

CREATE INDEX ggos_parent_id_idx ON ggos (parent_id) WHERE parent_id IS NOT NULL;
