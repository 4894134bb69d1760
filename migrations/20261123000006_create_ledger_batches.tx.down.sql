DROP TABLE ledger_batches;
