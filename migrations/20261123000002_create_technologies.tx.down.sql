DROP TABLE technologies;
