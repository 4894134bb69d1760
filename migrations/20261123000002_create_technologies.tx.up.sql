CREATE TABLE technologies (
    technology_code text NOT NULL,
    fuel_code       text NOT NULL,
    label           text NOT NULL,
    PRIMARY KEY (technology_code, fuel_code),
    CONSTRAINT technologies_technology_code_check CHECK (technology_code ~ '^T[0-9]{6}$'),
    CONSTRAINT technologies_fuel_code_check CHECK (fuel_code ~ '^F[0-9]{8}$'),
    CONSTRAINT technologies_label_check CHECK (length(label) BETWEEN 1 AND 100)
);

--bun:split

CREATE INDEX technologies_label_idx ON technologies (label);
