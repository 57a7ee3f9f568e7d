"""HTTP checks per minute on one worker process: the batch path vs its baselines, in one run.

    .venv/bin/python bench/monitoring_http_probes.py [--n 2000] [--concurrency 100]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/erpc_bench .venv/bin/python bench/monitoring_http_probes.py

A local HTTP server (asyncio, keep-alive, its own process so it does not share the GIL with the
probes) answers every request with 200 "ERP ready". N HTTP checks point at it (distinct paths).

Variants, each over the same N checks, in this one process (= one Celery worker process):
1. batch path    what the tick enqueues: tasks.run_batch per chunk of services.BATCH_SIZE checks —
                 load the checks, probe them concurrently (httpx.AsyncClient on one event loop,
                 `--concurrency` connections), then record every result (one lock query, one bulk
                 INSERT of samples, the state update of each check) through the services.
2. bare asyncio  the same N requests on one event loop with the same client, connection limit and
                 semaphore, in one go (no batches), nothing stored: the ceiling of the probing alone.
3. one by one    the previous path: services.run_check per check (synchronous urllib probe, then
                 record() with its own transaction), one after the other.
The server answers after --latency-ms (default 20 ms, a near ERP endpoint): with no latency at all
the one-by-one path wins, as there is nothing to wait for concurrently. The one-by-one path runs
--sync-n checks (default 300) to keep the run short; its rate is per minute all the same.
The figure is checks per minute (N / seconds × 60); the issue asks for at least 1,000 on one worker.

Database: SQLite at /tmp/erpc-bench-monitoring.sqlite3 (fresh each run, deleted at the end), or,
with DATABASE_URL set to PostgreSQL, a throwaway database named after it with "_monitoring"
appended (created fresh, dropped at the end unless --keep)."""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import socket
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib  # noqa: E402

RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 9\r\n\r\nERP ready"


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=2000, help="HTTP checks per variant (default 2000)")
    p.add_argument(
        "--concurrency", type=int, default=None, help="connections at a time (default services.BATCH_CONCURRENCY)"
    )
    p.add_argument(
        "--latency-ms", type=float, default=20, help="the server waits this long before answering (default 20)"
    )
    p.add_argument("--sync-n", type=int, default=300, help="checks for the slow one-by-one path (default 300)")
    p.add_argument("--keep", action="store_true", help="keep the bench database at the end")
    return p.parse_args()


# --- The local HTTP server ----------------------------------------------------------------------


async def _handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, latency: float) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            if not head:
                break
            if latency:
                await asyncio.sleep(latency)
            writer.write(RESPONSE)
            await writer.drain()
            if b"connection: close" in head.lower():
                break
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


def _serve(sock: socket.socket, latency: float) -> None:
    async def main() -> None:
        server = await asyncio.start_server(lambda r, w: _handle(r, w, latency), sock=sock, backlog=1024)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


def start_server(latency: float) -> tuple[multiprocessing.Process, str]:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)
    process = multiprocessing.Process(target=_serve, args=(sock, latency), daemon=True)
    process.start()
    return process, f"http://127.0.0.1:{sock.getsockname()[1]}"


# --- Variants -----------------------------------------------------------------------------------


def make_checks(n: int, base: str, label: str) -> list[int]:
    from monitoring.models import Check
    from plans.models import ERPService

    service, _ = ERPService.objects.get_or_create(
        code=f"bench-{label}",
        defaults={
            "name": f"Bench {label}",
            "criticality": 2,
            "rto_minutes": 60,
            "rpo_minutes": 15,
            "mtpd_minutes": 240,
        },
    )
    rows = [
        Check(
            service=service,
            name=f"{label} {i}",
            kind="http",
            settings={"url": f"{base}/c/{label}/{i}"},
            warning_threshold=500,
            critical_threshold=2000,
            timeout_seconds=10,
        )  # fmt: skip
        for i in range(n)
    ]
    return [c.pk for c in Check.objects.bulk_create(rows, batch_size=1000)]


def run_batch_path(ids: list[int], concurrency: int) -> float:
    from monitoring import services

    start = time.perf_counter()
    for i in range(0, len(ids), services.BATCH_SIZE):
        services.run_batch(check_ids=ids[i : i + services.BATCH_SIZE], concurrency=concurrency)
    return time.perf_counter() - start


