"""Breach → incident latency vs the check interval, with a real Celery worker and beat, in one run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/erpc_bench_latency .venv/bin/python bench/monitoring_latency.py
    ... bench/monitoring_latency.py --trials 3 --configs 5x1,5x2,15x1,15x2

A local HTTP server (threads, in this process) answers 200 "ERP ready" on one path per check, and
503 once the bench flips that path to failing. One HTTP check per configuration (interval ×
breaches_to_fire, recoveries_to_clear 1) polls it. A real worker with beat runs as a separate
process, as in production: `celery -A erpcontinuity worker --beat --pool=solo` on Redis (database
11 by default, flushed first; 12 and 13 belong to the integration tests and are refused) and the
bench's PostgreSQL database. The beat's monitoring-tick claims the due checks, the worker's batch
probe records the results, evaluates them and raises / resolves the alert.

Each configuration runs in its own thread, all at once (so the whole run stays around 2 minutes;
the checks share the worker and one batch per tick, as real checks do). A trial:
1. wait until the check is OK, then a random delay in [0, interval) so the failure starts at a
   random phase of the check's schedule;
2. flip the endpoint to 503 → time until the alert is firing with an incident (polled every 0.1 s);
3. wait a random delay in [0, interval) again, flip it back to 200 → time until that alert is
   resolved.

Printed per configuration: median, min and max of both latencies, the ratio of the median to the
interval, the expected bound and whether every trial was within it. The bound:
  down → incident:  interval × breaches_to_fire + tick period (monitoring-tick in erpcontinuity/celery.py)
  up → resolved:    interval × recoveries_to_clear + tick period
"within" allows SLACK seconds over the bound for the probe itself and the evaluation. The checks'
effective poll period (median gap between their samples) is printed too: a check is claimed by
the first tick at or after its next_run_at (less services.CLAIM_AHEAD, 1 s, for the ticks' jitter),
and its next run is due one interval after that due time, so the period is the interval rounded up
to the tick. (When the next run was counted from the claiming tick instead, a tick a few ms early
skipped it and the period was interval + tick: 9.9 s for a 5 s interval, 20.0 s for 15 s.)
The worker's log is kept in /tmp/erpc-bench-latency-worker-<redis database>.log.

PostgreSQL only (the worker and the bench share the database): the database named in DATABASE_URL,
whose name must contain "bench", created fresh and dropped at the end (--keep keeps it)."""

from __future__ import annotations

import argparse
import http.server
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib  # noqa: E402

REFUSED_REDIS_DBS = {"12", "13"}  # the integration tests' worker databases
SLACK = 0.5  # seconds over the bound still "within": the probe and the evaluation take some time


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument(
        "--configs",
        default="5x1,5x2,15x1,15x2",
        help="interval seconds × breaches_to_fire, comma-separated (default 5x1,5x2,15x1,15x2)",
    )
    p.add_argument("--trials", type=int, default=3, help="down/up trials per configuration (default 3)")
    p.add_argument("--redis", default="redis://127.0.0.1:6379/11", help="broker (flushed first; default database 11)")
    p.add_argument("--seed", type=int, default=4, help="seed of the random phase delays")
    p.add_argument("--keep", action="store_true", help="keep the bench database at the end")
    return p.parse_args()


# --- The endpoint -------------------------------------------------------------------------------


class Endpoint(http.server.BaseHTTPRequestHandler):
    failing: set[str] = set()  # paths that answer 503

    def do_GET(self):  # noqa: N802
        down = self.path in Endpoint.failing
        self.send_response(503 if down else 200)
        self.end_headers()
        self.wfile.write(b"down" if down else b"ERP ready")

    def log_message(self, *args):
        pass


def start_endpoint() -> tuple[http.server.ThreadingHTTPServer, str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Endpoint)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


# --- The worker ---------------------------------------------------------------------------------


