DROP INDEX IF EXISTS users_company_idx;

--bun:split

DROP INDEX IF EXISTS users_name_idx;

--bun:split

ALTER TABLE users DROP COLUMN company, DROP COLUMN name;

--bun:split

DROP INDEX IF EXISTS metering_points_user_id_retiring_priority_idx;

--bun:split

DROP INDEX IF EXISTS metering_points_tags_idx;

--bun:split

ALTER TABLE metering_points DROP CONSTRAINT metering_points_retiring_priority_check,
    DROP COLUMN retiring_priority, DROP COLUMN tags, DROP COLUMN name;
