-- When the counterpart accepted and when the proposer withdrew (declined_at and cancelled_at
-- exist already). Rows decided before this migration keep null: the moment was not recorded.
ALTER TABLE agreements ADD COLUMN accepted_at timestamptz, ADD COLUMN withdrawn_at timestamptz;
