CREATE TABLE users (
    id         bigserial PRIMARY KEY,
    subject    text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_subject_key UNIQUE (subject),
    CONSTRAINT users_subject_check CHECK (length(subject) BETWEEN 1 AND 255)
);

--bun:split

-- The dev token issuer's signing key: generated once, shared by every process of a dev install.
CREATE TABLE dev_signing_keys (
    name       text PRIMARY KEY,
    key        bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