def run_bare_asyncio(urls: list[str], concurrency: int) -> tuple[float, int]:
    import httpx

    async def main() -> int:
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        # No pool timeout: requests wait their turn for one of the `concurrency` connections.
        gate = asyncio.Semaphore(concurrency)  # as the batch path: waiting requests stay out of the pool

        async with httpx.AsyncClient(limits=limits, timeout=httpx.Timeout(10, pool=None)) as client:

            async def one(url: str) -> httpx.Response:
                async with gate:
                    return await client.get(url)

            responses = await asyncio.gather(*(one(u) for u in urls))
        return sum(1 for r in responses if r.status_code == 200)

    start = time.perf_counter()
    ok = asyncio.run(main())
    return time.perf_counter() - start, ok


def run_one_by_one(ids: list[int]) -> float:
    from monitoring import services

    start = time.perf_counter()
    for pk in ids:
        services.run_check(check_id=pk)
    return time.perf_counter() - start


def main() -> None:
    args = parse_args()
    db = benchlib.configure(sqlite_path="/tmp/erpc-bench-monitoring.sqlite3", pg_suffix="_monitoring", fresh=True)
    benchlib.setup_django()
    server, base = start_server(args.latency_ms / 1000)
    try:
        _bench(args, db, base)
    finally:
        server.terminate()
        if args.keep:
            print(f"\nKept the bench database: {db.label()}")
        else:
            benchlib.drop_database(db)
            print(f"\nDropped the bench database: {db.label()}")


def _bench(args, db: benchlib.Database, base: str) -> None:
    from monitoring import services
    from monitoring.models import Check, Sample

    args.concurrency = args.concurrency or services.BATCH_CONCURRENCY
    migrate_s = benchlib.migrate()
    version = benchlib.server_version()
    benchlib.banner(f"Monitoring HTTP probes — {version}, database {db.label()}")
    print(f"machine: {benchlib.machine()} (shared with other jobs: expect noise)")
    print(f"setup: migrate {migrate_s:.1f} s; local server {base} (own process)")
    batch_ids = make_checks(args.n, base, "batch")
    sync_ids = make_checks(args.sync_n, base, "sync")
    warm = make_checks(20, base, "warm")
    run_batch_path(warm, args.concurrency)  # imports, first connections

    print(f"\n[1/3] batch path, {args.n} checks …", flush=True)
    batch_s = run_batch_path(batch_ids, args.concurrency)
    batch_ok = Check.objects.filter(pk__in=batch_ids, state="ok").count()
    batch_samples = Sample.objects.filter(monitor_check_id__in=batch_ids).count()
    print(f"\n[2/3] bare asyncio loop, {args.n} requests …", flush=True)
    bare_s, bare_ok = run_bare_asyncio([f"{base}/c/batch/{i}" for i in range(args.n)], args.concurrency)
    print(f"\n[3/3] one by one (run_check per check), {args.sync_n} checks …", flush=True)
    sync_s = run_one_by_one(sync_ids)
    sync_ok = Check.objects.filter(pk__in=sync_ids, state="ok").count()

    def per_minute(seconds: float, n: int = args.n) -> float:
        return round(n / seconds * 60)

    benchlib.banner(f"SUMMARY — monitoring HTTP probes — {version}, database {db.label()}")
    print(
        f"checks: {args.n} HTTP checks against a local keep-alive server answering after {args.latency_ms:g} ms, "
        f"one process, concurrency {args.concurrency}, batches of {services.BATCH_SIZE}"
    )
    rows = [
        ["batch path (asyncio probes + bulk record)", args.n, batch_s, per_minute(batch_s), f"{batch_ok} ok"],
        ["bare asyncio loop (requests only)", args.n, bare_s, per_minute(bare_s), f"{bare_ok} × 200"],
        [
            "one by one (urllib + record per check)",
            args.sync_n,
            sync_s,
            per_minute(sync_s, args.sync_n),
            f"{sync_ok} ok",
        ],
    ]
    print(benchlib.table(["variant", "checks", "seconds", "checks/minute", "result"], rows))
    print(f"samples stored by the batch path: {batch_samples}")
    print(f"batch path vs bare asyncio loop: {bare_s / batch_s:.2f}× the speed (1.00 = no cost over bare probing)")
    speedup = per_minute(batch_s) / per_minute(sync_s, args.sync_n)
    print(f"batch path vs one by one:        {speedup:.1f}× the checks per minute")
    print(f"target: ≥ 1,000 checks/minute on one worker → {'met' if per_minute(batch_s) >= 1000 else 'NOT met'}")


if __name__ == "__main__":
    main()
