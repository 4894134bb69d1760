DROP TABLE disclosure_retired;

--bun:split

DROP TABLE disclosure_hours;

--bun:split

DROP TABLE disclosure_metering_points;

--bun:split

DROP TABLE disclosures;
