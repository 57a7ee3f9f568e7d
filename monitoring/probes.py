"""Probes: each measures one check once and returns (value, error). The value is a float (a
response time in milliseconds, a query result, a Prometheus value, a heartbeat age in minutes) or
None with an error message when the probe could not measure. Error messages never contain a
secret (database URLs are masked)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import sqlite3
import time
import urllib.error
import urllib.parse
import urllib.request

import httpx
from django.utils import timezone

from . import services
from .models import Check, mask_settings, validate_read_only_query

Result = tuple[float | None, str]
USER_AGENT = "erpcontinuity-monitor"


def _elapsed_ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 3)


def probe_http(settings: dict, timeout: float) -> Result:
    url = settings["url"]
    method = settings.get("method", "GET")
    expected = int(settings.get("expected_status", 200))
    needle = settings.get("body_contains", "")
    timeout = float(settings.get("timeout") or timeout)
    request = urllib.request.Request(url, method=method, headers={"User-Agent": USER_AGENT})
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - http(s) only (clean)
            status, body = response.status, response.read(1_000_000)
    except urllib.error.HTTPError as e:
        status, body = e.code, e.read(1_000_000) if e.fp else b""
    except TimeoutError:
        return None, f"timed out after {timeout:g} s"
    except urllib.error.URLError as e:
        reason = e.reason
        if isinstance(reason, TimeoutError):
            return None, f"timed out after {timeout:g} s"
        return None, f"cannot reach {url}: {reason}"
    except OSError as e:
        return None, f"cannot reach {url}: {e}"
    return _judge_http(status, body, expected, needle, _elapsed_ms(start))


def _judge_http(status: int, body: bytes, expected: int, needle: str, elapsed: float) -> Result:
    if status != expected:
        return None, f"status {status}, expected {expected}"
    if needle and needle not in body.decode("utf-8", "replace"):
        return None, f"response does not contain {needle!r}"
    return elapsed, ""


def probe_tcp(settings: dict, timeout: float) -> Result:
    start = time.perf_counter()
    try:
        with socket.create_connection((settings["host"], int(settings["port"])), timeout=timeout):
            return _elapsed_ms(start), ""
    except TimeoutError:
        return None, f"timed out after {timeout:g} s"
    except OSError as e:
        return None, f"cannot connect to {settings['host']}:{settings['port']}: {e.strerror or e}"


def _scalar(row) -> float | None:
    if not row:
        return None
    try:
        return float(row[0])
    except (TypeError, ValueError):
        return None


def probe_sql(settings: dict, timeout: float) -> Result:
    """Runs the read-only query in a read-only transaction with a statement timeout. The value is
    the query's first column when numeric, else the response time in milliseconds."""
    url, query = settings["database_url"], settings["query"]
    safe_url = mask_settings(settings)["database_url"]
    try:
        validate_read_only_query(query)
    except Exception as e:  # noqa: BLE001 - turned into a probe error
        return None, "; ".join(getattr(e, "messages", [str(e)]))
    parts = urllib.parse.urlsplit(url)
    start = time.perf_counter()
    try:
        if parts.scheme == "sqlite":
            path = url.split("sqlite:///", 1)[-1] if url.startswith("sqlite:///") else parts.path
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=timeout)
            try:
                row = conn.execute(query).fetchone()
            finally:
                conn.close()
        else:
            import psycopg2

            conn = psycopg2.connect(url, connect_timeout=max(1, int(timeout)))
            try:
                conn.set_session(readonly=True)
                with conn.cursor() as cursor:
                    cursor.execute("SET LOCAL statement_timeout = %s", [int(timeout * 1000)])
                    cursor.execute(query)
                    row = cursor.fetchone()
                conn.rollback()
            finally:
                conn.close()
    except Exception as e:  # noqa: BLE001 - any driver error is a probe error
        message = str(e).strip().splitlines()[0] if str(e).strip() else e.__class__.__name__
        return None, f"{safe_url}: {message.replace(url, safe_url)}"
    value = _scalar(row)
    return (value if value is not None else _elapsed_ms(start)), ""


def probe_prometheus(settings: dict, timeout: float) -> Result:
    query = urllib.parse.urlencode({"query": settings["expression"]})
    url = settings["server_url"].rstrip("/") + "/api/v1/query?" + query
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310
            payload = json.loads(response.read(5_000_000))
    except (urllib.error.URLError, OSError, ValueError) as e:
        return None, f"Prometheus query failed: {e}"
    if payload.get("status") != "success":
        return None, f"Prometheus error: {payload.get('error', 'unknown')}"
    data = payload.get("data") or {}
    result = data.get("result")
    try:
        if data.get("resultType") in ("scalar", "string"):
            return float(result[1]), ""
        if data.get("resultType") == "vector":
            if not result:
                return None, "the query returned no series"
            # Several series: the worst (highest) value counts.
            return max(float(item["value"][1]) for item in result), ""
    except (TypeError, ValueError, KeyError, IndexError):
        pass
    return None, f"unexpected Prometheus result type {data.get('resultType')!r}"


