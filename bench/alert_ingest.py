"""Alert ingest: alerts per second through the real raise API, against a bare view, in one run.

    .venv/bin/python bench/alert_ingest.py [--n 2000] [--http]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/erpc_bench .venv/bin/python bench/alert_ingest.py

Workload (seeded, the same for every variant): N alert events from one monitoring source, about
90% repeats (a (source, fingerprint) raised before, re-raised with the same severity) and 10% new
fingerprints spread round-robin over a few ERP services. The first new alert of a service opens an
incident; the next ones join it (timeline entry each); repeats bump count/last_seen.

Variants, each timed over the same N events:
1. raise API     POST /api/alerts/raise/ — DRF view, token auth, raise_alert service — one request per event.
2. raise_alert() incidents.services.raise_alert called directly (fresh copy of the workload on other
                 services): the service's own cost, to split the API's time between service and request layer.
3. bare view     POST /bench/bare/alert/ — plain Django view, no auth, one INSERT per event (bench_urls.py).
4. bare bulk     POST /bench/bare/alert-bulk/ — one request carrying all N rows, bulk_create.
The bare rows get a unique fingerprint each (source "bench-bare"/"bench-bulk"), so they never
collide with the API's alerts on the one-active-alert-per-fingerprint index.

In-process by default: django.test.Client calls the WSGI handler directly (full middleware stack,
no network, no second process), so the time is the server's work plus a small client overhead.
--http also runs variants 1 and 3 against a live gunicorn on 127.0.0.1 with a few client threads.

Database: SQLite at /tmp/erpc-bench-ingest.sqlite3, or, with DATABASE_URL set to PostgreSQL, a
throwaway database named after it with "_ingest" appended (created fresh, dropped at the end
unless --keep)."""

from __future__ import annotations

import argparse
import collections
import http.client
import io
import json
import os
import random
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib  # noqa: E402

SOURCE = "bench-monitoring"
SEVERITIES = ["sev3"] * 7 + ["sev2"] * 2 + ["sev4"]


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=2000, help="alert events (requests) per variant (default 2000)")
    p.add_argument("--new-ratio", type=float, default=0.10, help="share of new fingerprints (default 0.10)")
    p.add_argument("--services", type=int, default=5, help="ERP services the new alerts spread over (default 5)")
    p.add_argument("--warmup", type=int, default=30, help="untimed requests per variant first (default 30)")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--http", action="store_true", help="also measure over HTTP against a live gunicorn")
    p.add_argument("--http-workers", type=int, default=2, help="gunicorn sync workers (default 2)")
    p.add_argument("--concurrency", type=int, default=4, help="client threads in --http mode (default 4)")
    p.add_argument("--port", type=int, default=8177, help="gunicorn port on 127.0.0.1 (default 8177)")
    p.add_argument("--keep", action="store_true", help="keep the bench database at the end")
    p.add_argument("--show-sql", action="store_true", help="print the SQL of one repeat and one new raise")
    return p.parse_args()


def workload(n: int, new_ratio: float, services: list[str], seed: int, source: str) -> list[tuple[str, dict]]:
    """(kind, payload) per event; kind is "new" or "repeat". Deterministic for a seed."""
    rng = random.Random(seed)
    known: list[tuple[str, str, str]] = []  # fingerprint, service, severity
    events = []
    for i in range(n):
        if not known or rng.random() < new_ratio:
            service = services[len(known) % len(services)]
            fingerprint, severity = f"check:{service}:{len(known)}", rng.choice(SEVERITIES)
            known.append((fingerprint, service, severity))
            kind = "new"
        else:
            fingerprint, service, severity = rng.choice(known)
            kind = "repeat"
        payload = {
            "source": source,
            "fingerprint": fingerprint,
            "severity": severity,
            "summary": f"{service}: check {fingerprint} failing (response time above threshold)",
            "service": service,
            "details": {"value": round(rng.uniform(1.5, 9.9), 2), "threshold": 1.0, "event": i},
        }
        events.append((kind, payload))
    return events


def bare_payloads(events: list[tuple[str, dict]], source: str) -> list[dict]:
    """The same events with a unique fingerprint each: the bare views only insert."""
    return [{**p, "source": source, "fingerprint": f"{p['fingerprint']}#{i}"} for i, (_, p) in enumerate(events)]


def setup_data(args) -> tuple[str, dict[str, list[str]]]:
    from django.core.management import call_command

    from plans.models import ERPService
    from plans.services import service_create

    sets = {
        "inproc": [f"svc-{i + 1}" for i in range(args.services)],
        "direct": [f"direct-svc-{i + 1}" for i in range(args.services)],
        "http": [f"http-svc-{i + 1}" for i in range(args.services)],
        "warmup": ["warmup-svc"],
    }
    for codes in sets.values():
        for code in codes:
            if not ERPService.objects.filter(code=code).exists():
                service_create(
                    name=f"Bench {code}",
                    code=code,
                    kind="business",
                    criticality=2,
                    rto_minutes=60,
                    rpo_minutes=15,
                    mtpd_minutes=240,
                )
    out = io.StringIO()
    call_command("alert_token", "bench-alert-bot", stdout=out)
    return out.getvalue().strip(), sets


