-- The ledger outbox: a batch is written here, with its exact bytes, in the same transaction as
-- the change it carries; a worker posts it and a poller follows its status.
CREATE TABLE ledger_batches (
    id           text PRIMARY KEY, -- the batch header signature (hex), also the ledger's batch id
    user_id      bigint REFERENCES users (id),
    kind         text NOT NULL,
    body         bytea NOT NULL,   -- the serialized BatchList POSTed to /batches, resent byte for byte
    status       text NOT NULL DEFAULT 'PENDING',
    error        text,
    attempts     integer NOT NULL DEFAULT 0,
    created_at   timestamptz NOT NULL DEFAULT now(),
    submitted_at timestamptz,
    committed_at timestamptz,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    next_poll_at timestamptz,
    CONSTRAINT ledger_batches_id_check CHECK (id ~ '^[0-9a-f]{128}$'),
    CONSTRAINT ledger_batches_status_check CHECK (status IN ('PENDING', 'SUBMITTED', 'COMMITTED', 'INVALID', 'UNKNOWN'))
);

--bun:split

CREATE INDEX ledger_batches_user_id_created_at_idx ON ledger_batches (user_id, created_at DESC, id);

--bun:split

CREATE INDEX ledger_batches_open_idx ON ledger_batches (next_poll_at) WHERE status IN ('PENDING', 'SUBMITTED', 'UNKNOWN');
