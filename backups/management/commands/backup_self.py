"""The app protects itself: dump its own PostgreSQL database and report the run through the API.

    python manage.py backup_self --policy 3 --location 5 --dir /var/backups/erpc \
        [--api http://127.0.0.1:8000] [--token KEY]

1. POST /api/backup-runs/ {"event": "start", "policy", "location"} → the run id.
2. pg_dump --format=custom of the database in DATABASE_URL into <dir>/erpc-<UTC time>.dump
   (written as .partial and renamed when complete, so a directory scan never sees half a dump).
3. POST {"event": "finish", "run", "file_path", "size_bytes", "checksum_sha256"}, or
   {"event": "fail", "run", "message"} when pg_dump fails (the command then exits with an error).

The token (`manage.py backup_token`) can come from ERPC_BACKUP_TOKEN and the API base URL from
ERPC_API_URL, so a crontab line carries no secret. The verifications (freshness, size, checksum,
copies, restore test into a scratch database) then run on the app's schedule like any policy's.
It goes through the API on purpose, exactly like an external backup job: the same path is tested.
"""

from __future__ import annotations

import datetime
import json
import os
import shutil
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from backups.services import sha256_file


class Command(BaseCommand):
    help = "pg_dump the app's own database and report the backup run through the API."

    def add_arguments(self, parser):
        parser.add_argument("--policy", type=int, required=True, help="Id of the backup policy.")
        parser.add_argument("--location", type=int, required=True, help="Id of the directory location.")
        parser.add_argument("--dir", required=True, help="Directory of the location (where the dump is written).")
        parser.add_argument("--api", default=os.environ.get("ERPC_API_URL", "http://127.0.0.1:8000"))
        parser.add_argument("--token", default=os.environ.get("ERPC_BACKUP_TOKEN", ""))
        parser.add_argument("--timeout", type=int, default=3 * 3600, help="Seconds pg_dump may take.")

    def handle(self, *args, policy: int, location: int, dir: str, api: str, token: str, timeout: int, **options):
        db = settings.DATABASES["default"]
        if db["ENGINE"] != "django.db.backends.postgresql":
            raise CommandError("backup_self dumps PostgreSQL; DATABASE_URL points at another database.")
        if not token:
            raise CommandError("Give --token or set ERPC_BACKUP_TOKEN (python manage.py backup_token).")
        if shutil.which("pg_dump") is None:
            raise CommandError("pg_dump is not installed.")
        folder = Path(dir)
        if not folder.is_dir():
            raise CommandError(f"The directory {folder} does not exist.")
        self.endpoint = api.rstrip("/") + "/api/backup-runs/"
        self.token = token

        run = self._report({"event": "start", "policy": policy, "location": location})
        stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
        target = folder.resolve() / f"erpc-{stamp}.dump"
        partial = target.with_name(target.name + ".partial")
        env = {**os.environ, "PGHOST": db.get("HOST") or "127.0.0.1", "PGPORT": str(db.get("PORT") or 5432)}
        env["PGUSER"] = db.get("USER") or "postgres"
        env.pop("PGPASSWORD", None)
        if db.get("PASSWORD"):
            env["PGPASSWORD"] = db["PASSWORD"]  # through the environment, never on the command line
        cmd = ["pg_dump", "--format=custom", "--no-owner", "--file", str(partial), db["NAME"]]
        try:
            proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
            failed = proc.returncode != 0
            error = proc.stderr.strip()[-2000:] or f"exit {proc.returncode}"
        except subprocess.TimeoutExpired:
            failed, error = True, f"pg_dump took longer than {timeout} s"
        if failed:
            partial.unlink(missing_ok=True)
            self._report({"event": "fail", "run": run["id"], "message": f"pg_dump failed: {error}"})
            raise CommandError(f"pg_dump failed: {error}")
        partial.rename(target)
        size = target.stat().st_size
        checksum = sha256_file(target)
        self._report(
            {
                "event": "finish",
                "run": run["id"],
                "file_path": str(target),
                "size_bytes": size,
                "checksum_sha256": checksum,
            }
        )
        self.stdout.write(f"run {run['id']}: {target} {size} bytes sha256 {checksum}")

    def _report(self, body: dict) -> dict:
        request = urllib.request.Request(
            self.endpoint,
            data=json.dumps(body).encode(),
            headers={"Authorization": f"Token {self.token}", "Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - the operator's URL
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            raise CommandError(
                f"The API refused the {body['event']} report ({exc.code}): {exc.read()[:500]!r}"
            ) from exc
        except urllib.error.URLError as exc:
            raise CommandError(f"Cannot reach the API at {self.endpoint}: {exc.reason}") from exc
