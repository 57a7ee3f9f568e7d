"""Incident list at scale: the list page and the list API against a bare .values() view, in one run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/erpc_bench .venv/bin/python bench/incident_list.py
    .venv/bin/python bench/incident_list.py                 # SQLite at /tmp/erpc-bench.sqlite3
    options: --incidents 100000 --timeline 1000000 --runs 15 --rebuild --drop

Data: 100,000 incidents over five years (newest first; 30 still open, the rest resolved or
closed; 1-2 of 12 services each; 9 commanders, 10% without one) and 1,000,000 timeline entries
(10 per incident), written with INSERT … SELECT over a generated series (generate_series on
PostgreSQL, a recursive CTE on SQLite): the timeline is append-only at the model level, and per-row
ORM saves would take an hour. The data stays in the bench database and is reused by the next run
when the counts match (--rebuild regenerates it; --drop drops the database at the end).

Measured, each as the median of --runs requests after one warm-up, round-robin over the cases so
a burst of load on the shared machine hits all of them alike, and the query count of one more
request under CaptureQueriesContext:

- the incident list page (HTML, logged in as an IT operations user): first page, and last page
  through its keyset cursor (?after=<opened_at>,<id>, the form incidents/views/_common.py encodes);
- the incidents API list (DRF CursorPagination on (-opened_at, -id)): first page, and the last
  page through a cursor (?cursor=…, the token DRF itself encodes);
- baseline: the bare .values() JSON view in bench_urls.py — same columns as the API list, same
  order, same page size (50), same keyset condition, no auth, no template, no serializer;
- extras (no own baseline, compared with the bare first page): filters, search, other sorts.

Server time is the in-process round trip through django.test.Client: the full middleware stack
and the view, no network and no client parsing."""

from __future__ import annotations

import argparse
import base64
import re
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib  # noqa: E402

SERVICES = 12
COMMANDERS = 9
OPEN_INCIDENTS = 30
SPACING_S = 1580  # seconds between two incidents: 100,000 incidents ≈ 5 years
PAGE_SIZE = 50


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--incidents", "--n", type=int, default=100_000, help="incidents (default 100,000)")
    p.add_argument("--timeline", type=int, default=1_000_000, help="timeline entries (default 1,000,000)")
    p.add_argument("--runs", type=int, default=15, help="timed requests per case (default 15)")
    p.add_argument("--rebuild", action="store_true", help="drop the bench data and generate it again")
    p.add_argument("--drop", action="store_true", help="drop the bench database at the end")
    p.add_argument("--show-sql", action="store_true", help="print the queries of the list page and API first pages")
    p.add_argument("--no-explain", action="store_true", help="skip the EXPLAIN ANALYZE section (PostgreSQL)")
    return p.parse_args()


# --- Data generation -------------------------------------------------------------------------------


class Dialect:
    """The few SQL pieces that differ between PostgreSQL and SQLite."""

    def __init__(self, vendor: str):
        self.pg = vendor == "postgresql"

    def series(self, name: str, lo: int, hi: int) -> tuple[str, str]:
        """(statement prefix, FROM item) of integers lo..hi in column `name`.x."""
        if self.pg:
            return "", f"generate_series({lo}, {hi}) AS {name}(x)"
        return f"WITH RECURSIVE {name}(x) AS (SELECT {lo} UNION ALL SELECT x + 1 FROM {name} WHERE x < {hi}) ", name

    def ts(self, epoch_expr: str) -> str:
        if self.pg:
            return f"to_timestamp({epoch_expr})"
        return f"strftime('%Y-%m-%d %H:%M:%S', {epoch_expr}, 'unixepoch')"

    def ts_add(self, column: str, seconds_expr: str) -> str:
        if self.pg:
            return f"{column} + ({seconds_expr}) * interval '1 second'"
        return f"strftime('%Y-%m-%d %H:%M:%S', {column}, '+' || ({seconds_expr}) || ' seconds')"

    def boolean(self, condition: str) -> str:
        return f"({condition})" if self.pg else f"(CASE WHEN {condition} THEN 1 ELSE 0 END)"

    @property
    def empty_json(self) -> str:
        return "'{}'::jsonb" if self.pg else "'{}'"


