DROP SEQUENCE ggo_key_index_seq;
