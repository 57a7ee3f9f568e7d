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
import threading
import zipfile
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

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


def _no_progress(**kwargs) -> None:
    pass


TABLE_DATA = re.compile(r"processing data for table \"?([^\"]+)\"?")


def _count_table_data(path: str, env: dict) -> int | None:
    """How many tables' data a custom-format dump holds (its table of contents), for a percentage."""
    try:
        proc = subprocess.run(["pg_restore", "-l", path], env=env, capture_output=True, text=True, timeout=300)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if proc.returncode != 0:
        return None
    return sum(1 for line in proc.stdout.splitlines() if not line.startswith(";") and " TABLE DATA " in line)


def _run_restore(cmd: list[str], env: dict, progress, total: int | None) -> tuple[int, str]:
    """Run the restore tool, following its verbose output line by line to report each table as
    it is restored. Returns (exit code, the tool's error lines). Killed after the timeout."""
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    timer = threading.Timer(RESTORE_TIMEOUT_SECONDS, proc.kill)
    timer.start()
    errors, tail, done = [], [], 0
    try:
        for line in proc.stderr:
            line = line.rstrip()
            tail = (tail + [line])[-20:]
            match = TABLE_DATA.search(line)
            if match:
                done += 1
                progress(done=done, total=total, current=match.group(1))
            elif "error" in line.lower() or "fatal" in line.lower():
                errors.append(line)
        code = proc.wait()
    finally:
        timer.cancel()
    return code, "\n".join(errors[-20:] or tail)


def restore_postgres(
    *, path: str, fmt: str, scratch_url: str, scratch_name: str, expected_tables, sanity_queries, progress=None
):
    """Restore `path` into a new database `scratch_name`, check it, and drop it in all cases.
    `progress(phase=..., done=..., total=..., current=...)` hears how far the restore is."""
    progress = progress or _no_progress
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
        total = None
        if fmt == "pg_custom":
            total = _count_table_data(os.path.abspath(path), env)
            cmd = ["pg_restore", "--verbose", "--no-owner", "--no-acl", "--exit-on-error", "-d", scratch_name]
            cmd.append(os.path.abspath(path))
        else:
            # psql -e echoes each statement; a plain dump loads each table with one COPY … FROM stdin.
            cmd = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", scratch_name, "-f", os.path.abspath(path)]
        progress(phase="restoring", done=0, total=total)
        code, stderr = _run_restore(cmd, env, progress, total)
        details["tables_in_dump"] = total
        if code != 0:
            message = _("%(tool)s failed (exit %(code)s): %(error)s") % {
                "tool": tool,
                "code": code,
                "error": _tail(stderr) or _("no output"),
            }
            details["stderr"] = _tail(stderr, 20)
            return False, message, details
        progress(phase="checking", done=total, total=total)
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


def unsafe_member(name: str) -> bool:
    """A member name that would land outside the extraction directory: absolute (/x, C:\\x, \\\\x)
    or climbing out with "..". Such an archive fails the test instead of being extracted."""
    normalized = name.replace("\\", "/")
    if normalized.startswith("/") or re.match(r"^[A-Za-z]:", normalized):
        return True
    return ".." in normalized.split("/")


def _expected(entry) -> tuple[str, int]:
    if isinstance(entry, dict):
        return str(entry.get("path", "")), int(entry.get("min_bytes", 0) or 0)
    return str(entry), 0


def restore_archive(*, path: str, fmt: str, expected_files):
    """List the archive, refuse unsafe member names, extract it into a temporary directory
    (deleted after), then check the expected files are there with at least their minimum size."""
    details: dict = {"format": fmt}
    with tempfile.TemporaryDirectory(prefix="erpc-restore-") as tmp:
        root = Path(tmp).resolve()
        try:
            if fmt == "zip":
                with zipfile.ZipFile(path) as archive:
                    names = archive.namelist()
                    if unsafe := [n for n in names if unsafe_member(n)]:
                        return (
                            False,
                            _("Unsafe member %(name)s: the archive was not extracted.") % {"name": unsafe[0]},
                            details,
                        )
                    bad = archive.testzip()
                    if bad is not None:
                        return False, _("zip member %(name)s is corrupt") % {"name": bad}, details
                    archive.extractall(root)
            else:
                with tarfile.open(path) as archive:
                    members = archive.getmembers()
                    names = [m.name for m in members]
                    unsafe = [m.name for m in members if unsafe_member(m.name)]
                    unsafe += [m.name for m in members if (m.issym() or m.islnk()) and unsafe_member(m.linkname)]
                    if unsafe:
                        return (
                            False,
                            _("Unsafe member %(name)s: the archive was not extracted.") % {"name": unsafe[0]},
                            details,
                        )
                    # The "data" filter also refuses devices, and links pointing out of the directory.
                    archive.extractall(root, filter="data")
        except (tarfile.TarError, zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
            return False, _("The archive cannot be extracted: %(error)s") % {"error": exc}, details
        details["members"] = len(names)
        details["extracted_bytes"] = sum(
            f.stat().st_size for f in root.rglob("*") if f.is_file() and not f.is_symlink()
        )
        problems, files = [], {}
        for entry in expected_files or []:
            name, min_bytes = _expected(entry)
            target = root / name
            if not target.is_file():
                problems.append(name)
                continue
            files[name] = size = target.stat().st_size
            if size < min_bytes:
                problems.append(
                    _("%(name)s (%(size)s bytes, expected at least %(min)s)")
                    % {"name": name, "size": size, "min": min_bytes}
                )
        details["files"] = files
        details["missing_files"] = problems
        if not names:
            return False, _("The archive is empty."), details
        if problems:
            return False, _("Missing from the archive: %(files)s") % {"files": ", ".join(problems)}, details
    return (
        True,
        ngettext("Extracted %(n)s member.", "Extracted %(n)s members.", len(names)) % {"n": len(names)},
        details,
    )
