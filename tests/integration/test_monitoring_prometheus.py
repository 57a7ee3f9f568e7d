"""Monitoring against the real peers, from Debian's packages: a Prometheus query check reads a
value that a real Prometheus scraped from a real node exporter, and a real Alertmanager delivers
its webhook (payload version 4, bearer-style token) to our receiver, which raises an alert (→
incident) and, on resolution, resolves it.

Needs the binaries prometheus, prometheus-alertmanager and prometheus-node-exporter
(`apt-get install prometheus prometheus-alertmanager prometheus-node-exporter`). Skipped when one
is missing, except in CI (CI=true), where that is a failure. Each test starts its own processes on
free ports with their storage in a temporary directory, and stops them at the end."""

from __future__ import annotations

import contextlib
import datetime
import json
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token

from incidents.models import Alert
from monitoring import services
from tests.factories import ServiceFactory
from tests.needs import binary

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _binary(name: str) -> str:
    return binary(name)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait(what: str, probe: Callable[[], object], timeout: float = 30.0, logs: list[Path] = ()):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            result = probe()
            if result:
                return result
        time.sleep(0.25)
    tails = "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-2000:]}" for p in logs if p.exists())
    pytest.fail(f"{what} did not happen within {timeout:g} s\n{tails}")


def _get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - local test URL
        return json.loads(response.read())


@contextlib.contextmanager
def _process(args: list[str], log: Path, **popen):
    """Run a process for the duration of the block, its output in `log`; SIGTERM at the end
    (SIGKILL after 20 s)."""
    with log.open("wb") as out:
        process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, **popen)  # noqa: S603
        try:
            yield process
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture
def prometheus(tmp_path):
    """A node exporter and a Prometheus scraping it every second; yields Prometheus's URL once
    the first scrape is in."""
    node_exporter, prometheus_bin = _binary("prometheus-node-exporter"), _binary("prometheus")
    node_port, prom_port = _free_port(), _free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
        f"scrape_configs:\n  - job_name: node\n    static_configs:\n      - targets: ['127.0.0.1:{node_port}']\n"
    )
    logs = [tmp_path / "node_exporter.log", tmp_path / "prometheus.log"]
    with (
        _process([node_exporter, f"--web.listen-address=127.0.0.1:{node_port}"], logs[0]),
        _process(
            [
                prometheus_bin,
                f"--config.file={config}",
                f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{prom_port}",
            ],
            logs[1],
        ),
    ):
        url = f"http://127.0.0.1:{prom_port}"
        _wait(
            "the first scrape of the node exporter",
            lambda: (
                _get_json(f"{url}/api/v1/query?query=up%7Bjob%3D%22node%22%7D")["data"]["result"][0]["value"][1] == "1"
            ),
            logs=logs,
        )
        yield url


def test_a_prometheus_check_reads_a_node_exporter_value_through_a_real_prometheus(prometheus):
    service = ServiceFactory(name="ERP host", code="erp-host")
    check = services.check_create(
        service=service,
        name="CPUs seen by the node exporter",
        kind="prometheus",
        settings={"server_url": prometheus, "expression": 'count(node_cpu_seconds_total{mode="idle"})'},
        comparison="lt",
        critical_threshold=1,
    )
    sample = services.run_check(check_id=check.pk)
    assert sample.error == "" and sample.value >= 1 and sample.status == "ok"

    # A real value crossing a threshold raises an alert on the check's service.
    services.check_update(check=check, comparison="gt", critical_threshold=0.5)
    sample = services.run_check(check_id=check.pk)
    assert sample.status == "critical"
    alert = Alert.objects.get(source="monitoring", fingerprint=f"check-{check.pk}")
    assert alert.service == service and alert.incident is not None

    # Prometheus's own error (bad PromQL) is an unknown result naming it.
    services.check_update(check=check, settings={"server_url": prometheus, "expression": "sum(("})
    sample = services.run_check(check_id=check.pk)
    assert sample.value is None and "Prometheus" in sample.error


@pytest.fixture
def alertmanager(tmp_path, live_server, ops_user):
    """A real Alertmanager whose only receiver is our webhook endpoint, authenticated with an
    operations token (Authorization: Token …), grouping for one second."""
    binary = _binary("prometheus-alertmanager")
    port, cluster_port = _free_port(), _free_port()
    token = Token.objects.create(user=ops_user).key
    config = tmp_path / "alertmanager.yml"
    config.write_text(
        f"""
route:
  receiver: erpc
  group_by: [alertname, erp_service]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: erpc
    webhook_configs:
      - url: {live_server.url}/api/alertmanager/
        send_resolved: true
        http_config:
          authorization:
            type: Token
            credentials: {token}
"""
    )
    log = tmp_path / "alertmanager.log"
    with _process(
        [
            binary,
            f"--config.file={config}",
            f"--storage.path={tmp_path / 'am'}",
            f"--web.listen-address=127.0.0.1:{port}",
            f"--cluster.listen-address=127.0.0.1:{cluster_port}",
        ],
        log,
    ):
        url = f"http://127.0.0.1:{port}"
        _wait("Alertmanager to be ready", lambda: urllib.request.urlopen(f"{url}/-/ready", timeout=1), logs=[log])  # noqa: S310
        yield url, log


def _post_alerts(url: str, alerts: list[dict]) -> None:
    request = urllib.request.Request(  # noqa: S310 - local test URL
        f"{url}/api/v2/alerts",
        data=json.dumps(alerts).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
        assert response.status == 200


def test_an_alert_from_a_real_alertmanager_opens_an_incident_and_its_resolution_resolves_it(alertmanager):
    url, log = alertmanager
    service = ServiceFactory(name="Sales", code="sales")
    started = timezone.now()
    alert = {
        "labels": {"alertname": "ERPDiskAlmostFull", "severity": "critical", "erp_service": "sales"},
        "annotations": {"summary": "Disk of the ERP database 95% full"},
        "startsAt": started.isoformat(),
    }
    _post_alerts(url, [alert])
    raised = _wait(
        "the firing alert to reach the receiver",
        lambda: Alert.objects.filter(source="alertmanager").select_related("incident").first(),
        logs=[log],
    )
    assert raised.summary == "Disk of the ERP database 95% full"
    assert raised.severity == "sev2" and raised.service == service
    assert raised.status == "firing" and raised.incident is not None
    assert raised.details["labels"]["alertname"] == "ERPDiskAlmostFull"

    ended = timezone.now() - datetime.timedelta(seconds=1)
    _post_alerts(url, [{**alert, "endsAt": ended.isoformat()}])
    _wait(
        "the resolution to reach the receiver",
        lambda: Alert.objects.get(pk=raised.pk).status == "resolved",
        logs=[log],
    )
    assert Alert.objects.filter(source="alertmanager").count() == 1
