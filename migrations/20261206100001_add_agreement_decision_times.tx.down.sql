ALTER TABLE agreements DROP COLUMN withdrawn_at, DROP COLUMN accepted_at;
