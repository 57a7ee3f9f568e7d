"""End to end with a real Celery worker and beat on Redis and PostgreSQL: an HTTP check polls a
local endpoint; the endpoint starts failing → the tick claims the check, the worker's batch probe
sees the failure and an incident opens within about one interval; the endpoint recovers → the
alert resolves.

Needs PostgreSQL (DATABASE_URL) and Redis (database 12 on the server of ERPC_TEST_REDIS_URL, default 127.0.0.1:6379).
Skipped when either is missing, except in CI (CI=true), where that is a failure."""

from __future__ import annotations

import http.server
import os
import sys
import threading
import time
from pathlib import Path

import pytest
from django.db import connection

from incidents.models import Alert
from monitoring import services
from tests.factories import ServiceFactory
from tests.integration.test_alert_to_webhook import (
    REDIS_URL,
    ROOT,
    _database_url,
    _flush_redis_db,
    _redis_reachable,
)
from tests.integration.test_monitoring_prometheus import _process, _wait
from tests.needs import unavailable

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
INTERVAL = 5
# Its own Redis database (next to ERPC_TEST_REDIS_URL's): the suite runs test files in parallel, and
# this worker must not take, nor flush, the tasks of test_alert_to_webhook's worker.
MONITORING_REDIS_URL = REDIS_URL.rsplit("/", 1)[0] + "/12"


class Endpoint(http.server.BaseHTTPRequestHandler):
    healthy = True

    def do_GET(self):  # noqa: N802
        self.send_response(200 if Endpoint.healthy else 503)
        self.end_headers()
        self.wfile.write(b"ERP ready" if Endpoint.healthy else b"down")

    def log_message(self, *args):
        pass


@pytest.fixture
def endpoint():
    Endpoint.healthy = True
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Endpoint)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/health"
    server.shutdown()


@pytest.fixture
def worker_and_beat(tmp_path):
    if connection.vendor != "postgresql":
        unavailable("needs PostgreSQL (DATABASE_URL=postgres://...)")
    if not _redis_reachable(MONITORING_REDIS_URL):
        unavailable(f"needs Redis at {MONITORING_REDIS_URL}")
    _flush_redis_db(MONITORING_REDIS_URL)
    env = {**os.environ, "DATABASE_URL": _database_url(), "CELERY_BROKER_URL": MONITORING_REDIS_URL, "DEBUG": "0"}
    log_path = tmp_path / "worker.log"
    with _process(
        [
            str(Path(sys.executable).parent / "celery"),
            "-A",
            "erpcontinuity",
            "worker",
            "--beat",
            f"--schedule={tmp_path / 'beat-schedule'}",
            "--pool=solo",
            "-l",
            "info",
        ],  # fmt: skip
        log_path,
        cwd=ROOT,
        env=env,
    ):
        yield log_path


def _wait_for(what: str, condition, timeout: float, log_path: Path) -> float:
    """Seconds until the condition held (the test fails with the worker's log after `timeout`)."""
    start = time.monotonic()
    _wait(what, condition, timeout, logs=[log_path])
    return time.monotonic() - start


def test_a_failing_endpoint_opens_an_incident_and_its_recovery_resolves_the_alert(endpoint, worker_and_beat):
    service = ServiceFactory(name="Sales", code="sales")
    check = services.check_create(
        service=service, name="Sales health", kind="http", settings={"url": endpoint, "body_contains": "ready"},
        interval_seconds=INTERVAL, timeout_seconds=2,
    )  # fmt: skip
    _wait_for("the first poll", lambda: check.samples.exists(), 30, worker_and_beat)
    assert check.samples.first().error == ""

    Endpoint.healthy = False
    took = _wait_for(
        "an incident",
        lambda: Alert.objects.filter(fingerprint=f"check-{check.pk}", status="firing", incident__isnull=False).exists(),
        4 * INTERVAL,
        worker_and_beat,
    )
    alert = Alert.objects.get(fingerprint=f"check-{check.pk}")
    assert alert.service == service and "status 503, expected 200" in alert.summary
    print(f"endpoint down → incident: {took:.1f} s (interval {INTERVAL} s)")

    Endpoint.healthy = True
    took = _wait_for(
        "the alert to resolve",
        lambda: Alert.objects.filter(pk=alert.pk, status="resolved").exists(),
        4 * INTERVAL,
        worker_and_beat,
    )
    print(f"endpoint back → alert resolved: {took:.1f} s")
