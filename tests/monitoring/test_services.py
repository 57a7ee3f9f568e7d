import datetime
import http.server
import socket
import threading
from unittest import mock

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from incidents.models import Alert
from monitoring import probes, services
from monitoring.models import Check, HourlyAggregate, Sample
from tests.factories import ServiceFactory

pytestmark = pytest.mark.django_db


def make_check(**fields):
    defaults = {
        "service": ServiceFactory(),
        "name": "Orders API",
        "kind": "http",
        "settings": {"url": "http://127.0.0.1:1/"},
        "comparison": "gt",
        "warning_threshold": 500,
        "critical_threshold": 2000,
    }
    defaults.update(fields)
    return services.check_create(**defaults)


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        if self.path == "/slow":
            import time

            time.sleep(1.5)
        status = 500 if self.path == "/broken" else 200
        self.send_response(status)
        self.end_headers()
        self.wfile.write(b"ERP ready")

    def log_message(self, *args):
        pass


@pytest.fixture
def http_server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


# --- Settings validation ---


def test_it_names_the_bad_setting_of_an_http_check():
    with pytest.raises(ValidationError) as e:
        make_check(settings={"url": "ftp://x", "expected_status": 99})
    assert set(e.value.message_dict) >= {"settings.url", "settings.expected_status"}


def test_it_refuses_a_tcp_check_without_a_port():
    with pytest.raises(ValidationError) as e:
        make_check(kind="tcp", settings={"host": "db"})
    assert "settings.port" in e.value.message_dict


@pytest.mark.parametrize("query", ["DELETE FROM orders", "SELECT 1; DROP TABLE orders", "update orders set x=1", ""])
def test_it_refuses_a_sql_check_that_writes(query):
    with pytest.raises(ValidationError) as e:
        make_check(kind="sql", settings={"database_url": "postgres://u:pw@db/erp", "query": query})
    assert "settings.query" in e.value.message_dict


def test_it_masks_the_database_password_of_a_sql_check():
    check = make_check(kind="sql", settings={"database_url": "postgres://erp:s3cret@db:5432/erp", "query": "SELECT 1"})
    assert "s3cret" not in str(check.masked_settings)
    assert check.masked_settings["database_url"] == "postgres://erp:***@db:5432/erp"


def test_a_sql_probe_error_does_not_show_the_password():
    check = make_check(
        kind="sql",
        settings={"database_url": "postgres://erp:s3cret@127.0.0.1:1/erp", "query": "SELECT 1"},
        timeout_seconds=1,
    )
    value, error = probes.run_probe(check)
    assert value is None and error and "s3cret" not in error


def test_a_sql_probe_returns_the_numeric_result(tmp_path):
    import sqlite3

    db = tmp_path / "erp.sqlite3"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE orders (stuck INT)")
    conn.executemany("INSERT INTO orders VALUES (?)", [(1,), (1,), (0,)])
    conn.commit()
    conn.close()
    check = make_check(
        kind="sql", settings={"database_url": f"sqlite:///{db}", "query": "SELECT SUM(stuck) FROM orders"}
    )
    assert probes.run_probe(check) == (2.0, "")


# --- Probes ---


def test_an_http_probe_measures_a_healthy_endpoint(http_server):
    value, error = probes.probe_http({"url": http_server + "/", "body_contains": "ready"}, 5)
    assert error == "" and value > 0


def test_an_http_probe_reports_a_wrong_status(http_server):
    assert probes.probe_http({"url": http_server + "/broken"}, 5) == (None, "status 500, expected 200")


def test_an_http_probe_reports_missing_body_text(http_server):
    value, error = probes.probe_http({"url": http_server + "/", "body_contains": "SAP"}, 5)
    assert value is None and "SAP" in error


def test_an_http_probe_times_out(http_server):
    value, error = probes.probe_http({"url": http_server + "/slow", "timeout": 0.3}, 5)
    assert value is None and "timed out" in error


def test_a_tcp_probe_connects_to_a_listener_and_reports_a_closed_port():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    value, error = probes.probe_tcp({"host": "127.0.0.1", "port": port}, 2)
    assert error == "" and value >= 0
    listener.close()
    value, error = probes.probe_tcp({"host": "127.0.0.1", "port": port}, 2)
    assert value is None and "cannot connect" in error


# --- Evaluation ---


