-- Ledger state of published measurements, kept beside the partitioned measurements table so
-- that ingestion (COPY + set-based upsert) never touches it and publishing never rewrites
-- measurement rows. A row exists while the hour is published or on its way; INVALID batches
-- delete their rows, so the hour can be published again. The status is the batch's.
CREATE TABLE measurement_publications (
    metering_point_id bigint NOT NULL REFERENCES metering_points (id) ON DELETE CASCADE,
    begin_at          timestamptz NOT NULL,
    address           text NOT NULL,   -- MEASUREMENT address of the hour's key m/1/i/t
    batch_id          text NOT NULL REFERENCES ledger_batches (id),
    amount_wh         bigint NOT NULL, -- the amount published, to spot later revisions
    created_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (metering_point_id, begin_at),
    CONSTRAINT measurement_publications_begin_at_hour_check CHECK (date_trunc('hour', begin_at) = begin_at),
    CONSTRAINT measurement_publications_amount_wh_check CHECK (amount_wh >= 0)
);

--bun:split

CREATE INDEX measurement_publications_batch_id_idx ON measurement_publications (batch_id);
