DROP TABLE consumption_entries;

--bun:split

-- NOT VALID: operations of kind CONSUME stay as history (GGOs refer to them).
ALTER TABLE ggo_operations DROP CONSTRAINT ggo_operations_kind_check,
    ADD CONSTRAINT ggo_operations_kind_check CHECK (kind IN ('TRANSFER', 'RETIRE', 'COMPOSE')) NOT VALID;