# --- In-process ----------------------------------------------------------------------------------------


def run_inprocess(bodies: list[tuple[str, bytes]], url: str, headers: dict, expect: dict[str, int]) -> dict:
    """POST each body in turn; returns seconds, statuses, queries per request by kind."""
    from django.db import connection
    from django.test import Client

    client = Client()
    counter = benchlib.QueryCounter()
    queries: dict[str, list[int]] = collections.defaultdict(list)
    statuses: collections.Counter = collections.Counter()
    unexpected = 0
    with connection.execute_wrapper(counter):
        started = time.perf_counter()
        for kind, body in bodies:
            before = counter.count
            response = client.post(url, data=body, content_type="application/json", **headers)
            queries[kind].append(counter.count - before)
            statuses[response.status_code] += 1
            if response.status_code != expect[kind]:
                unexpected += 1
        seconds = time.perf_counter() - started
    return {"seconds": seconds, "statuses": dict(statuses), "queries": dict(queries), "unexpected": unexpected}


def run_direct(events: list[tuple[str, dict]]) -> dict:
    """Call incidents.services.raise_alert directly: the service's own cost, without HTTP or DRF."""
    from django.db import connection

    from incidents.services import raise_alert
    from plans.models import ERPService

    services = {s.code: s for s in ERPService.objects.all()}
    calls = [(kind, {**payload, "service": services[payload["service"]]}) for kind, payload in events]
    counter = benchlib.QueryCounter()
    queries: dict[str, list[int]] = collections.defaultdict(list)
    with connection.execute_wrapper(counter):
        started = time.perf_counter()
        for kind, payload in calls:
            before = counter.count
            raise_alert(**payload)
            queries[kind].append(counter.count - before)
        seconds = time.perf_counter() - started
    return {"seconds": seconds, "queries": dict(queries)}


