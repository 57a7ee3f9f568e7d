"""End to end with a real Celery worker on Redis and PostgreSQL: an alert raised through the API
with a machine token opens an incident, and the worker delivers its webhook notification to a
local HTTP receiver.

Needs PostgreSQL (DATABASE_URL) and Redis (ERPC_TEST_REDIS_URL, default redis://127.0.0.1:6379/13).
Skipped when either is missing, except in CI (CI=true), where that is a failure."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from rest_framework.test import APIClient

from incidents.models import Incident, Notification
from tests.factories import ChannelFactory, ServiceFactory
from tests.incidents.receiver import Receiver
from tests.needs import unavailable

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("ERPC_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")


def _redis_reachable(url: str) -> bool:
    parts = urllib.parse.urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _flush_redis_db(url: str) -> None:
    import redis

    redis.Redis.from_url(url).flushdb()


def _database_url() -> str:
    s = connection.settings_dict
    auth = urllib.parse.quote(s["USER"] or "")
    if s.get("PASSWORD"):
        auth += ":" + urllib.parse.quote(s["PASSWORD"])
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.fixture
def worker(monkeypatch, tmp_path):
    if connection.vendor != "postgresql":
        unavailable("needs PostgreSQL (DATABASE_URL=postgres://...)")
    if not _redis_reachable(REDIS_URL):
        unavailable(f"needs Redis at {REDIS_URL}")
    _flush_redis_db(REDIS_URL)
    # This process sends to the same Redis as the worker reads (settings say memory:// in tests);
    # Celery reads CELERY_BROKER_URL from the environment before its configuration.
    monkeypatch.setenv("CELERY_BROKER_URL", REDIS_URL)
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),  # the test database, where this test's rows are committed
        "CELERY_BROKER_URL": REDIS_URL,
        "DEBUG": "0",
    }
    log_path = tmp_path / "worker.log"
    log = log_path.open("w")
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "celery"), "-A", "erpcontinuity", "worker", "--pool=solo", "-l", "info"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    process.log_path = log_path
    try:
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def test_an_alert_raised_through_the_api_reaches_the_webhook(worker):
    ServiceFactory(name="Sales", code="sales")
    out = StringIO()
    call_command("alert_token", "it-monitor", stdout=out)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {out.getvalue().strip()}")

    with Receiver() as receiver:
        ChannelFactory(name="Ops webhook", kind="webhook", target=receiver.url + "/hooks/erp")
        response = client.post(
            "/api/alerts/raise/",
            {
                "source": "it-monitor",
                "fingerprint": "sales:http",
                "severity": "sev2",
                "summary": "Sales order entry answers HTTP 502",
                "service": "sales",
            },
            format="json",
        )
        assert response.status_code == 201, response.content
        incident = Incident.objects.get()
        assert response.json()["incident"] == incident.pk

        deadline = time.monotonic() + 45  # worker start-up included
        while not receiver.requests and time.monotonic() < deadline:
            assert worker.poll() is None, "the worker exited:\n" + worker.log_path.read_text()[-3000:]
            receiver.got_one.wait(timeout=0.5)
        assert receiver.requests, "no webhook within 45 s:\n" + worker.log_path.read_text()[-3000:]
        body = receiver.requests[0]["body"]
        assert receiver.requests[0]["path"] == "/hooks/erp"
        assert body["event"] == "opened" and body["reference"] == incident.reference
        assert body["services"] == ["Sales"] and body["severity"] == "sev2"

        # The worker marks the row sent and writes the timeline entry (after the HTTP answer).
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not Notification.objects.filter(status="sent").exists():
            time.sleep(0.2)
        assert Notification.objects.get().status == "sent"
        assert incident.timeline.filter(kind="notification").exists()
        assert len(receiver.requests) == 1  # sent once
