"""Shared plumbing of the benchmarks in bench/: environment, throwaway databases, timing, tables.

Benchmarks are not tests (DESIGN.md): they print figures and the baseline they are compared with,
in one run, and assert nothing about speed. Each script calls `configure()` before importing any
Django code, so it never touches the developer's .env or db.sqlite3:

- DEBUG=0 and a dummy SECRET_KEY (production-like request handling), the in-memory Celery
  transport (nothing is queued on disk), DJANGO_SETTINGS_MODULE=bench_settings (the project's
  settings plus the bench URLs and plain static storage, see bench_settings.py).
- SQLite: a file under /tmp. PostgreSQL: the database named in DATABASE_URL, whose name must
  contain "bench" (the scripts create and may drop it; the guard keeps them off a real database).
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
DEV_SQLITE = ROOT / "db.sqlite3"


@dataclass
class Database:
    vendor: str  # "postgresql" or "sqlite"
    url: str
    name: str  # database name (PostgreSQL) or file path (SQLite)
    created: bool = False  # created by this run (PostgreSQL)

    def label(self) -> str:
        return f"{'PostgreSQL' if self.vendor == 'postgresql' else 'SQLite'} ({self.name})"


def configure(*, sqlite_path: str, pg_suffix: str = "", fresh: bool) -> Database:
    """Set the environment for Django and pick (and, on PostgreSQL, create) the bench database.

    sqlite_path: file used when DATABASE_URL is unset. pg_suffix: appended to the database name of
    DATABASE_URL (the ingest bench uses its own database so it never clobbers the list bench's
    100,000 incidents). fresh: start from an empty database (drop and recreate / delete the file)."""
    for path in (str(ROOT), str(BENCH_DIR)):
        if path not in sys.path:
            sys.path.insert(0, path)
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench_settings"
    os.environ["ERPC_ENV_FILE"] = "/nonexistent"  # never read the developer's .env (DEBUG=1 there)
    os.environ["DEBUG"] = "0"
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz")
    os.environ["CELERY_BROKER_URL"] = "memory://"
    os.environ.setdefault("EMAIL_URL", "consolemail://")
    os.environ.setdefault("LOG_LEVEL", "WARNING")

    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://", "pgsql://")):
        parts = urlsplit(url)
        name = parts.path.lstrip("/") + pg_suffix
        if "bench" not in name:
            sys.exit(f"Refusing to use database {name!r}: a bench database name must contain 'bench'.")
        url = urlunsplit(parts._replace(path="/" + name))
        os.environ["DATABASE_URL"] = url
        db = Database("postgresql", url, name)
        db.created = _pg_prepare(url, name, fresh=fresh)
        return db
    if url.startswith("sqlite:"):
        path = url.split("sqlite://", 1)[1] or sqlite_path
    elif url:
        sys.exit(f"Unsupported DATABASE_URL for the bench: {url}")
    else:
        path = sqlite_path
    if Path(path).resolve() == DEV_SQLITE.resolve():
        sys.exit("Refusing to benchmark on the developer's db.sqlite3; leave DATABASE_URL unset.")
    if fresh:
        remove_sqlite(path)
    os.environ["DATABASE_URL"] = f"sqlite:///{path}"
    return Database("sqlite", os.environ["DATABASE_URL"], path)


def remove_sqlite(path: str) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(path + suffix).unlink(missing_ok=True)


def _pg_admin(url: str):
    import psycopg2

    parts = urlsplit(url)
    conn = psycopg2.connect(
        dbname="postgres",
        user=parts.username or "postgres",
        password=parts.password or None,
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
    )
    conn.autocommit = True
    return conn


def _pg_prepare(url: str, name: str, *, fresh: bool) -> bool:
    """Create the database (dropping it first when `fresh`). Returns True when this run created it."""
    conn = _pg_admin(url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            exists = cur.fetchone() is not None
            if exists and fresh:
                cur.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
                exists = False
            if not exists:
                cur.execute(f'CREATE DATABASE "{name}"')
                return True
    finally:
        conn.close()
    return False


def drop_database(db: Database) -> None:
    from django.db import connections

    connections.close_all()
    if db.vendor == "postgresql":
        conn = _pg_admin(db.url)
        try:
            with conn.cursor() as cur:
                cur.execute(f'DROP DATABASE IF EXISTS "{db.name}" WITH (FORCE)')
        finally:
            conn.close()
    else:
        remove_sqlite(db.name)


def setup_django() -> None:
    import warnings

    import django

    # The bench serves no static files: no collectstatic, so no STATIC_ROOT directory.
    warnings.filterwarnings("ignore", message="No directory at")
    django.setup()


def migrate() -> float:
    """Run migrations on the bench database; returns the seconds it took."""
    from django.core.management import call_command

    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    return time.perf_counter() - started


def server_version() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SHOW server_version")
            return "PostgreSQL " + cursor.fetchone()[0].split()[0]
        cursor.execute("SELECT sqlite_version()")
        return "SQLite " + cursor.fetchone()[0]


def machine() -> str:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} CPU(s), "
        f"load average {load:.2f} at start"
    )


# --- Timing -----------------------------------------------------------------------------------------


class QueryCounter:
    """Counts queries with a connection execute wrapper: cheap enough to leave on in a timed loop
    (CaptureQueriesContext keeps every SQL string, so it is used on separate, untimed samples)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


class SQLTimer:
    """Seconds spent in the database driver during a block: the execute calls and the fetches.

    Fetches count too: SQLite computes rows lazily while they are fetched, and server-side cursors
    (QuerySet.iterator() on PostgreSQL) fetch outside execute, so timing execute alone would miss
    part of the work. Use as `with SQLTimer() as timer: ...; timer.seconds`."""

    _current: SQLTimer | None = None
    _patched = False

    def __init__(self) -> None:
        self.seconds = 0.0
        self._wrapper = None

    @classmethod
    def _patch_fetches(cls) -> None:
        from django.db.backends.utils import CursorWrapper

        if cls._patched:
            return

        def timed_fetch(name):
            def fetch(self, *args, **kwargs):
                timer, started = SQLTimer._current, time.perf_counter()
                try:
                    return getattr(self.cursor, name)(*args, **kwargs)
                finally:
                    if timer is not None:
                        timer.seconds += time.perf_counter() - started

            return fetch

        for name in ("fetchone", "fetchmany", "fetchall"):
            setattr(CursorWrapper, name, timed_fetch(name))
        cls._patched = True

    def _execute(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started

    def __enter__(self) -> SQLTimer:
        from django.db import connection

        self._patch_fetches()
        self._wrapper = connection.execute_wrapper(self._execute)
        self._wrapper.__enter__()
        SQLTimer._current = self
        return self

    def __exit__(self, *exc) -> None:
        SQLTimer._current = None
        self._wrapper.__exit__(*exc)


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


# --- Printing ---------------------------------------------------------------------------------------


def table(headers: list[str], rows: list[list[object]]) -> str:
    """A plain fixed-width table: first column left-aligned, the others right-aligned."""
    cells = [[str(h) for h in headers]] + [[_fmt(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = []
    for n, row in enumerate(cells):
        line = "  ".join(c.ljust(widths[i]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(row))
        lines.append(line.rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _fmt(value: object) -> str:
    if isinstance(value, float):
        if value >= 100:
            return f"{value:,.0f}"
        if value >= 10:
            return f"{value:.1f}"
        return f"{value:.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def banner(title: str) -> None:
    print(f"\n{'=' * 100}\n{title}\n{'=' * 100}")
