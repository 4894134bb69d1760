DELETE FROM technologies;
