"""Relational storage of the data plane: SQLAlchemy Core tables, Alembic migrations, the
engine factory and the schema check. SQLite in the embedded profile, PostgreSQL in the
cluster profile; the same repositories and migrations run on both."""
