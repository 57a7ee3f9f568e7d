"""Restore tests without Django state: restore a PostgreSQL dump into a scratch database (created
for the test, dropped after, whatever happens) or extract an archive into a temporary directory,
then check what came out. Each function returns (ok, message, details)."""

from __future__ import annotations

import datetime
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
import zipfile
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.utils.translation import gettext as _

PG_CUSTOM_MAGIC = b"PGDMP"
RESTORE_TIMEOUT_SECONDS = 3 * 3600
SCRATCH_PREFIX = "erpc_restore_"


class RestoreError(Exception):
    """A restore test could not run (tools missing, scratch target unreachable)."""


def detect_format(path: str | Path) -> str:
    """ "pg_custom", "tar", "zip" or "pg_plain" (anything else is taken as plain SQL)."""
    with open(path, "rb") as handle:
        head = handle.read(8)
    if head.startswith(PG_CUSTOM_MAGIC):
        return "pg_custom"
    if zipfile.is_zipfile(path):
        return "zip"
    try:
        if tarfile.is_tarfile(path):
            return "tar"
    except OSError:
        pass
    return "pg_plain"


# --- PostgreSQL ----------------------------------------------------------------------------------


def _conn_params(url: str) -> dict:
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql"):
        raise RestoreError(_("The scratch target must be a postgresql:// URL."))
    return {
        "host": parts.hostname or "127.0.0.1",
        "port": parts.port or 5432,
        "user": unquote(parts.username or "postgres"),
        "password": unquote(parts.password or ""),
        "dbname": unquote(parts.path.lstrip("/")) or "postgres",
    }


def _env(params: dict) -> dict:
    # The password goes to the tools through the environment, never on a command line or in a log.
    env = {**os.environ, "PGHOST": str(params["host"]), "PGPORT": str(params["port"]), "PGUSER": params["user"]}
    env.pop("PGPASSWORD", None)
    if params["password"]:
        env["PGPASSWORD"] = params["password"]
    return env


def _connect(params: dict, dbname: str):
    import psycopg2

    conn = psycopg2.connect(
        host=params["host"],
        port=params["port"],
        user=params["user"],
        password=params["password"] or None,
        dbname=dbname,
        connect_timeout=10,
    )
    conn.autocommit = True
    return conn


def scratch_database_exists(url: str, name: str) -> bool:
    params = _conn_params(url)
    conn = _connect(params, params["dbname"])
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            return cur.fetchone() is not None
    finally:
        conn.close()


STALE_NAME = re.compile(rf"^{SCRATCH_PREFIX}\d+_(\d{{14}})_[0-9a-f]+$")


def drop_stale_scratch_databases(admin, *, now: datetime.datetime | None = None) -> list[str]:
    """Drop scratch databases left by a restore test whose worker died (the `finally` never ran):
    only erpc_restore_* names whose timestamp is older than the longest possible restore."""
    from psycopg2 import sql

    now = now or datetime.datetime.now(datetime.UTC)
    limit = now - datetime.timedelta(seconds=RESTORE_TIMEOUT_SECONDS + 3600)
    dropped = []
    with admin.cursor() as cur:
        cur.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", [SCRATCH_PREFIX.replace("_", "\\_") + "%"])
        for (name,) in cur.fetchall():
            match = STALE_NAME.match(name)
            if not match:
                continue
            created = datetime.datetime.strptime(match.group(1), "%Y%m%d%H%M%S").replace(tzinfo=datetime.UTC)
            if created < limit:
                cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
                dropped.append(name)
    return dropped


def _check_expectation(value, expect: str) -> bool:
    expect = (expect or "").strip().lower()
    if expect in ("zero", "==0"):
        return value == 0
    match = re.fullmatch(r"(>=|<=|==|>|<)\s*(-?\d+(?:\.\d+)?)", expect)
    if not match:
        raise ValueError(expect)
    op, number = match.group(1), float(match.group(2))
    value = float(value) if value is not None else None
    if value is None:
        return False
    return {
        ">": value > number,
        "<": value < number,
        ">=": value >= number,
        "<=": value <= number,
        "==": value == number,
    }[op]


def _tail(text: str, lines: int = 8) -> str:
    return "\n".join((text or "").strip().splitlines()[-lines:])


