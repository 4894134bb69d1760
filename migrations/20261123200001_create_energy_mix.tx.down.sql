DROP TABLE energy_mix_defaults;

--bun:split

DROP TABLE energy_mix;
