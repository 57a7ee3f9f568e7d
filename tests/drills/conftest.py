"""Postgres-marked tests skip on SQLite (and fail in CI without PostgreSQL), as in tests/incidents."""