def _case_ids(expr: str, ids: list[int], null_first: bool) -> str:
    """CASE expr % len WHEN 0 THEN NULL|id0 WHEN 1 THEN … END: spreads rows over a list of ids."""
    values = (["NULL"] if null_first else []) + [str(i) for i in ids]
    whens = " ".join(f"WHEN {n} THEN {v}" for n, v in enumerate(values))
    return f"(CASE ({expr}) % {len(values)} {whens} END)"


def _insert(table: str, columns: dict[str, str], prefix: str, from_sql: str) -> str:
    cols = ", ".join(f'"{c}"' for c in columns)
    return f'{prefix}INSERT INTO "{table}" ({cols}) SELECT {", ".join(columns.values())} FROM {from_sql}'


def _check_columns(model, columns: dict[str, str]) -> None:
    """Every NOT NULL column of the model must be given: a field added later fails loudly here."""
    missing = [
        f.column for f in model._meta.concrete_fields if not f.primary_key and not f.null and f.column not in columns
    ]
    if missing:
        sys.exit(f"bench/incident_list.py: give a value for the new column(s) {missing} of {model._meta.db_table}")


def ensure_people_and_services():
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from erpcontinuity.roles import IT_OPERATIONS
    from plans.models import ERPService
    from plans.services import service_create

    User = get_user_model()
    ops_group = Group.objects.get(name=IT_OPERATIONS)
    viewer, _ = User.objects.get_or_create(username="bench-ops", defaults={"first_name": "Bench", "last_name": "Ops"})
    viewer.groups.add(ops_group)
    commanders = []
    for i in range(1, COMMANDERS + 1):
        user, _ = User.objects.get_or_create(
            username=f"bench-cmd-{i}", defaults={"first_name": f"Commander{i}", "last_name": "Bench"}
        )
        user.groups.add(ops_group)
        commanders.append(user.pk)
    services = []
    for i in range(1, SERVICES + 1):
        service = ERPService.objects.filter(code=f"list-svc-{i}").first() or service_create(
            name=f"Bench service {i:02d}",
            code=f"list-svc-{i}",
            kind="business",
            criticality=1 + i % 4,
            rto_minutes=60,
            rpo_minutes=15,
            mtpd_minutes=240,
        )
        services.append(service.pk)
    return viewer, commanders, services


def wipe_incidents(vendor: str) -> None:
    from django.db import connection, transaction

    from incidents.models import Incident

    if vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f'TRUNCATE "{Incident._meta.db_table}" RESTART IDENTITY CASCADE')
        return
    tables = [Incident.services.through._meta.db_table]
    tables += [rel.related_model._meta.db_table for rel in Incident._meta.related_objects if not rel.many_to_many]
    with transaction.atomic(), connection.cursor() as cursor:
        for table in dict.fromkeys(tables):
            cursor.execute(f'DELETE FROM "{table}"')
        cursor.execute(f'DELETE FROM "{Incident._meta.db_table}"')


