CREATE TABLE metering_points (
    id                bigserial PRIMARY KEY,
    user_id           bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    gsrn              text NOT NULL,
    type              text NOT NULL,
    sector            text NOT NULL,
    technology_code   text,
    fuel_code         text,
    street_code       text NOT NULL DEFAULT '',
    street_name       text NOT NULL DEFAULT '',
    building_number   text NOT NULL DEFAULT '',
    city_name         text NOT NULL DEFAULT '',
    postcode          text NOT NULL DEFAULT '',
    municipality_code text NOT NULL DEFAULT '',
    -- index k of the metering point's BIP32 key m/1/k in its owner's wallet
    key_index         integer,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT metering_points_gsrn_key UNIQUE (gsrn),
    CONSTRAINT metering_points_gsrn_check CHECK (gsrn ~ '^[0-9]{1,18}$'),
    CONSTRAINT metering_points_type_check CHECK (type IN ('PRODUCTION', 'CONSUMPTION')),
    CONSTRAINT metering_points_sector_check CHECK (sector IN ('DK1', 'DK2')),
    CONSTRAINT metering_points_key_index_check CHECK (key_index IS NULL OR key_index >= 0),
    CONSTRAINT metering_points_user_key_index_key UNIQUE (user_id, key_index)
);

--bun:split

CREATE INDEX metering_points_user_id_type_idx ON metering_points (user_id, type, id);
