ALTER TABLE ledger_batches ALTER COLUMN body SET COMPRESSION default;