def capture_samples(url: str, headers: dict, sets: dict, show_sql: bool) -> dict[str, int]:
    """Queries of single raises, captured with CaptureQueriesContext (untimed)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from plans.services import service_create

    client = Client()
    service_create(
        name="Bench sample",
        code="sample-svc",
        kind="business",
        criticality=2,
        rto_minutes=60,
        rpo_minutes=15,
        mtpd_minutes=240,
    )
    base = {"source": "bench-sample", "severity": "sev3", "summary": "sample check failing", "details": {"v": 1}}
    cases = [
        ("new alert, opens an incident", {**base, "fingerprint": "s:1", "service": "sample-svc"}),
        ("new alert, joins the open incident", {**base, "fingerprint": "s:2", "service": "sample-svc"}),
        ("repeat of an active alert", {**base, "fingerprint": "s:2", "service": "sample-svc"}),
    ]
    counts = {}
    for label, payload in cases:
        with CaptureQueriesContext(connection) as ctx:
            response = client.post(url, data=json.dumps(payload), content_type="application/json", **headers)
        assert response.status_code in (200, 201), response.content
        counts[label] = len(ctx.captured_queries)
        if show_sql:
            print(f"\n-- {label}: {len(ctx.captured_queries)} queries")
            for q in ctx.captured_queries:
                print("   ", q["sql"][:220])
    return counts


# --- Live HTTP (gunicorn) ----------------------------------------------------------------------------


def start_gunicorn(args) -> subprocess.Popen:
    env = os.environ.copy()
    env["PYTHONPATH"] = os.pathsep.join([str(benchlib.BENCH_DIR), str(benchlib.ROOT)])
    env["PYTHONWARNINGS"] = "ignore:No directory at"  # no collectstatic for the bench
    log = open(f"/tmp/erpc-bench-gunicorn-{args.port}.log", "w")  # noqa: SIM115 (closed with the process)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "erpcontinuity.wsgi:application",
            "--bind",
            f"127.0.0.1:{args.port}",
            "--workers",
            str(args.http_workers),
            "--chdir",
            str(benchlib.ROOT),
            "--log-level",
            "warning",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return proc
        except OSError:
            time.sleep(0.3)
        if proc.poll() is not None:
            break
    proc.terminate()
    sys.exit(f"gunicorn did not start; see /tmp/erpc-bench-gunicorn-{args.port}.log")


def run_http(args, bodies: list[tuple[str, bytes]], path: str, token: str | None, expect: dict[str, int]) -> dict:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Token {token}"

    def send(item):
        kind, body = item
        started = time.perf_counter()
        conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=60)
        conn.request("POST", path, body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        conn.close()
        return kind, response.status, time.perf_counter() - started

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
        results = list(pool.map(send, bodies))
    seconds = time.perf_counter() - started
    statuses = collections.Counter(status for _, status, _ in results)
    # Concurrent clients may deliver a repeat before the raise that creates its alert, so 201/200
    # can swap between two events; the totals must still match and nothing may fail.
    unexpected = sum(1 for _, status, _ in results if status not in set(expect.values()))
    latencies = sorted(t for _, _, t in results)
    return {
        "seconds": seconds,
        "statuses": dict(statuses),
        "unexpected": unexpected,
        "p50_ms": statistics.median(latencies) * 1000,
        "p95_ms": latencies[int(len(latencies) * 0.95) - 1] * 1000,
    }


# --- Main ----------------------------------------------------------------------------------------------


def encode(events: list[tuple[str, dict]]) -> list[tuple[str, bytes]]:
    return [(kind, json.dumps(payload).encode()) for kind, payload in events]


def main() -> None:
    args = parse_args()
    wall = time.perf_counter()
    db = benchlib.configure(sqlite_path="/tmp/erpc-bench-ingest.sqlite3", pg_suffix="_ingest", fresh=True)
    benchlib.setup_django()
    try:
        _bench(args, db, wall)
    finally:
        if args.keep:
            print(f"\nKept the bench database: {db.label()}")
        else:
            benchlib.drop_database(db)
            print(f"\nDropped the bench database: {db.label()}")


def _bench(args, db: benchlib.Database, wall: float) -> None:
    from incidents.models import Alert, Incident, TimelineEntry

    setup_started = time.perf_counter()
    migrate_s = benchlib.migrate()
    token, sets = setup_data(args)
    setup_s = time.perf_counter() - setup_started
    version = benchlib.server_version()
    benchlib.banner(f"Alert ingest — {version}, database {db.label()}")
    print(f"machine: {benchlib.machine()} (shared with other jobs: expect noise)")
    print(f"setup: migrate {migrate_s:.1f} s, services and token {setup_s - migrate_s:.1f} s")

    api_url = "/api/alerts/raise/"
    headers = {"HTTP_AUTHORIZATION": f"Token {token}"}
    events = workload(args.n, args.new_ratio, sets["inproc"], args.seed, SOURCE)
    n_new = sum(1 for kind, _ in events if kind == "new")
    print(
        f"workload: {args.n} events, {args.n - n_new} repeats ({(args.n - n_new) / args.n:.0%}), "
        f"{n_new} new fingerprints over {args.services} services"
    )
    expect_api = {"new": 201, "repeat": 200}
    expect_bare = {"new": 201, "repeat": 201}

    # Warm-up: import paths, URL resolver, first connections, the bare views' service map.
    warm = workload(args.warmup, 0.3, sets["warmup"], args.seed + 1, "bench-warmup")
    run_inprocess(encode(warm), api_url, headers, expect_api)
    warm_bare = list(zip([k for k, _ in warm], bare_payloads(warm, "bench-warmup-bare"), strict=True))
    run_inprocess(encode(warm_bare), "/bench/bare/alert/", {}, expect_bare)

    incidents_before = Incident.objects.count()
    timeline_before = TimelineEntry.objects.count()

    print("\n[1/4] raise API, in-process …", flush=True)
    api = run_inprocess(encode(events), api_url, headers, expect_api)
    stored = Alert.objects.filter(source=SOURCE)
    alerts_stored, count_sum = stored.count(), sum(stored.values_list("count", flat=True))
    opened = Incident.objects.count() - incidents_before
    timeline = TimelineEntry.objects.count() - timeline_before

    print("[2/4] raise_alert() called directly (the service alone, no HTTP, no DRF) …", flush=True)
    direct = run_direct(workload(args.n, args.new_ratio, sets["direct"], args.seed, "bench-direct"))

    print("[3/4] bare view (one INSERT per request), in-process …", flush=True)
    bare_events = list(zip([k for k, _ in events], bare_payloads(events, "bench-bare"), strict=True))
    bare = run_inprocess(encode(bare_events), "/bench/bare/alert/", {}, expect_bare)

    print("[4/4] bare bulk insert (one request, bulk_create), in-process …", flush=True)
    bulk_body = json.dumps(bare_payloads(events, "bench-bulk")).encode()
    bulk = run_inprocess([("new", bulk_body)], "/bench/bare/alert-bulk/", {}, {"new": 201})
    bulk_rows = Alert.objects.filter(source="bench-bulk").count()
    bare_rows = Alert.objects.filter(source="bench-bare").count()

    samples = capture_samples(api_url, headers, sets, args.show_sql)

    http_results = None
    if args.http:
        print(
            f"\n[http] gunicorn {args.http_workers} sync workers on 127.0.0.1:{args.port}, "
            f"{args.concurrency} client threads …",
            flush=True,
        )
        from django.db import connections

        connections.close_all()
        proc = start_gunicorn(args)
        try:
            http_events = workload(args.n, args.new_ratio, sets["http"], args.seed, "bench-http")
            api_http = run_http(args, encode(http_events), api_url, token, expect_api)
            bare_http_events = list(
                zip([k for k, _ in http_events], bare_payloads(http_events, "bench-http-bare"), strict=True)
            )
            bare_http = run_http(args, encode(bare_http_events), "/bench/bare/alert/", None, expect_bare)
            http_results = (api_http, bare_http)
        finally:
            proc.terminate()
            proc.wait(timeout=30)

    # --- Summary -------------------------------------------------------------------------------
    def rate(result, n=args.n):
        return n / result["seconds"]

    def qstats(result):
        parts = []
        for kind in ("repeat", "new"):
            values = result["queries"].get(kind)
            if values:
                parts.append(f"{kind} {statistics.mean(values):.1f} (min {min(values)}, max {max(values)})")
        return "; ".join(parts)

    all_api_queries = [q for values in api["queries"].values() for q in values]
    benchlib.banner(f"SUMMARY — alert ingest — {version}, database {db.label()}")
    print(
        f"events: {args.n} ({args.n - n_new} repeats, {n_new} new over {args.services} services), "
        f"in-process django.test.Client (no network)"
    )
    rows = [
        [
            "raise API (DRF, token auth, raise_alert)",
            args.n,
            api["seconds"],
            rate(api),
            f"{statistics.mean(all_api_queries):.1f}",
        ],
        [
            "raise_alert() direct (service only)",
            args.n,
            direct["seconds"],
            rate(direct),
            f"{statistics.mean([q for v in direct['queries'].values() for q in v]):.1f}",
        ],
        [
            "bare view, 1 INSERT per request",
            args.n,
            bare["seconds"],
            rate(bare),
            f"{statistics.mean(bare['queries']['new']):.1f}",
        ],
        ["bare bulk_create, 1 request", 1, bulk["seconds"], rate(bulk), f"{bulk['queries']['new'][0]} in total"],
    ]
    print(benchlib.table(["variant", "requests", "seconds", "alerts/s", "SQL statements/request"], rows))
    print(f"\nraise API SQL statements per request: {qstats(api)}; raise_alert() direct: {qstats(direct)}")
    print(
        "raise API queries per single raise (CaptureQueriesContext, which also lists BEGIN/COMMIT/SAVEPOINT): "
        + "; ".join(f"{k}: {v}" for k, v in samples.items())
    )
    print(
        f"ratio: bare view / raise API = {rate(bare) / rate(api):.1f}x; "
        f"bare bulk / raise API = {rate(bulk) / rate(api):.0f}x; "
        f"raise_alert() direct / raise API = {rate(direct) / rate(api):.1f}x"
    )
    print(
        f"per event: raise API {api['seconds'] / args.n * 1000:.2f} ms, raise_alert() direct "
        f"{direct['seconds'] / args.n * 1000:.2f} ms, bare view {bare['seconds'] / args.n * 1000:.2f} ms, "
        f"bulk {bulk['seconds'] / args.n * 1000:.3f} ms"
    )
    print(
        f"checks: API statuses {api['statuses']} (unexpected {api['unexpected']}); alerts stored {alerts_stored} "
        f"(expected {n_new}), sum of counts {count_sum} (expected {args.n}); incidents opened {opened}; "
        f"timeline entries written {timeline}; bare rows {bare_rows}, bulk rows {bulk_rows}"
    )
    if http_results:
        api_http, bare_http = http_results
        print(
            f"\nlive HTTP: gunicorn {args.http_workers} sync workers, {args.concurrency} client threads "
            f"in the bench process, same machine (client and server share the CPUs)"
        )
        rows = [
            [
                "raise API over HTTP",
                args.n,
                api_http["seconds"],
                rate(api_http),
                api_http["p50_ms"],
                api_http["p95_ms"],
            ],
            [
                "bare view over HTTP",
                args.n,
                bare_http["seconds"],
                rate(bare_http),
                bare_http["p50_ms"],
                bare_http["p95_ms"],
            ],
        ]
        print(benchlib.table(["variant", "requests", "seconds", "alerts/s", "p50 ms", "p95 ms"], rows))
        print(
            f"ratio over HTTP: bare view / raise API = {rate(bare_http) / rate(api_http):.1f}x; "
            f"statuses API {api_http['statuses']} (unexpected {api_http['unexpected']}), "
            f"bare {bare_http['statuses']}"
        )
    print(f"\ntotal wall time {time.perf_counter() - wall:.0f} s")


if __name__ == "__main__":
    main()
