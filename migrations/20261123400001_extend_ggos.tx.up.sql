-- GGOs as the account domain needs them. A GGO row is one ledger GGO address; splitting or
-- transferring one creates new rows (parts) and ends the source. Provenance (the issuing
-- production metering point and the root GGO) is copied to every descendant.
ALTER TABLE ggos
    ADD COLUMN root_id bigint REFERENCES ggos (id),
    ADD COLUMN origin text NOT NULL DEFAULT 'ISSUED',
    ADD COLUMN received_from_user_id bigint REFERENCES users (id),
    ADD COLUMN batch_id text REFERENCES ledger_batches (id),
    ADD COLUMN operation_id bigint,
    ADD COLUMN retire_metering_point_id bigint REFERENCES metering_points (id),
    ADD COLUMN retired_at timestamptz,
    -- What a LOCKED GGO becomes when its batch commits: TRANSFERRED, SPLIT or RETIRED.
    ADD COLUMN next_state text,
    ADD CONSTRAINT ggos_origin_check CHECK (origin IN ('ISSUED', 'RECEIVED', 'PART')),
    -- A GGO consumed by an operation belongs to exactly one live batch (parts of an
    -- operation carry its batch too; issued GGOs follow their publication batch).
    ADD CONSTRAINT ggos_locked_check CHECK (state <> 'LOCKED' OR (batch_id IS NOT NULL AND next_state IN ('TRANSFERRED', 'SPLIT', 'RETIRED'))),
    ADD CONSTRAINT ggos_retire_check CHECK (retire_metering_point_id IS NULL OR state IN ('PENDING', 'LOCKED', 'RETIRED'));

--bun:split

-- One GGO per production hour: issuance can never happen twice for a measurement.
CREATE UNIQUE INDEX ggos_issued_hour_idx ON ggos (metering_point_id, begin_at) WHERE origin = 'ISSUED';

--bun:split

CREATE INDEX ggos_user_id_state_expires_at_idx ON ggos (user_id, state, expires_at, id);

--bun:split

-- Retirement caps: what is retired (or on its way) to a consumption point per hour.
CREATE INDEX ggos_retire_idx ON ggos (retire_metering_point_id, begin_at) WHERE retire_metering_point_id IS NOT NULL;

--bun:split

CREATE INDEX ggos_batch_id_idx ON ggos (batch_id) WHERE batch_id IS NOT NULL;

--bun:split

CREATE INDEX ggos_root_id_idx ON ggos (root_id);

--bun:split

-- A shareable account reference, what users give each other to receive GGOs.
ALTER TABLE users ADD COLUMN account_reference text;

--bun:split

UPDATE users SET account_reference = 'OH-' || upper(substr(md5(random()::text || id::text), 1, 12)) WHERE account_reference IS NULL;

--bun:split

ALTER TABLE users ALTER COLUMN account_reference SET DEFAULT 'OH-' || upper(substr(md5(random()::text || clock_timestamp()::text), 1, 12)),
    ALTER COLUMN account_reference SET NOT NULL,
    ADD CONSTRAINT users_account_reference_key UNIQUE (account_reference);

--bun:split

-- A transfer, retire or compose: one database transaction, one ledger batch.
CREATE TABLE ggo_operations (
    id                bigserial PRIMARY KEY,
    user_id           bigint NOT NULL REFERENCES users (id),
    kind              text NOT NULL,
    state             text NOT NULL DEFAULT 'PENDING',
    batch_id          text REFERENCES ledger_batches (id),
    amount_wh         bigint NOT NULL,
    recipient_user_id bigint REFERENCES users (id),
    metering_point_id bigint REFERENCES metering_points (id),
    reference         text,
    error             text,
    idempotency_key   text,
    created_at        timestamptz NOT NULL DEFAULT now(),
    finished_at       timestamptz,
    CONSTRAINT ggo_operations_kind_check CHECK (kind IN ('TRANSFER', 'RETIRE', 'COMPOSE')),
    CONSTRAINT ggo_operations_state_check CHECK (state IN ('PENDING', 'COMMITTED', 'FAILED')),
    CONSTRAINT ggo_operations_amount_wh_check CHECK (amount_wh > 0),
    CONSTRAINT ggo_operations_idempotency_key UNIQUE (user_id, idempotency_key)
);

--bun:split

CREATE INDEX ggo_operations_user_id_created_at_idx ON ggo_operations (user_id, created_at DESC, id);

--bun:split

CREATE INDEX ggo_operations_recipient_user_id_idx ON ggo_operations (recipient_user_id, created_at DESC, id) WHERE recipient_user_id IS NOT NULL;

--bun:split

CREATE INDEX ggo_operations_batch_id_idx ON ggo_operations (batch_id);

--bun:split

ALTER TABLE ggos ADD CONSTRAINT ggos_operation_id_fkey FOREIGN KEY (operation_id) REFERENCES ggo_operations (id);