def start_worker(redis_url: str, db: benchlib.Database, workdir: Path) -> tuple[subprocess.Popen, Path]:
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    log = Path(f"/tmp/erpc-bench-latency-worker-{Path(redis_url).name}.log")  # kept for a look afterwards
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "erpcontinuity.settings",
        "DATABASE_URL": db.url,
        "CELERY_BROKER_URL": redis_url,
        "DEBUG": "0",
    }
    celery = str(Path(sys.executable).parent / "celery")
    args = [celery, "-A", "erpcontinuity", "worker", "--beat", f"--schedule={workdir / 'beat-schedule'}"]
    args += ["--pool=solo", "-l", "info"]
    with log.open("wb") as out:
        process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, cwd=benchlib.ROOT, env=env)  # noqa: S603
    return process, log


def stop_worker(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


# --- Trials -------------------------------------------------------------------------------------


def wait_for(condition, timeout: float) -> float | None:
    """Seconds until condition() held, polled every 0.1 s; None after `timeout`."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if condition():
            return time.monotonic() - started
        time.sleep(0.1)
    return None


def run_config(config: dict, trials: int, seed: int, results: dict) -> None:
    """The trials of one check, in a thread (its own database connection, closed at the end)."""
    from django.db import connection

    from incidents.models import Alert
    from monitoring.models import Check

    check, path, interval = config["check"], config["path"], config["interval"]
    rng = random.Random(seed)
    fingerprint = f"check-{check.pk}"
    timeout = 4 * (interval * max(config["breaches"], 1) + 15)
    out = results[config["label"]] = {"down": [], "up": [], "misses": 0}
    try:
        for _ in range(trials):
            if wait_for(lambda: Check.objects.filter(pk=check.pk, state="ok").exists(), timeout) is None:
                out["misses"] += 1
                break
            time.sleep(rng.uniform(0, interval))
            Endpoint.failing.add(path)
            down = wait_for(
                lambda: Alert.objects.filter(fingerprint=fingerprint, status="firing", incident__isnull=False).exists(),
                timeout,
            )
            alert = Alert.objects.filter(fingerprint=fingerprint, status="firing").first()
            if down is None or alert is None:
                Endpoint.failing.discard(path)
                out["misses"] += 1
                continue
            out["down"].append(down)
            time.sleep(rng.uniform(0, interval))  # the recovery too at a random phase
            Endpoint.failing.discard(path)
            up = wait_for(lambda pk=alert.pk: Alert.objects.filter(pk=pk, status="resolved").exists(), timeout)
            if up is None:
                out["misses"] += 1
                continue
            out["up"].append(up)
            print(f"  {config['label']}: down → incident {down:.1f} s, up → resolved {up:.1f} s", flush=True)
    finally:
        Endpoint.failing.discard(path)
        connection.close()


def poll_period(check_id: int) -> float | None:
    from monitoring.models import Sample

    times = sorted(Sample.objects.filter(monitor_check_id=check_id).values_list("at", flat=True))
    gaps = [(b - a).total_seconds() for a, b in zip(times, times[1:], strict=False)]
    return statistics.median(gaps) if gaps else None


def parse_configs(text: str) -> list[tuple[int, int]]:
    configs = []
    for part in text.split(","):
        interval, _, breaches = part.strip().partition("x")
        configs.append((int(interval), int(breaches or 1)))
    return configs


# --- Main ---------------------------------------------------------------------------------------


def main() -> None:
    args = parse_args()
    redis_db = args.redis.rstrip("/").rsplit("/", 1)[-1]
    if redis_db in REFUSED_REDIS_DBS:
        sys.exit(f"Refusing Redis database {redis_db}: the integration tests use databases 12 and 13.")
    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        sys.exit("This bench needs PostgreSQL: DATABASE_URL=postgres://…/erpc_bench_latency (the worker shares it).")
    configs = parse_configs(args.configs)
    wall = time.perf_counter()
    db = benchlib.configure(sqlite_path="", fresh=True)
    benchlib.setup_django()
    try:
        _bench(args, db, configs, wall)
    finally:
        if args.keep:
            print(f"\nKept the bench database: {db.label()}")
        else:
            benchlib.drop_database(db)
            print(f"\nDropped the bench database: {db.label()}")


def _bench(args, db: benchlib.Database, configs: list[tuple[int, int]], wall: float) -> None:
    from erpcontinuity.celery import app
    from monitoring import services
    from plans.models import ERPService

    migrate_s = benchlib.migrate()
    version = benchlib.server_version()
    tick = float(app.conf.beat_schedule["monitoring-tick"]["schedule"])
    benchlib.banner(f"Breach → incident latency — {version}, database {db.label()}")
    print(f"machine: {benchlib.machine()} (shared with other jobs: expect noise)")
    print(f"setup: migrate {migrate_s:.1f} s; monitoring-tick every {tick:g} s; broker {args.redis} (flushed)")

    server, base = start_endpoint()
    service = ERPService.objects.create(
        code="bench-latency", name="Bench latency", criticality=2, rto_minutes=60, rpo_minutes=15, mtpd_minutes=240
    )
    runs = []
    for interval, breaches in configs:
        label = f"{interval} s × {breaches}"
        path = f"/health/{interval}x{breaches}"
        check = services.check_create(
            service=service, name=f"Latency {label}", kind="http",
            settings={"url": base + path, "body_contains": "ready"},
            interval_seconds=interval, timeout_seconds=2, breaches_to_fire=breaches, recoveries_to_clear=1,
        )  # fmt: skip
        runs.append({"label": label, "path": path, "interval": interval, "breaches": breaches, "check": check})

    from django.db import connections

    connections.close_all()  # the worker gets its own connections; the threads open theirs
    with tempfile.TemporaryDirectory(prefix="erpc-bench-latency-") as workdir:
        worker, log = start_worker(args.redis, db, Path(workdir))
        try:
            print(f"\nworker pid {worker.pid}; {args.trials} trials per configuration, all configurations at once …")
            results: dict = {}
            threads = [
                threading.Thread(target=run_config, args=(config, args.trials, args.seed + n, results))
                for n, config in enumerate(runs)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        finally:
            stop_worker(worker)
            server.shutdown()
        if any(r["misses"] for r in results.values()):
            print(f"\nsome trials timed out; the worker's log:\n{log.read_text(errors='replace')[-3000:]}")

    # --- Summary -------------------------------------------------------------------------------
    def stats(values: list[float]) -> tuple[str, str]:
        if not values:
            return "—", "—"
        return f"{statistics.median(values):.1f}", f"{min(values):.1f} / {max(values):.1f}"

    benchlib.banner(f"SUMMARY — breach → incident latency — {version}, database {db.label()}")
    print(
        f"real worker + beat (--pool=solo) on Redis, monitoring-tick {tick:g} s, HTTP checks on a local "
        f"endpoint, recoveries_to_clear 1, {args.trials} trials each"
    )
    rows = []
    for config in runs:
        r, interval, breaches = results[config["label"]], config["interval"], config["breaches"]
        down_bound, up_bound = interval * breaches + tick, interval * 1 + tick
        period = poll_period(config["check"].pk)
        for what, values, bound, n in (
            ("down → incident", r["down"], down_bound, breaches),
            ("up → resolved", r["up"], up_bound, 1),
        ):
            median, span = stats(values)
            rows.append(
                [
                    f"{config['label']}: {what}",
                    median,
                    span,
                    f"{statistics.median(values) / interval:.2f}" if values else "—",
                    f"{interval} × {n} + {tick:g} = {bound:g}",
                    f"{sum(v <= bound + SLACK for v in values)}/{len(values)}",
                    f"{period:.1f}" if period else "—",
                ]
            )
        if r["misses"]:
            rows.append([f"{config['label']}: timed out", r["misses"], "", "", "", "", ""])
    print(
        benchlib.table(
            [
                "check interval × breaches",
                "median s",
                "min / max s",
                "median/interval",
                "bound s",
                "within",
                "poll period s",
            ],
            rows,
        )
    )
    print(f"\ntotal wall time {time.perf_counter() - wall:.0f} s")


if __name__ == "__main__":
    main()
