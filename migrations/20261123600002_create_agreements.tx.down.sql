ALTER TABLE ggos DROP COLUMN agreement_id;

--bun:split

DROP TABLE agreements;
