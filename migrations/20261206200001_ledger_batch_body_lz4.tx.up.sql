-- Batch bodies are hundreds of KiB for operations that span many hours (automatic
-- consumption writes a day or two of hours per batch). pglz took about 15 ms to compress
-- a 450 KiB body, lz4 about 7 ms less and to a smaller size; lz4 ships with PostgreSQL 14+
-- builds (Debian, the official image). Only new values use it: nothing is rewritten.
ALTER TABLE ledger_batches ALTER COLUMN body SET COMPRESSION lz4;
