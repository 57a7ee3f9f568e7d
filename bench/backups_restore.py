"""Restore-test time of the verifier against a bare `pg_restore` of the same ~200 MB dump, one run.

    .venv/bin/python bench/backups_restore.py [--rows 3000000] [--rounds 2] [--keep-dump]
    PG_BENCH_URL=postgresql://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/backups_restore.py

1. Creates a source database `erpc_bench_restore_src` on the server of PG_BENCH_URL (default the
   local postgres), fills an ERP-like schema (orders, order lines, ledger entries with text
   columns) and dumps it with `pg_dump -Fc` into a temporary directory. The source is dropped.
2. Times, alternating the order each round, on the same dump:
   - bare: CREATE DATABASE, `pg_restore --no-owner --no-acl --exit-on-error -d`, DROP DATABASE;
   - verifier: `backups.restore.restore_postgres` — the restore test of a policy: drops stale
     scratch databases, creates the scratch database, lists the dump's table of contents for the
     progress percentage, runs `pg_restore --verbose` following each table, counts the rows of the
     expected tables, runs three sanity queries (open orders, trial balance, orphan lines), drops
     the scratch database.
3. Prints seconds for both, the ratio and the overhead in seconds. Asserts nothing. The dump is
   deleted at the end (unless --keep-dump).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchlib  # noqa: E402

URL = os.environ.get("PG_BENCH_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
SOURCE = "erpc_bench_restore_src"

SCHEMA = """
CREATE TABLE sales_order (id bigserial PRIMARY KEY, customer text NOT NULL, state text NOT NULL,
                          note text NOT NULL, created_at timestamptz NOT NULL);
CREATE TABLE sales_order_line (id bigserial PRIMARY KEY, order_id bigint NOT NULL REFERENCES sales_order(id),
                               sku text NOT NULL, qty int NOT NULL, price numeric(12,2) NOT NULL);
CREATE TABLE gl_entry (id bigserial PRIMARY KEY, account text NOT NULL, debit numeric(14,2) NOT NULL,
                       credit numeric(14,2) NOT NULL, memo text NOT NULL);
CREATE INDEX ON sales_order_line (order_id);
CREATE INDEX ON gl_entry (account);
"""

FILL = """
INSERT INTO sales_order (customer, state, note, created_at)
  SELECT 'customer-' || (g % 5000), CASE WHEN g % 7 = 0 THEN 'open' ELSE 'done' END,
         md5(g::text) || md5((g * 7)::text), now() - (g || ' minutes')::interval
  FROM generate_series(1, {orders}) g;
INSERT INTO sales_order_line (order_id, sku, qty, price)
  SELECT 1 + (g % {orders}), 'SKU-' || md5(g::text), 1 + g % 20, (g % 997) / 10.0
  FROM generate_series(1, {lines}) g;
INSERT INTO gl_entry (account, debit, credit, memo)
  SELECT 'acct-' || (g % 300), CASE WHEN g % 2 = 0 THEN (g % 1000) ELSE 0 END,
         CASE WHEN g % 2 = 1 THEN ((g - 1) % 1000) ELSE 0 END, md5(g::text)
  FROM generate_series(1, {entries}) g;
