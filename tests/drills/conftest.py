"""Postgres-marked tests skip on SQLite (and fail in CI without PostgreSQL), as in tests/incidents."""

from tests.incidents.conftest import _require_postgres_when_marked  # noqa: F401 - autouse fixture
