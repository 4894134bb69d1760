ALTER TABLE ggos DROP CONSTRAINT ggos_operation_id_fkey;

--bun:split

DROP TABLE ggo_operations;

--bun:split

ALTER TABLE users DROP COLUMN account_reference;

--bun:split

DROP INDEX ggos_root_id_idx;

--bun:split

DROP INDEX ggos_batch_id_idx;

--bun:split

DROP INDEX ggos_retire_idx;

--bun:split

DROP INDEX ggos_user_id_state_expires_at_idx;

--bun:split

DROP INDEX ggos_issued_hour_idx;

--bun:split

ALTER TABLE ggos
    DROP CONSTRAINT ggos_retire_check,
    DROP CONSTRAINT ggos_locked_check,
    DROP CONSTRAINT ggos_origin_check,
    DROP COLUMN next_state,
    DROP COLUMN retired_at,
    DROP COLUMN retire_metering_point_id,
    DROP COLUMN operation_id,
    DROP COLUMN batch_id,
    DROP COLUMN received_from_user_id,
    DROP COLUMN origin,
    DROP COLUMN root_id;