def probe_heartbeat(check: Check, now=None) -> Result:
    """Minutes since the last ping (or since the check was created when never pinged)."""
    now = now or timezone.now()
    since = check.last_ping_at or check.created_at or now
    return round((now - since).total_seconds() / 60, 3), ""


# --- Concurrent probes: many HTTP/TCP checks in one worker process ------------------------------


async def probe_http_async(client: httpx.AsyncClient, settings: dict, timeout: float) -> Result:
    url = settings["url"]
    expected = int(settings.get("expected_status", 200))
    timeout = float(settings.get("timeout") or timeout)
    start = time.perf_counter()
    try:
        response = await client.request(settings.get("method", "GET"), url, timeout=timeout)
    except httpx.TimeoutException:
        return None, f"timed out after {timeout:g} s"
    except (httpx.HTTPError, OSError) as e:
        return None, f"cannot reach {url}: {e or e.__class__.__name__}"
    return _judge_http(
        response.status_code, response.content[:1_000_000], expected, settings.get("body_contains", ""),
        _elapsed_ms(start),
    )  # fmt: skip


async def probe_tcp_async(settings: dict, timeout: float) -> Result:
    start = time.perf_counter()
    try:
        _reader, writer = await asyncio.wait_for(
            asyncio.open_connection(settings["host"], int(settings["port"])), timeout
        )
    except TimeoutError:
        return None, f"timed out after {timeout:g} s"
    except OSError as e:
        return None, f"cannot connect to {settings['host']}:{settings['port']}: {e.strerror or e}"
    elapsed = _elapsed_ms(start)
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return elapsed, ""


async def _run_many(checks: list[Check], concurrency: int) -> list[Result]:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    gate = asyncio.Semaphore(concurrency)  # TCP connects too
    async with httpx.AsyncClient(limits=limits, follow_redirects=True, headers={"User-Agent": USER_AGENT}) as client:

        async def one(check: Check) -> Result:
            settings, timeout = check.settings or {}, float(check.timeout_seconds)
            async with gate:
                try:
                    if check.kind == Check.Kind.HTTP:
                        return await probe_http_async(client, settings, timeout)
                    if check.kind == Check.Kind.TCP:
                        return await probe_tcp_async(settings, timeout)
                except KeyError as e:
                    return None, f"missing setting {e}"
                except Exception as e:  # noqa: BLE001 - one bad check must not sink the batch
                    return None, f"probe failed: {e.__class__.__name__}: {e}"
            return None, f"{check.get_kind_display()} checks are not batched"

        return list(await asyncio.gather(*(one(c) for c in checks)))


def run_many(checks: list[Check], *, concurrency: int = 100) -> list[Result]:
    """Probe HTTP and TCP checks concurrently on one event loop (at most `concurrency`
    connections at a time); the results in the order of `checks`."""
    return asyncio.run(_run_many(checks, concurrency))


def probe_log_pattern(check: Check, now=None) -> Result:
    """Reads the new lines of the check's file (if it has one), then counts the matches in the
    window (file lines and pushed lines of the service)."""
    now = now or timezone.now()
    if (check.settings or {}).get("path"):
        error = services.read_log_file(check=check, now=now)
        if error:
            return None, error
    return float(services.log_matches(check=check, now=now)), ""


def run_probe(check: Check, now=None) -> Result:
    settings, timeout = check.settings or {}, float(check.timeout_seconds)
    try:
        if check.kind == Check.Kind.HTTP:
            return probe_http(settings, timeout)
        if check.kind == Check.Kind.TCP:
            return probe_tcp(settings, timeout)
        if check.kind == Check.Kind.SQL:
            return probe_sql(settings, timeout)
        if check.kind == Check.Kind.PROMETHEUS:
            return probe_prometheus(settings, timeout)
        if check.kind == Check.Kind.HEARTBEAT:
            return probe_heartbeat(check, now)
        if check.kind == Check.Kind.LOG_PATTERN:
            return probe_log_pattern(check, now)
        if check.kind == Check.Kind.EVENT_RULE:
            return services.event_rule_value(check=check, now=now), ""
    except KeyError as e:
        return None, f"missing setting {e}"
    return None, f"{check.get_kind_display()} checks are not polled"