def restore_postgres(*, path: str, fmt: str, scratch_url: str, scratch_name: str, expected_tables, sanity_queries):
    """Restore `path` into a new database `scratch_name`, check it, and drop it in all cases."""
    import psycopg2
    from psycopg2 import sql

    tool = "pg_restore" if fmt == "pg_custom" else "psql"
    if shutil.which(tool) is None:
        raise RestoreError(_("%(tool)s is not installed on this worker.") % {"tool": tool})
    if not scratch_name.startswith(SCRATCH_PREFIX):
        raise RestoreError("Refusing a scratch database not named erpc_restore_*")
    params = _conn_params(scratch_url)
    try:
        admin = _connect(params, params["dbname"])
    except psycopg2.Error as exc:
        raise RestoreError(_("Cannot reach the scratch target: %(error)s") % {"error": str(exc).strip()}) from exc
    details: dict = {"format": fmt, "scratch_database": scratch_name, "tables": {}, "sanity": []}
    problems: list[str] = []
    details["dropped_stale"] = drop_stale_scratch_databases(admin)
    try:
        with admin.cursor() as cur:
            cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(scratch_name)))
    except psycopg2.Error as exc:
        admin.close()
        raise RestoreError(_("Cannot create the scratch database: %(error)s") % {"error": str(exc).strip()}) from exc
    try:
        env = {**_env(params), "PGDATABASE": scratch_name}
        if fmt == "pg_custom":
            cmd = ["pg_restore", "--no-owner", "--no-acl", "--exit-on-error", "-d", scratch_name, os.path.abspath(path)]
        else:
            cmd = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", scratch_name, "-f", os.path.abspath(path)]
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=RESTORE_TIMEOUT_SECONDS)
        if proc.returncode != 0:
            message = _("%(tool)s failed (exit %(code)s): %(error)s") % {
                "tool": tool,
                "code": proc.returncode,
                "error": _tail(proc.stderr) or _("no output"),
            }
            details["stderr"] = _tail(proc.stderr, 20)
            return False, message, details
        conn = _connect(params, scratch_name)
        try:
            with conn.cursor() as cur:
                for entry in expected_tables or []:
                    name = entry if isinstance(entry, str) else entry.get("name", "")
                    min_rows = 0 if isinstance(entry, str) else int(entry.get("min_rows", 0) or 0)
                    schema, _dot, table = name.rpartition(".")
                    cur.execute("SELECT to_regclass(%s)", [name if schema else f"public.{table}"])
                    if cur.fetchone()[0] is None:
                        problems.append(_("table %(name)s is missing") % {"name": name})
                        details["tables"][name] = None
                        continue
                    ident = sql.Identifier(schema or "public", table)
                    cur.execute(sql.SQL("SELECT count(*) FROM {}").format(ident))
                    rows = cur.fetchone()[0]
                    details["tables"][name] = rows
                    if rows < min_rows:
                        problems.append(
                            _("table %(name)s has %(rows)s rows, expected at least %(min)s")
                            % {"name": name, "rows": rows, "min": min_rows}
                        )
                for query in sanity_queries or []:
                    label = query.get("name") or query.get("sql", "")[:40]
                    try:
                        cur.execute(query["sql"])
                        row = cur.fetchone()
                        value = row[0] if row else None
                        ok = _check_expectation(value, query.get("expect", "zero"))
                    except (psycopg2.Error, ValueError, KeyError) as exc:
                        details["sanity"].append({"name": label, "error": str(exc).strip()})
                        problems.append(
                            _("sanity query %(name)s failed: %(error)s") % {"name": label, "error": str(exc).strip()}
                        )
                        continue
                    value_json = float(value) if value is not None and not isinstance(value, int) else value
                    details["sanity"].append(
                        {"name": label, "value": value_json, "expect": query.get("expect"), "ok": ok}
                    )
                    if not ok:
                        problems.append(
                            _("sanity query %(name)s returned %(value)s, expected %(expect)s")
                            % {"name": label, "value": value, "expect": query.get("expect")}
                        )
        finally:
            conn.close()
    finally:
        try:
            with admin.cursor() as cur:
                cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(scratch_name)))
        finally:
            admin.close()
    if problems:
        return False, "; ".join(problems), details
    return (
        True,
        _("Restored and checked %(n)s tables and %(q)s sanity queries.")
        % {
            "n": len(details["tables"]),
            "q": len(details["sanity"]),
        },
        details,
    )


# --- Archives ------------------------------------------------------------------------------------


def restore_archive(*, path: str, fmt: str, expected_files):
    """List and extract the archive into a temporary directory, then look for the expected files."""
    details: dict = {"format": fmt}
    with tempfile.TemporaryDirectory(prefix="erpc-restore-") as tmp:
        try:
            if fmt == "zip":
                with zipfile.ZipFile(path) as archive:
                    names = archive.namelist()
                    bad = archive.testzip()
                    if bad is not None:
                        return False, _("zip member %(name)s is corrupt") % {"name": bad}, details
                    for name in names:
                        target = (Path(tmp) / name).resolve()
                        if not str(target).startswith(str(Path(tmp).resolve())):
                            return False, _("zip member %(name)s escapes the archive") % {"name": name}, details
                    archive.extractall(tmp)
            else:
                with tarfile.open(path) as archive:
                    names = archive.getnames()
                    archive.extractall(tmp, filter="data")
        except (tarfile.TarError, zipfile.BadZipFile, OSError, EOFError) as exc:
            return False, _("The archive cannot be extracted: %(error)s") % {"error": exc}, details
        details["members"] = len(names)
        missing = [name for name in expected_files or [] if not (Path(tmp) / name).exists()]
        details["missing_files"] = missing
        if not names:
            return False, _("The archive is empty."), details
        if missing:
            return False, _("Missing from the archive: %(files)s") % {"files": ", ".join(missing)}, details
    return True, _("Extracted %(n)s members.") % {"n": len(names)}, details
