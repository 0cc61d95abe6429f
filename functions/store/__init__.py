"""PostgreSQL + pgvector: connection, embedded server, migrations, and one module per table group."""
