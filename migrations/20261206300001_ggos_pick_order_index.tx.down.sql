CREATE INDEX ggos_user_id_state_expires_at_idx ON ggos (user_id, state, expires_at, id);

--bun:split

DROP INDEX ggos_pick_idx;
