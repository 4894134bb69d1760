-- DEFAULT energy mixes: the fallback for hours without hourly data. These are INDICATIVE
-- annual figures rounded to whole per mille, the same for DK1 and DK2; they are not the
-- published values of any year. Operators must load the published hourly data with
-- `originhub residual-mix import` (docs/residual-mix.md); every declaration hour computed
-- from these rows is flagged as using the default.
--
-- Shares (parts per million):
--   residual: shaped after the AIB European Residual Mix results for Denmark (AIB,
--     "European Residual Mixes", calendar years 2021-2022): because Denmark exports most of
--     the guarantees of origin of its wind power, its residual mix is dominated by fossil
--     and nuclear attributes filled in from the European attribute mix. Rounded guesses of
--     that shape, not AIB's table.
--   grid: shaped after Danish domestic electricity production around 2022 (Energinet's
--     environmental declaration "Miljødeklaration" / Danish Energy Agency annual energy
--     statistics): wind a little over half, then biomass, solar, fossil fuels and waste.
--     Imports (hydro, nuclear) are left out. DK2 has less wind and more biomass than DK1;
--     the default does not model that.
--
-- Emission factors (life-cycle, g CO2-eq/kWh, stored x1000 as mg/kWh):
--   IPCC AR5 WG III (2014), Annex III, Table A.III.2, median values: coal (pulverised)
--   820, natural gas (combined cycle) 490, biomass (dedicated) 230, solar PV (utility) 48,
--   hydro 24, ocean (marine) 17, nuclear 12, wind (onshore) 11.
--   Oil: 840, the median of IPCC SRREN (2011) Annex II for oil-fired generation (less
--   certain). Biogas: 230, the biomass figure used as a proxy (assumption). Waste: 400,
--   an OriginHub assumption for the fossil share of Danish waste incineration (no IPCC
--   median exists). Energinet's own declarations count direct emissions and biogenic
--   CO2 as zero, so their figures differ from these by method, not only by year.
INSERT INTO energy_mix_defaults (kind, sector, technology, share_ppm, co2eq_mg_per_kwh, source)
SELECT m.kind, s.sector, m.technology, m.share_ppm, m.co2eq_mg_per_kwh,
       'default: OriginHub indicative ' || m.kind || ' mix v1 (not published data, see docs/residual-mix.md)'
FROM (VALUES ('DK1'), ('DK2')) AS s (sector)
CROSS JOIN (VALUES
    ('residual', 'Coal',       250000, 820000),
    ('residual', 'Naturalgas', 200000, 490000),
    ('residual', 'Oil',         20000, 840000),
    ('residual', 'Nuclear',    300000,  12000),
    ('residual', 'Wind',        80000,  11000),
    ('residual', 'Solar',       30000,  48000),
    ('residual', 'Hydro',       60000,  24000),
    ('residual', 'Biomass',     40000, 230000),
    ('residual', 'Waste',       20000, 400000),
    ('grid',     'Wind',       550000,  11000),
    ('grid',     'Solar',       90000,  48000),
    ('grid',     'Biomass',    180000, 230000),
    ('grid',     'Biogas',      40000, 230000),
    ('grid',     'Waste',       40000, 400000),
    ('grid',     'Coal',        60000, 820000),
    ('grid',     'Naturalgas',  30000, 490000),
    ('grid',     'Oil',         10000, 840000)
) AS m (kind, technology, share_ppm, co2eq_mg_per_kwh);
