ALTER TABLE ggo_operations DROP CONSTRAINT ggo_operations_kind_check,
    ADD CONSTRAINT ggo_operations_kind_check CHECK (kind IN ('TRANSFER', 'RETIRE', 'COMPOSE', 'CONSUME'));

--bun:split

-- What automatic consumption did per hour, and by which rule: one row per GGO and consumer.
CREATE TABLE consumption_entries (
    id                bigserial PRIMARY KEY,
    user_id           bigint NOT NULL REFERENCES users (id),
    begin_at          timestamptz NOT NULL,
    operation_id      bigint NOT NULL REFERENCES ggo_operations (id),
    ggo_id            bigint NOT NULL REFERENCES ggos (id),
    rule              text NOT NULL,
    metering_point_id bigint REFERENCES metering_points (id),
    agreement_id      bigint REFERENCES agreements (id),
    amount_wh         bigint NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT consumption_entries_rule_check CHECK (
        (rule = 'RETIRE' AND metering_point_id IS NOT NULL AND agreement_id IS NULL)
        OR (rule = 'AGREEMENT' AND agreement_id IS NOT NULL AND metering_point_id IS NULL)),
    CONSTRAINT consumption_entries_amount_wh_check CHECK (amount_wh > 0)
);

--bun:split

CREATE INDEX consumption_entries_user_id_begin_at_idx ON consumption_entries (user_id, begin_at, id);

--bun:split

CREATE INDEX consumption_entries_operation_id_idx ON consumption_entries (operation_id);
