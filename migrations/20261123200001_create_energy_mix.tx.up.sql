-- Hourly energy mixes per price area (sector) and technology label, the input of the
-- eco declaration (issue 8):
--   kind 'residual': the residual mix, i.e. what is left of the area's supply after the
--                    guarantees of origin cancelled elsewhere; it declares consumption not
--                    covered by GGOs retired to it.
--   kind 'grid':     the general (physical grid) mix of the area, used for the general
--                    declaration.
-- Shares are integers in parts per million of the hour's mix (never float); per (kind,
-- sector, hour) they sum to 1,000,000 within the import tolerance (internal/residualmix).
-- Emission factors are integer milligrams CO2-equivalent per kWh (= micrograms per Wh), so
-- that Wh x factor is an exact number of micrograms.
-- Loaded by `originhub residual-mix import`; see docs/residual-mix.md.
CREATE TABLE energy_mix (
    kind             text NOT NULL,
    sector           text NOT NULL,
    begin_at         timestamptz NOT NULL,
    technology       text NOT NULL,
    share_ppm        integer NOT NULL,
    co2eq_mg_per_kwh bigint NOT NULL,
    source           text NOT NULL,
    imported_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (kind, sector, begin_at, technology),
    CONSTRAINT energy_mix_kind_check CHECK (kind IN ('residual', 'grid')),
    CONSTRAINT energy_mix_sector_check CHECK (sector IN ('DK1', 'DK2')),
    CONSTRAINT energy_mix_begin_at_hour_check CHECK (date_trunc('hour', begin_at) = begin_at),
    CONSTRAINT energy_mix_technology_check CHECK (length(technology) BETWEEN 1 AND 100),
    CONSTRAINT energy_mix_share_ppm_check CHECK (share_ppm BETWEEN 0 AND 1000000),
    CONSTRAINT energy_mix_co2eq_check CHECK (co2eq_mg_per_kwh BETWEEN 0 AND 10000000),
    CONSTRAINT energy_mix_source_check CHECK (length(source) BETWEEN 1 AND 200)
);

--bun:split

-- The fallback for hours without hourly data: one annual mix per kind and sector. A
-- declaration that uses it says so for every such hour (it is never silent).
CREATE TABLE energy_mix_defaults (
    kind             text NOT NULL,
    sector           text NOT NULL,
    technology       text NOT NULL,
    share_ppm        integer NOT NULL,
    co2eq_mg_per_kwh bigint NOT NULL,
    source           text NOT NULL,
    PRIMARY KEY (kind, sector, technology),
    CONSTRAINT energy_mix_defaults_kind_check CHECK (kind IN ('residual', 'grid')),
    CONSTRAINT energy_mix_defaults_sector_check CHECK (sector IN ('DK1', 'DK2')),
    CONSTRAINT energy_mix_defaults_technology_check CHECK (length(technology) BETWEEN 1 AND 100),
    CONSTRAINT energy_mix_defaults_share_ppm_check CHECK (share_ppm BETWEEN 0 AND 1000000),
    CONSTRAINT energy_mix_defaults_co2eq_check CHECK (co2eq_mg_per_kwh BETWEEN 0 AND 10000000),
    CONSTRAINT energy_mix_defaults_source_check CHECK (length(source) BETWEEN 1 AND 200)
);
