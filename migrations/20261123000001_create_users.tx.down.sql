DROP TABLE dev_signing_keys;

--bun:split

DROP TABLE users;
