-- Trade agreements: the sender (from) transfers GGOs to the recipient (to) hour by hour.
CREATE TABLE agreements (
    id                   bigserial PRIMARY KEY,
    public_id            uuid NOT NULL DEFAULT gen_random_uuid(),
    proposed_by_user_id  bigint NOT NULL REFERENCES users (id),
    from_user_id         bigint NOT NULL REFERENCES users (id),
    to_user_id           bigint NOT NULL REFERENCES users (id),
    state                text NOT NULL DEFAULT 'PENDING',
    -- inclusive dates in Europe/Copenhagen
    date_from            date NOT NULL,
    date_to              date NOT NULL,
    amount               bigint,
    unit                 text,
    amount_percent       integer,
    technologies         text[],
    -- the sender's production GSRNs (text: GSRNs are not numbers)
    facility_gsrns       text[],
    limit_to_consumption boolean NOT NULL DEFAULT false,
    reference            text NOT NULL,
    proposal_note        text NOT NULL DEFAULT '',
    -- sender-side order among ACCEPTED agreements, 0 first
    transfer_priority    integer,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    declined_at          timestamptz,
    cancelled_at         timestamptz,
    CONSTRAINT agreements_public_id_key UNIQUE (public_id),
    CONSTRAINT agreements_parties_check CHECK (from_user_id <> to_user_id AND proposed_by_user_id IN (from_user_id, to_user_id)),
    CONSTRAINT agreements_state_check CHECK (state IN ('PENDING', 'ACCEPTED', 'DECLINED', 'CANCELLED', 'WITHDRAWN')),
    CONSTRAINT agreements_dates_check CHECK (date_from <= date_to),
    CONSTRAINT agreements_amount_check CHECK ((amount IS NULL) = (unit IS NULL) AND (amount IS NULL OR amount > 0)),
    CONSTRAINT agreements_unit_check CHECK (unit IS NULL OR unit IN ('Wh', 'kWh', 'MWh', 'GWh')),
    CONSTRAINT agreements_amount_percent_check CHECK (amount_percent IS NULL OR amount_percent BETWEEN 1 AND 100),
    CONSTRAINT agreements_cap_check CHECK (amount IS NOT NULL OR amount_percent IS NOT NULL OR limit_to_consumption),
    CONSTRAINT agreements_priority_check CHECK (transfer_priority IS NULL OR state = 'ACCEPTED'),
    CONSTRAINT agreements_reference_check CHECK (length(reference) BETWEEN 1 AND 200)
);

--bun:split

CREATE INDEX agreements_from_user_id_state_idx ON agreements (from_user_id, state, transfer_priority, id);

--bun:split

CREATE INDEX agreements_to_user_id_state_idx ON agreements (to_user_id, state, id);

--bun:split

-- Parts transferred under an agreement carry it: the per-hour caps count them.
ALTER TABLE ggos ADD COLUMN agreement_id bigint REFERENCES agreements (id);

--bun:split

CREATE INDEX ggos_agreement_id_begin_at_idx ON ggos (agreement_id, begin_at) WHERE agreement_id IS NOT NULL;