def generate(vendor: str, n: int, timeline_total: int, commanders: list[int], services: list[int]) -> dict:
    from django.db import connection, transaction

    from incidents.models import Incident, TimelineEntry

    d = Dialect(vendor)
    per = max(1, timeline_total // n)
    base = int(time.time()) - 3600  # the newest incident opened an hour ago
    e = f"({base} - ({n} - g.x) * {SPACING_S})"  # opened_at as a Unix time; g.x = 1 is the oldest
    is_open = f"g.x > {n - OPEN_INCIDENTS}"
    status = (
        f"(CASE WHEN {is_open} THEN (CASE g.x % 4 WHEN 0 THEN 'open' WHEN 1 THEN 'acknowledged' "
        f"WHEN 2 THEN 'investigating' ELSE 'mitigated' END) WHEN g.x % 10 = 0 THEN 'resolved' ELSE 'closed' END)"
    )
    after_ack = f"(CASE WHEN {is_open} AND g.x % 4 = 0 THEN NULL ELSE {d.ts(e + ' + 300')} END)"
    done = f"(CASE WHEN {is_open} THEN NULL ELSE {d.ts(e + ' + 5400')} END)"
    closed = f"(CASE WHEN {is_open} OR g.x % 10 = 0 THEN NULL ELSE {d.ts(e + ' + 86400')} END)"
    phrase = (
        "(CASE g.x % 6 WHEN 0 THEN 'Orders cannot be saved' WHEN 1 THEN 'Invoice run is slow' "
        "WHEN 2 THEN 'Warehouse scanners time out' WHEN 3 THEN 'Payroll export failed' "
        "WHEN 4 THEN 'ERP database replication lag' ELSE 'Login page returns errors' END)"
    )
    incident_cols = {
        "title": f"'Bench incident ' || g.x || ': ' || {phrase}",
        "description": f"{phrase} || '. Generated by bench/incident_list.py for the list benchmark; "
        "the text has the length of a short real description, written by the person who opened it.'",
        "severity": "(CASE WHEN g.x % 50 = 0 THEN 'sev1' WHEN g.x % 7 = 0 THEN 'sev2' "
        "WHEN g.x % 3 = 0 THEN 'sev3' ELSE 'sev4' END)",
        "status": status,
        "business_impact": "'Some users wait; orders are taken on paper meanwhile.'",
        "commander_id": _case_ids("g.x", commanders, null_first=True),
        "is_drill": d.boolean("g.x % 40 = 0"),
        "detected_at": d.ts(e + " - 120"),
        "opened_at": d.ts(e),
        "acknowledged_at": after_ack,
        "investigating_at": after_ack,
        "mitigated_at": done,
        "resolved_at": done,
        "closed_at": closed,
        "reopen_count": "0",
        "escalation_level": "0",
        "public_update": "''",
        "version": "1 + g.x % 5",
        "updated_at": d.ts(e + " + 86400"),
    }
    _check_columns(Incident, incident_cols)
    prefix, series = d.series("g", 1, n)
    timings = {}
    table = Incident._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        started = time.perf_counter()
        cursor.execute(_insert(table, incident_cols, prefix, series))
        timings["incidents"] = time.perf_counter() - started

        started = time.perf_counter()
        through = Incident.services.through
        inc_col = through._meta.get_field("incident").column
        svc_col = through._meta.get_field("erpservice").column
        for j, condition in ((0, "1 = 1"), (7, "i.id % 3 = 0")):  # every incident 1 service, a third 2
            cols = {inc_col: "i.id", svc_col: _case_ids(f"i.id + {j}", services, null_first=False)}
            cursor.execute(_insert(through._meta.db_table, cols, "", f'"{table}" i WHERE {condition}'))
        timings["incident services"] = time.perf_counter() - started

        started = time.perf_counter()
        kinds = ["opened", "status", "note", "alert_attached", "status", "note", "assignment", "status", "note"]
        kind = "(CASE k.x " + " ".join(f"WHEN {i} THEN '{v}'" for i, v in enumerate(kinds)) + " ELSE 'status' END)"
        timeline_cols = {
            "incident_id": "i.id",
            "at": d.ts_add("i.opened_at", "k.x * 420"),
            "kind": kind,
            "message": "'Bench timeline entry ' || k.x || ' of incident ' || i.id",
            "data": d.empty_json,
        }
        _check_columns(TimelineEntry, timeline_cols)
        prefix, series = d.series("k", 0, per - 1)
        cursor.execute(
            _insert(TimelineEntry._meta.db_table, timeline_cols, prefix, f'"{table}" i CROSS JOIN {series}')
            + " ORDER BY i.id, k.x"
        )
        timings["timeline entries"] = time.perf_counter() - started
        started = time.perf_counter()  # the commit runs PostgreSQL's deferred foreign key checks
    timings["commit"] = time.perf_counter() - started

    started = time.perf_counter()
    with connection.cursor() as cursor:
        if vendor == "postgresql":
            for model_table in (table, through._meta.db_table, TimelineEntry._meta.db_table):
                cursor.execute(f'VACUUM ANALYZE "{model_table}"')
        else:
            cursor.execute("ANALYZE")
    timings["vacuum/analyze"] = time.perf_counter() - started
    return timings


def ensure_data(args, db) -> tuple[dict, float, bool]:
    from incidents.models import Incident, TimelineEntry

    started = time.perf_counter()
    viewer, commanders, services = ensure_people_and_services()
    per = max(1, args.timeline // args.incidents)
    want = (args.incidents, per * args.incidents)
    have = (Incident.objects.count(), TimelineEntry.objects.count())
    reused = have == want and not args.rebuild
    timings = {}
    if not reused:
        if have != (0, 0):
            print(f"  bench data has {have[0]:,} incidents / {have[1]:,} timeline entries; regenerating …", flush=True)
            wipe_incidents(db.vendor)
        print(f"  generating {want[0]:,} incidents and {want[1]:,} timeline entries …", flush=True)
        timings = generate(db.vendor, args.incidents, args.timeline, commanders, services)
    return {"viewer": viewer, "services": services, "timings": timings}, time.perf_counter() - started, reused


# --- Measuring --------------------------------------------------------------------------------------


class Case:
    def __init__(self, label: str, client, url: str, baseline: str | None = None):
        self.label, self.client, self.url, self.baseline = label, client, url, baseline
        self.samples: list[float] = []
        self.sql_samples: list[float] = []
        self.queries = 0
        self.sql: list[str] = []
        self.status = 0
        self.body = b""

    def hit(self) -> float:
        with benchlib.SQLTimer() as timer:
            started = time.perf_counter()
            response = self.client.get(self.url)
            elapsed = time.perf_counter() - started
        self.sql_samples.append(timer.seconds)
        self.status = response.status_code
        self.body = response.content
        return elapsed


def measure(cases: list[Case], runs: int) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for case in cases:  # warm-up
        case.hit()
        case.sql_samples.clear()
    for _ in range(runs):
        for case in cases:
            case.samples.append(case.hit())
    for case in cases:
        with CaptureQueriesContext(connection) as ctx:
            case.hit()
        case.sql_samples.pop()
        case.queries = len(ctx.captured_queries)
        case.sql = [q["sql"] for q in ctx.captured_queries]


def drf_cursor(position: str) -> str:
    """The cursor token rest_framework.pagination.CursorPagination.encode_cursor builds for
    (offset 0, forward, position): base64 of the query string "p=<position>"."""
    return base64.b64encode(urlencode({"p": position}).encode("ascii")).decode("ascii")


def html_ids(body: bytes) -> list[int]:
    return [int(m) for m in re.findall(rb'href="/incidents/(\d+)/"', body)]


def explain(label: str, qs) -> list[str]:
    plan = qs.explain(analyze=True)
    lines = plan.splitlines()
    pattern = r"Scan|Sort Key|Filter|Index Cond|Execution Time|Rows Removed"
    keep = [lines[0]] + [ln for ln in lines[1:] if re.search(pattern, ln)][:7]
    return [f"  {label}:"] + [f"    {_short(ln.strip())}" for ln in keep]


def _short(line: str, width: int = 160) -> str:
    return line if len(line) <= width else line[: width - 1] + "…"


def main() -> None:
    args = parse_args()
    if args.incidents <= PAGE_SIZE:
        sys.exit(f"--incidents must be more than one page ({PAGE_SIZE})")
    wall = time.perf_counter()
    db = benchlib.configure(sqlite_path="/tmp/erpc-bench.sqlite3", fresh=False)
    if args.rebuild and db.vendor == "sqlite":
        benchlib.remove_sqlite(db.name)
    benchlib.setup_django()
    try:
        _bench(args, db, wall)
    finally:
        if args.drop:
            benchlib.drop_database(db)
            print(f"\nDropped the bench database: {db.label()}")
        else:
            print(f"\nKept the bench database for the next run: {db.label()} (--drop to remove it)")


def _bench(args, db, wall: float) -> None:
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    from incidents import selectors
    from incidents.models import Incident, TimelineEntry
    from incidents.views._common import _after
    from incidents.views.incidents import SORT_KEYS

    version = benchlib.server_version()
    benchlib.banner(f"Incident list — {version}, database {db.label()}")
    print(f"machine: {benchlib.machine()} (shared with other jobs: expect noise)")
    migrate_s = benchlib.migrate()
    data, setup_s, reused = ensure_data(args, db)
    n = Incident.objects.count()
    m = TimelineEntry.objects.count()
    if reused:
        print(
            f"setup: migrate {migrate_s:.1f} s; reused the existing {n:,} incidents / {m:,} timeline entries "
            f"({setup_s:.1f} s)"
        )
    else:
        parts = ", ".join(f"{k} {v:.1f} s" for k, v in data["timings"].items())
        print(
            f"setup: migrate {migrate_s:.1f} s; generated {n:,} incidents / {m:,} timeline entries "
            f"in {setup_s:.1f} s ({parts})"
        )

    # The keyset position of the last page: the row just before it in (-opened_at, -id) order.
    ordered = Incident.objects.order_by("-opened_at", "-id")
    newest_id = ordered.values_list("id", flat=True).first()
    oldest_id = ordered.reverse().values_list("id", flat=True).first()
    last_start = ((n - 1) // PAGE_SIZE) * PAGE_SIZE  # index of the first row of the last page
    before_last = ordered.values_list("opened_at", "id")[last_start - 1]
    html_after = ",".join(f.encode(v) for f, v in zip(SORT_KEYS["newest"], before_last, strict=True))
    api_cursor = drf_cursor(str(before_last[0]))
    sev_keys = SORT_KEYS["severity"]
    sev_before_last = (
        selectors.incident_list()
        .order_by("severity", "-opened_at", "-id")
        .values_list("severity", "opened_at", "id")[last_start - 1]
    )
    sev_after = ",".join(f.encode(v) for f, v in zip(sev_keys, sev_before_last, strict=True))
    busiest_service = data["services"][0]

    ops = Client()
    ops.force_login(data["viewer"])
    bare = Client()
    page = reverse("incidents:incident-list")
    api = reverse("api-incident-list")
    bare_url = reverse("bare-incidents")
    cases = [
        Case("bare .values() JSON, first page", bare, bare_url),
        Case("bare .values() JSON, last page", bare, f"{bare_url}?{urlencode({'after': html_after})}"),
        Case("list page HTML, first page", ops, page, baseline="bare .values() JSON, first page"),
        Case(
            "list page HTML, last page",
            ops,
            f"{page}?{urlencode({'after': html_after})}",
            baseline="bare .values() JSON, last page",
        ),
        Case("API list, first page", ops, api, baseline="bare .values() JSON, first page"),
        Case(
            "API list, last page (cursor)",
            ops,
            f"{api}?{urlencode({'cursor': api_cursor})}",
            baseline="bare .values() JSON, last page",
        ),
        Case("HTML ?status=active (open ones)", ops, f"{page}?status=active"),
        Case("HTML ?service=<one of 12>", ops, f"{page}?service={busiest_service}"),
        Case("HTML ?severity=sev1 (2% of rows)", ops, f"{page}?severity=sev1"),
        Case("HTML ?q=<no match> (search)", ops, f"{page}?q=nothing-matches-this"),
        Case("HTML ?sort=oldest, first page", ops, f"{page}?sort=oldest"),
        Case("HTML ?sort=severity, first page", ops, f"{page}?sort=severity"),
        Case("HTML ?sort=severity, last page", ops, f"{page}?{urlencode({'sort': 'severity', 'after': sev_after})}"),
        Case("API ?service=<one of 12>", ops, f"{api}?service={busiest_service}"),
    ]
    print(f"measuring {len(cases)} cases × {args.runs} runs (+1 warm-up, +1 counting queries) …", flush=True)
    started = time.perf_counter()
    measure(cases, args.runs)
    measure_s = time.perf_counter() - started

    # Checks: every case answered 200, and each pair shows the same page.
    by_label = {c.label: c for c in cases}
    problems = [f"{c.label}: HTTP {c.status}" for c in cases if c.status != 200]
    import json

    bare_first = [r["id"] for r in json.loads(by_label["bare .values() JSON, first page"].body)["results"]]
    bare_last = [r["id"] for r in json.loads(by_label["bare .values() JSON, last page"].body)["results"]]
    api_first = json.loads(by_label["API list, first page"].body)
    api_last = json.loads(by_label["API list, last page (cursor)"].body)
    checks = {
        "bare first page starts at the newest incident": bare_first[:1] == [newest_id],
        "bare last page ends at the oldest incident": bare_last[-1:] == [oldest_id],
        "HTML first page = bare first page": html_ids(by_label["list page HTML, first page"].body) == bare_first,
        "HTML last page = bare last page": html_ids(by_label["list page HTML, last page"].body) == bare_last,
        "HTML last page has no next link": b'rel="next"' not in by_label["list page HTML, last page"].body,
        "API first page = bare first page": [r["id"] for r in api_first.get("results", [])] == bare_first,
        "API last page = bare last page": [r["id"] for r in api_last.get("results", [])] == bare_last,
        "API last page has no next": api_last.get("next") is None,
    }
    problems += [name for name, ok in checks.items() if not ok]

    explain_lines = []
    if db.vendor == "postgresql" and not args.no_explain:
        base_qs = selectors.incident_list()
        explain_lines += explain(
            "list, last page (keyset)",
            base_qs.filter(_after(SORT_KEYS["newest"], before_last)).order_by("-opened_at", "-id")[: PAGE_SIZE + 1],
        )
        explain_lines += explain(
            "list ?sort=severity, first page", base_qs.order_by("severity", "-opened_at", "-id")[: PAGE_SIZE + 1]
        )
        explain_lines += explain(
            "list ?q=<no match>", selectors.incident_list(filters={"q": "nothing-matches-this"})[: PAGE_SIZE + 1]
        )
        explain_lines += explain(
            "list ?severity=sev1", selectors.incident_list(filters={"severity": "sev1"})[: PAGE_SIZE + 1]
        )
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT relname, pg_size_pretty(pg_total_relation_size(c.oid)) FROM pg_class c "
                "WHERE relname IN (%s, %s) ORDER BY relname",
                [Incident._meta.db_table, TimelineEntry._meta.db_table],
            )
            sizes = ", ".join(f"{name} {size}" for name, size in cursor.fetchall())
        explain_lines.insert(0, f"  table sizes (with indexes): {sizes}")

    # --- Summary -----------------------------------------------------------------------------
    benchlib.banner(f"SUMMARY — incident list — {version}, database {db.label()}")
    print(
        f"data: {n:,} incidents, {m:,} timeline entries; page size {PAGE_SIZE}; "
        f"median of {args.runs} in-process requests (django.test.Client, no network), warm caches"
    )
    rows = []
    for case in cases:
        med = benchlib.median_ms(case.samples)
        base = by_label[case.baseline] if case.baseline else None
        if base is None and not case.label.startswith("bare"):
            base = by_label["bare .values() JSON, first page"]
        ratio = f"{med / benchlib.median_ms(base.samples):.1f}x" if base else "1.0x (baseline)"
        rows.append(
            [
                case.label,
                med,
                min(case.samples) * 1000,
                max(case.samples) * 1000,
                benchlib.median_ms(case.sql_samples),
                case.queries,
                ratio,
                f"{len(case.body) / 1024:.0f} KiB",
            ]
        )
    print(
        benchlib.table(["case", "median ms", "min ms", "max ms", "of which SQL ms", "queries", "vs bare", "size"], rows)
    )
    print(
        "\nof which SQL: median time inside the database driver (execute and fetch calls); the rest is Python:"
        " middleware, view, template or serializer."
    )
    print(
        "vs bare: the list page and API rows against the bare page of the same depth; extras (below the "
        "first six rows) against the bare first page."
    )
    first, last = by_label["list page HTML, first page"], by_label["list page HTML, last page"]
    afirst, alast = by_label["API list, first page"], by_label["API list, last page (cursor)"]
    print(
        f"first vs last page: HTML {benchlib.median_ms(first.samples):.1f} / {benchlib.median_ms(last.samples):.1f} ms "
        f"({first.queries} / {last.queries} queries); API {benchlib.median_ms(afirst.samples):.1f} / "
        f"{benchlib.median_ms(alast.samples):.1f} ms ({afirst.queries} / {alast.queries} queries)"
    )
    if args.show_sql:
        for label in ("list page HTML, first page", "API list, first page"):
            print(f"\nqueries of {label}:")
            for sql in by_label[label].sql:
                print(f"  {sql[:200]}")
    if explain_lines:
        print("\nPostgreSQL plans (EXPLAIN ANALYZE of the selector's page query):")
        print("\n".join(explain_lines))
    print(f"\nchecks: {'all passed' if not problems else 'FAILED: ' + '; '.join(problems)} ({len(checks)} page checks)")
    print(
        f"timings: setup {setup_s:.1f} s ({'reused data' if reused else 'generated data'}), "
        f"measuring {measure_s:.1f} s, total wall time {time.perf_counter() - wall:.0f} s"
    )


if __name__ == "__main__":
    main()