"""

SANITY = [
    {"name": "open sales orders", "sql": "SELECT count(*) FROM sales_order WHERE state = 'open'", "expect": ">0"},
    {"name": "trial balance", "sql": "SELECT coalesce(sum(debit - credit), 0) FROM gl_entry", "expect": "zero"},
    {
        "name": "orphan order lines",
        "sql": "SELECT count(*) FROM sales_order_line l LEFT JOIN sales_order o ON o.id = l.order_id "
        "WHERE o.id IS NULL",
        "expect": "zero",
    },
]
TABLES = [{"name": "sales_order", "min_rows": 1}, "sales_order_line", "gl_entry"]


def _psql(sql: str, db: str = "postgres") -> None:
    base = URL.rsplit("/", 1)[0]
    subprocess.run(
        ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", f"{base}/{db}"],
        input=sql,
        text=True,
        check=True,
        capture_output=True,
    )


def _make_dump(folder: Path, rows: int) -> Path:
    base = URL.rsplit("/", 1)[0]
    _psql(f"DROP DATABASE IF EXISTS {SOURCE}")
    _psql(f"CREATE DATABASE {SOURCE}")
    try:
        _psql(SCHEMA, SOURCE)
        # The trial balance must sum to zero: an even number of ledger entries pairs debits and credits.
        entries = rows - rows % 2
        _psql(FILL.format(orders=rows // 4, lines=rows, entries=entries), SOURCE)
        dump = folder / "erp.dump"
        subprocess.run(["pg_dump", "-Fc", "-f", str(dump), "-d", f"{base}/{SOURCE}"], check=True)
    finally:
        _psql(f"DROP DATABASE IF EXISTS {SOURCE}")
    return dump


def _bare(dump: Path) -> float:
    base = URL.rsplit("/", 1)[0]
    name = f"erpc_bench_bare_{uuid.uuid4().hex[:8]}"
    start = time.perf_counter()
    _psql(f"CREATE DATABASE {name}")
    try:
        subprocess.run(
            ["pg_restore", "--no-owner", "--no-acl", "--exit-on-error", "-d", f"{base}/{name}", str(dump)], check=True
        )
    finally:
        _psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    return time.perf_counter() - start


def _verifier(dump: Path) -> tuple[float, dict]:
    from backups import restore

    ticks = []
    name = f"{restore.SCRATCH_PREFIX}0_{time.strftime('%Y%m%d%H%M%S', time.gmtime())}_{uuid.uuid4().hex[:6]}"
    start = time.perf_counter()
    ok, message, details = restore.restore_postgres(
        path=str(dump),
        fmt="pg_custom",
        scratch_url=URL,
        scratch_name=name,
        expected_tables=TABLES,
        sanity_queries=SANITY,
        progress=lambda **kw: ticks.append(kw),
    )
    seconds = time.perf_counter() - start
    if not ok:
        sys.exit(f"the restore test failed: {message}")
    details["progress_reports"] = len(ticks)
    return seconds, details


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=3_000_000, help="order lines (orders = rows/4, ledger = rows)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--keep-dump", action="store_true")
    args = parser.parse_args()

    os.environ.pop("DATABASE_URL", None)  # Django is only set up for gettext; no bench database
    benchlib.configure(sqlite_path="/tmp/erpc-bench-backups.sqlite3", fresh=False)
    import django

    django.setup()

    folder = Path(tempfile.mkdtemp(prefix="erpc-bench-restore-"))
    try:
        print(f"generating the source database ({args.rows:,} order lines) and its dump …", flush=True)
        start = time.perf_counter()
        dump = _make_dump(folder, args.rows)
        size = dump.stat().st_size
        print(f"  dump {size / 1e6:.0f} MB in {time.perf_counter() - start:.0f} s: {dump}")
        bare, ours, details = [], [], {}
        for round_no in range(args.rounds):
            order = ["bare", "verifier"] if round_no % 2 == 0 else ["verifier", "bare"]
            for which in order:
                if which == "bare":
                    bare.append(_bare(dump))
                    print(f"  round {round_no + 1}: bare pg_restore  {bare[-1]:7.1f} s", flush=True)
                else:
                    seconds, details = _verifier(dump)
                    ours.append(seconds)
                    print(f"  round {round_no + 1}: restore test     {seconds:7.1f} s", flush=True)
        b, o = statistics.median(bare), statistics.median(ours)
        print()
        print("SUMMARY")
        print(f"  dump                        {size / 1e6:.0f} MB custom format, tables {details.get('tables')}")
        print(f"  bare pg_restore (+create/drop) median {b:7.1f} s   ({', '.join(f'{x:.1f}' for x in bare)})")
        print(f"  verifier restore test       median {o:7.1f} s   ({', '.join(f'{x:.1f}' for x in ours)})")
        print(f"  ratio verifier/bare         {o / b:.2f}   overhead {o - b:+.1f} s")
        print(f"  progress reports per restore {details.get('progress_reports')} (one per table + phases)")
    finally:
        if args.keep_dump:
            print(f"  dump kept in {folder}")
        else:
            for f in folder.iterdir():
                f.unlink()
            folder.rmdir()


if __name__ == "__main__":
    main()
