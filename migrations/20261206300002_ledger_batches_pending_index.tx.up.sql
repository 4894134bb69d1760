-- A submission posts its user's other PENDING batches with it: they are found here, not
-- among all the batches the user ever had.
CREATE INDEX ledger_batches_pending_user_idx ON ledger_batches (user_id, created_at, id) WHERE status = 'PENDING';
