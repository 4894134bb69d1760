-- One custodial BIP32 wallet per user: the master key m, sealed with AES-GCM under a key
-- derived from SECRET (bound to the user id), and the counters of the two key branches.
CREATE TABLE wallets (
    user_id                   bigint PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    sealed_key                bytea NOT NULL,
    -- next i of m/1/i (metering points); metering_points.key_index holds the assigned ones
    next_metering_point_index integer NOT NULL DEFAULT 0,
    -- next k of m/0/k (traded GGOs)
    next_ggo_index            integer NOT NULL DEFAULT 0,
    created_at                timestamptz NOT NULL DEFAULT now(),
    updated_at                timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT wallets_next_metering_point_index_check CHECK (next_metering_point_index >= 0),
    CONSTRAINT wallets_next_ggo_index_check CHECK (next_ggo_index >= 0)
);
