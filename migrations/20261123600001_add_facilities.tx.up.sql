-- Metering points as facilities: a display name, free tags and, for consumption points, the
-- order in which automatic consumption retires to them (lower first; NULL: never).
ALTER TABLE metering_points
    ADD COLUMN name text,
    ADD COLUMN tags text[] NOT NULL DEFAULT '{}',
    ADD COLUMN retiring_priority integer,
    ADD CONSTRAINT metering_points_retiring_priority_check CHECK (retiring_priority IS NULL OR (type = 'CONSUMPTION' AND retiring_priority >= 0));

--bun:split

CREATE INDEX metering_points_tags_idx ON metering_points USING gin (tags);

--bun:split

CREATE INDEX metering_points_user_id_retiring_priority_idx ON metering_points (user_id, retiring_priority, id) WHERE retiring_priority IS NOT NULL;

--bun:split

-- What counterparts find each other by (autocomplete), never by holdings.
ALTER TABLE users
    ADD COLUMN name text NOT NULL DEFAULT '',
    ADD COLUMN company text NOT NULL DEFAULT '';

--bun:split

CREATE INDEX users_name_idx ON users (lower(name) text_pattern_ops);

--bun:split

CREATE INDEX users_company_idx ON users (lower(company) text_pattern_ops);