@pytest.mark.parametrize(
    ("comparison", "warning", "critical", "value", "state"),
    [
        ("gt", 10, 20, 15, "warning"),
        ("gt", 10, 20, 20, "warning"),
        ("ge", 10, 20, 20, "critical"),
        ("lt", 10, 5, 4, "critical"),
        ("le", 10, 5, 10, "warning"),
        ("lt", 10, 5, 11, "ok"),
    ],
)
def test_it_grades_a_value_with_the_comparison(comparison, warning, critical, value, state):
    check = make_check(comparison=comparison, warning_threshold=warning, critical_threshold=critical)
    assert services.grade(check, value) == state


def test_it_fires_only_after_the_breach_count_and_raises_an_incident():
    check = make_check(breaches_to_fire=3)
    for _ in range(2):
        services.record(check=check, value=5000)
    check.refresh_from_db()
    assert check.state == "unknown" and not Alert.objects.exists()
    services.record(check=check, value=5000)
    check.refresh_from_db()
    alert = Alert.objects.get()
    assert check.state == "critical" and alert.severity == "sev2" and alert.fingerprint == f"check-{check.pk}"
    assert alert.incident is not None and alert.service == check.service


def test_it_recovers_only_after_enough_good_results_and_resolves_the_alert():
    check = make_check(recoveries_to_clear=2)
    services.record(check=check, value=900)
    assert Alert.objects.get().severity == "sev3"
    services.record(check=check, value=10)
    services.record(check=check, value=900)  # a flap: still firing, no new alert
    services.record(check=check, value=10)
    check.refresh_from_db()
    assert check.state == "warning" and Alert.objects.count() == 1
    services.record(check=check, value=10)
    check.refresh_from_db()
    assert check.state == "ok"
    assert Alert.objects.get().status == "resolved"


def test_a_probe_error_is_unknown_and_alerts_after_its_breach_count():
    check = make_check(breaches_to_fire=2)
    services.record(check=check, value=None, error="cannot reach")
    assert not Alert.objects.exists()
    services.record(check=check, value=None, error="cannot reach")
    check.refresh_from_db()
    assert check.state == "unknown" and Alert.objects.get().severity == "sev3"


def test_the_baseline_flags_an_outlier_for_the_hour_of_day():
    check = make_check(
        kind="prometheus",
        settings={"server_url": "http://prom:9090", "expression": "up"},
        warning_threshold=None,
        critical_threshold=None,
        use_baseline=True,
        baseline_sigma=3,
    )
    start = datetime.datetime(2026, 11, 1, 10, 5, tzinfo=datetime.UTC)
    for day, value in enumerate([100, 104, 98, 101, 99, 102]):
        Sample.objects.create(monitor_check=check, at=start + datetime.timedelta(days=day), value=value)
    with time_machine.travel(start + datetime.timedelta(days=7), tick=False):
        assert services.grade(check, 101) == "ok"
        assert services.grade(check, 180) == "warning"


def test_a_missing_heartbeat_is_a_breach_and_a_ping_recovers():
    with time_machine.travel(datetime.datetime(2026, 11, 1, 1, 0, tzinfo=datetime.UTC), tick=False):
        check = make_check(
            kind="heartbeat",
            settings={"every_minutes": 60, "grace_minutes": 15},
            warning_threshold=None,
            critical_threshold=None,
        )
    with time_machine.travel(datetime.datetime(2026, 11, 1, 2, 20, tzinfo=datetime.UTC), tick=False):
        services.run_check(check_id=check.pk)
        check.refresh_from_db()
        assert check.state == "critical" and Alert.objects.get().status == "firing"
        services.heartbeat_ping(check=check)
        check.refresh_from_db()
        assert check.state == "ok" and Alert.objects.get().status == "resolved"


# --- Tick ---


def test_the_tick_claims_due_unpaused_checks_once(django_capture_on_commit_callbacks):
    due = make_check()
    make_check(paused=True)
    later = make_check()
    Check.objects.filter(pk=later.pk).update(next_run_at=timezone.now() + datetime.timedelta(hours=1))
    with mock.patch("monitoring.tasks.run_batch.delay") as delay:
        with django_capture_on_commit_callbacks(execute=True):
            assert services.claim_due_checks() == [due.pk]
        with django_capture_on_commit_callbacks(execute=True):
            assert services.claim_due_checks() == []
    delay.assert_called_once_with([due.pk])


