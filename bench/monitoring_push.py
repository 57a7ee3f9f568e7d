"""Pushed metrics: samples per second through the push API vs a raw COPY of the same samples into
the same table, in one run.

    .venv/bin/python bench/monitoring_push.py [--n 20000] [--checks 100] [--batch 1000]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/erpc_bench .venv/bin/python bench/monitoring_push.py

Workload: N samples spread round-robin over C checks (Prometheus kind, thresholds set, about 5% of
values above the warning threshold so some checks change state and raise/resolve alerts), pushed in
batches of B samples.

Variants:
1. push API   POST /api/metrics/ with an operations token, one request per batch: validation of the
              whole batch, the checks locked, samples bulk-inserted, each sample evaluated in order
              (state, breach counts, alerts). In process (django.test.Client, no network).
2. raw COPY   the same rows into monitoring_sample with COPY … FROM STDIN (PostgreSQL), or one
              executemany INSERT per batch (SQLite, which has no COPY): the storage ceiling, with no
              validation or evaluation.

Database: SQLite at /tmp/erpc-bench-push.sqlite3 (fresh, deleted at the end), or a throwaway
PostgreSQL database named after DATABASE_URL with "_push" appended (dropped unless --keep)."""

from __future__ import annotations

import argparse
import datetime
import io
import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib  # noqa: E402


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=20_000, help="samples per variant (default 20000)")
    p.add_argument("--checks", type=int, default=100, help="checks the samples spread over (default 100)")
    p.add_argument("--batch", type=int, default=1000, help="samples per request / COPY (default 1000)")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--keep", action="store_true", help="keep the bench database at the end")
    return p.parse_args()


def setup(args) -> tuple[str, list[int]]:
    from django.contrib.auth.models import Group
    from rest_framework.authtoken.models import Token

    from erpcontinuity.roles import IT_OPERATIONS
    from monitoring.models import Check
    from plans.models import ERPService
    from tests.factories import UserFactory

    service = ERPService.objects.create(
        name="Bench push", code="bench-push", criticality=2, rto_minutes=60, rpo_minutes=15, mtpd_minutes=240
    )
    user = UserFactory(username="bench-agent")
    user.groups.add(Group.objects.get(name=IT_OPERATIONS))
    rows = [
        Check(
            service=service,
            name=f"push {i}",
            kind="prometheus",
            settings={"server_url": "http://prom:9090", "expression": "up"},
            warning_threshold=90,
            critical_threshold=99,
            breaches_to_fire=2,
            recoveries_to_clear=2,
        )  # fmt: skip
        for i in range(args.checks)
    ]
    return Token.objects.create(user=user).key, [c.pk for c in Check.objects.bulk_create(rows)]


def workload(args, ids: list[int]) -> list[tuple[int, float, datetime.datetime]]:
    rng = random.Random(args.seed)
    start = datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=2)
    return [
        (ids[i % len(ids)], round(rng.uniform(90, 100) if rng.random() < 0.05 else rng.uniform(5, 80), 3),
         start + datetime.timedelta(milliseconds=i))
        for i in range(args.n)
    ]  # fmt: skip


def run_api(token: str, samples, batch: int) -> float:
    from django.test import Client

    client = Client()
    headers = {"HTTP_AUTHORIZATION": f"Token {token}"}
    bodies = [
        json.dumps({"samples": [{"check": c, "value": v, "at": at.isoformat()} for c, v, at in samples[i : i + batch]]})
        for i in range(0, len(samples), batch)
    ]
    start = time.perf_counter()
    for body in bodies:
        response = client.post("/api/metrics/", body, content_type="application/json", **headers)
        if response.status_code != 201:
            raise SystemExit(f"push API answered {response.status_code}: {response.content[:300]!r}")
    return time.perf_counter() - start


def run_raw(samples, batch: int) -> float:
    from django.db import connection, transaction

    start = time.perf_counter()
    for i in range(0, len(samples), batch):
        chunk = samples[i : i + batch]
        with transaction.atomic(), connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                data = io.StringIO("".join(f"{c}\t{at.isoformat()}\t{v}\tok\t\n" for c, v, at in chunk))
                cursor.cursor.copy_expert(  # psycopg2
                    "COPY monitoring_sample (monitor_check_id, at, value, status, error) FROM STDIN", data
                )
            else:
                cursor.executemany(
                    "INSERT INTO monitoring_sample (monitor_check_id, at, value, status, error) VALUES (%s, %s, %s, %s, %s)",
                    [(c, at, v, "ok", "") for c, v, at in chunk],
                )
    return time.perf_counter() - start


def main() -> None:
    args = parse_args()
    db = benchlib.configure(sqlite_path="/tmp/erpc-bench-push.sqlite3", pg_suffix="_push", fresh=True)
    benchlib.setup_django()
    try:
        _bench(args, db)
    finally:
        if args.keep:
            print(f"\nKept the bench database: {db.label()}")
        else:
            benchlib.drop_database(db)
            print(f"\nDropped the bench database: {db.label()}")


def _bench(args, db: benchlib.Database) -> None:
    from incidents.models import Alert
    from monitoring.models import Sample

    migrate_s = benchlib.migrate()
    version = benchlib.server_version()
    benchlib.banner(f"Monitoring push — {version}, database {db.label()}")
    print(f"machine: {benchlib.machine()} (shared with other jobs: expect noise)")
    print(f"setup: migrate {migrate_s:.1f} s")
    token, ids = setup(args)
    samples = workload(args, ids)
    run_api(token, workload(argparse.Namespace(n=200, seed=1), ids), 100)  # warm-up
    Sample.objects.all().delete()

    print(f"\n[1/2] push API, {args.n} samples in batches of {args.batch} …", flush=True)
    api_s = run_api(token, samples, args.batch)
    stored = Sample.objects.count()
    alerts = Alert.objects.count()
    print(f"\n[2/2] raw {'COPY' if db.vendor == 'postgresql' else 'executemany INSERT'} …", flush=True)
    raw_s = run_raw(samples, args.batch)
    raw_stored = Sample.objects.count() - stored

    benchlib.banner(f"SUMMARY — monitoring push — {version}, database {db.label()}")
    print(f"samples: {args.n} over {args.checks} checks, batches of {args.batch}, in-process client (no network)")
    rows = [
        ["push API (validate, lock, bulk insert, evaluate)", args.n, api_s, round(args.n / api_s), stored],
        [
            f"raw {'COPY' if db.vendor == 'postgresql' else 'executemany INSERT'} (storage only)",
            args.n,
            raw_s,
            round(args.n / raw_s),
            raw_stored,
        ],  # fmt: skip
    ]
    print(benchlib.table(["variant", "samples", "seconds", "samples/s", "rows stored"], rows))
    print(f"alerts raised by the pushed values: {alerts}")
    print(f"push API vs raw: {raw_s / api_s:.2f} of the raw speed ({api_s / raw_s:.1f}× slower)")


if __name__ == "__main__":
    main()
