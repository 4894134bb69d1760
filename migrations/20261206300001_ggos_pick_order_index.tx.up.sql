-- The pick order of transfers and retires (earliest expiry, then hour, then id) as an index,
-- so a pick reads the first rows it can lock and stops: with (user_id, state, expires_at, id)
-- the planner had to sort, and with stale statistics it sorted every STORED GGO of the
-- account on every pick.
CREATE INDEX ggos_pick_idx ON ggos (user_id, state, expires_at, begin_at, id);

--bun:split

DROP INDEX ggos_user_id_state_expires_at_idx;