def test_the_tick_keeps_a_checks_cadence_and_a_late_check_starts_again_from_now():
    due_at = datetime.datetime(2026, 11, 2, 9, 0, tzinfo=datetime.UTC)
    check = make_check(interval_seconds=60)
    Check.objects.filter(pk=check.pk).update(next_run_at=due_at)
    with mock.patch("monitoring.tasks.run_batch.delay"):
        # Claimed by a tick 4 s after its due time: the next run is due_at + 60 s, not tick + 60 s
        # (else the tick just before due_at + 64 s would skip it and every run would slip a tick).
        with time_machine.travel(due_at + datetime.timedelta(seconds=4), tick=False):
            services.claim_due_checks()
        check.refresh_from_db()
        assert check.next_run_at == due_at + datetime.timedelta(seconds=60)
        # A tick a little early (beat's jitter) still claims it; one a few seconds early does not.
        with time_machine.travel(due_at + datetime.timedelta(seconds=57), tick=False):
            assert services.claim_due_checks() == []
        with time_machine.travel(due_at + datetime.timedelta(seconds=59.5), tick=False):
            assert services.claim_due_checks() == [check.pk]
        check.refresh_from_db()
        assert check.next_run_at == due_at + datetime.timedelta(seconds=120)
        # Left behind for an hour (no worker): one run now, the next an interval later, no catch-up burst.
        late = due_at + datetime.timedelta(hours=1)
        with time_machine.travel(late, tick=False):
            assert services.claim_due_checks() == [check.pk]
            assert services.claim_due_checks() == []
        check.refresh_from_db()
        assert check.next_run_at == late + datetime.timedelta(seconds=60)


# --- Pushed metrics ---


def test_a_metrics_batch_is_all_or_nothing():
    check = make_check()
    with pytest.raises(ValidationError) as e:
        services.ingest_metrics(samples=[{"check": check.pk, "value": 1}, {"check": check.pk, "value": "x"}])
    assert "samples[1].value" in e.value.message_dict
    assert not Sample.objects.exists()
    assert services.ingest_metrics(samples=[{"check": check.pk, "value": 1}, {"check": check.pk, "value": 2}]) == 2


# --- Retention ---


def test_retention_folds_old_samples_into_hours_and_is_safe_to_run_twice():
    check = make_check()
    now = datetime.datetime(2026, 11, 20, 12, 0, tzinfo=datetime.UTC)
    old = datetime.datetime(2026, 11, 1, 3, 0, tzinfo=datetime.UTC)
    Sample.objects.bulk_create(
        [
            Sample(monitor_check=check, at=old + datetime.timedelta(minutes=m), value=v)
            for m, v in [(1, 10), (20, 30), (70, 5)]
        ]
        + [Sample(monitor_check=check, at=now, value=1)]
    )
    services.apply_retention(now=now)
    services.apply_retention(now=now)
    hours = {h.hour: h for h in HourlyAggregate.objects.all()}
    assert len(hours) == 2
    first = hours[old]
    assert (first.min_value, first.max_value, first.avg_value, first.count) == (10, 30, 20, 2)
    assert Sample.objects.count() == 1
    services.apply_retention(now=now + datetime.timedelta(days=500))
    assert not HourlyAggregate.objects.exists()


def test_a_warning_that_turns_critical_raises_the_alert_severity():
    check = make_check()
    services.record(check=check, value=900)
    services.record(check=check, value=5000)
    check.refresh_from_db()
    alert = Alert.objects.get()
    assert check.state == "critical" and alert.severity == "sev2"


def test_a_pushed_batch_evaluates_each_checks_samples_in_order():
    check = make_check(kind="prometheus", settings={"server_url": "http://p:9090", "expression": "up"})
    check = services.check_update(check=check, breaches_to_fire=2, recoveries_to_clear=2)
    now = timezone.now()
    batch = [
        {"check": check.pk, "value": v, "at": (now + datetime.timedelta(seconds=i)).isoformat()}
        for i, v in enumerate([3000, 3000, 10, 10])
    ]
    # Two breaches fire (critical), then two good results recover: one alert, raised then resolved.
    assert services.ingest_metrics(samples=batch) == 4
    check.refresh_from_db()
    assert check.state == "ok"
    alert = Alert.objects.get(fingerprint=f"check-{check.pk}")
    assert alert.status == "resolved" and alert.severity == "sev2"
    assert list(Sample.objects.order_by("at").values_list("status", flat=True)) == [
        "critical", "critical", "ok", "ok",
    ]  # fmt: skip
