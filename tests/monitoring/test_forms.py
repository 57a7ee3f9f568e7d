"""Creating, editing and deleting checks in the browser: one form with per-kind settings,
the services' errors on the right field, the SQL password never rendered back."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from incidents.models import Alert
from monitoring import services
from monitoring.models import Check, Sample
from tests.factories import ServiceFactory

pytestmark = pytest.mark.django_db

NEW = "/monitoring/checks/new/"
COMMON = {
    "name": "A check",
    "interval_seconds": 60,
    "timeout_seconds": 10,
    "comparison": "gt",
    "breaches_to_fire": 2,
    "recoveries_to_clear": 2,
    "baseline_sigma": 3,
    "http_method": "GET",
}
KINDS = {
    "http": ({"http_url": "https://erp.example/health", "http_expected_status": 200}, {"url": "https://erp.example/health", "method": "GET", "expected_status": 200}),
    "tcp": ({"tcp_host": "db.erp", "tcp_port": 5432}, {"host": "db.erp", "port": 5432}),
    "sql": (
        {"sql_database_url": "postgres://erp:s3cret@db:5432/erp", "sql_query": "SELECT count(*) FROM orders", "warning_threshold": 10},
        {"database_url": "postgres://erp:s3cret@db:5432/erp", "query": "SELECT count(*) FROM orders"},
    ),
    "prometheus": (
        {"prom_server_url": "http://prom:9090", "prom_expression": "node_load1", "critical_threshold": 8},
        {"server_url": "http://prom:9090", "expression": "node_load1"},
    ),
    "log_pattern": ({"log_pattern": "ORA-\\d+", "log_window_minutes": 5, "warning_threshold": 0}, {"pattern": "ORA-\\d+", "window_minutes": 5}),
    "event_rule": (
        {"rule_event": "privileged_operation", "rule_rule": "outside_hours", "rule_window_minutes": 60,
         "rule_work_start": "09:00", "rule_work_end": "17:30", "rule_work_days": ["1", "2", "3"]},
        {"event": "privileged_operation", "rule": "outside_hours", "window_minutes": 60,
         "work_start": "09:00", "work_end": "17:30", "work_days": [1, 2, 3]},
    ),
    "heartbeat": ({"hb_every_minutes": 1440, "hb_grace_minutes": 30}, {"every_minutes": 1440, "grace_minutes": 30}),
}  # fmt: skip


@pytest.mark.parametrize("kind", list(KINDS))
def test_ops_create_each_kind_of_check_in_the_browser(ops_client, kind):
    fields, expected = KINDS[kind]
    service = ServiceFactory()
    response = ops_client.post(NEW, {**COMMON, **fields, "kind": kind, "service": service.pk})
    check = Check.objects.get()
    assert response.status_code == 302 and response["Location"] == check.get_absolute_url()
    assert check.kind == kind and check.settings == expected and check.breaches_to_fire == 2
    assert check.next_run_at is not None


@pytest.mark.parametrize(
    ("kind", "fields", "field", "text"),
    [
        ("http", {"http_url": "ftp://erp.example"}, "http_url", "Give a URL starting with http or https."),
        ("tcp", {"tcp_host": "db", "tcp_port": 70000}, "tcp_port", "Give a port between 1 and 65535."),
        ("sql", {"sql_database_url": "postgres://db/erp", "sql_query": "DELETE FROM orders", "warning_threshold": 1}, "sql_query", "Only a SELECT or WITH query is allowed."),
        ("log_pattern", {"log_pattern": "ORA-(", "warning_threshold": 1}, "log_pattern", "Not a valid regular expression"),
        ("event_rule", {"rule_event": "deletion", "rule_rule": "count"}, "warning_threshold", "Give a warning or critical threshold"),
        ("heartbeat", {}, "hb_every_minutes", "Give a number."),
    ],
)  # fmt: skip
def test_bad_settings_show_a_clear_error_on_the_field_and_save_nothing(ops_client, kind, fields, field, text):
    service = ServiceFactory()
    response = ops_client.post(NEW, {**COMMON, **fields, "kind": kind, "service": service.pk})
    assert response.status_code == 200
    form = response.context["form"]
    assert any(text in e for e in form.errors[field]), form.errors
    assert Check.objects.count() == 0


def test_editing_a_sql_check_never_shows_the_password_and_an_empty_url_keeps_it(ops_client):
    check = services.check_create(
        service=ServiceFactory(), name="Stuck orders", kind="sql", warning_threshold=10,
        settings={"database_url": "postgres://erp:s3cret@db:5432/erp", "query": "SELECT 1"},
    )  # fmt: skip
    url = reverse("monitoring:check-edit", args=[check.pk])
    page = ops_client.get(url).content.decode()
    assert "s3cret" not in page and "erp:***@db" in page
    data = {**COMMON, "service": check.service_id, "name": "Stuck orders 2", "sql_query": "SELECT 2"}
    data["warning_threshold"] = 10
    assert ops_client.post(url, data).status_code == 302
    check.refresh_from_db()
    assert check.name == "Stuck orders 2" and check.settings["query"] == "SELECT 2"
    assert check.settings["database_url"] == "postgres://erp:s3cret@db:5432/erp"
    # A bad edit re-renders the form without the password either.
    page = ops_client.post(url, {**data, "sql_query": "DROP TABLE x"}).content.decode()
    assert "s3cret" not in page


def test_the_kind_of_a_check_cannot_be_changed_by_a_forged_post(ops_client):
    check = services.check_create(
        service=ServiceFactory(), name="Port", kind="tcp", settings={"host": "db", "port": 5432}
    )
    data = {**COMMON, "service": check.service_id, "kind": "http", "tcp_host": "db", "tcp_port": 5433}
    assert ops_client.post(reverse("monitoring:check-edit", args=[check.pk]), data).status_code == 302
    check.refresh_from_db()
    assert check.kind == "tcp" and check.settings == {"host": "db", "port": 5433}


@pytest.mark.parametrize("role", ["manager_client", "business_client"])
def test_only_operations_create_edit_and_delete_checks(request, role):
    client = request.getfixturevalue(role)
    check = services.check_create(service=ServiceFactory(), name="Port", kind="tcp", settings={"host": "db", "port": 1})
    assert client.get(NEW).status_code == 403
    assert client.post(NEW, {**COMMON, "kind": "tcp", "service": check.service_id}).status_code == 403
    assert client.get(reverse("monitoring:check-edit", args=[check.pk])).status_code == 403
    assert client.post(reverse("monitoring:check-delete", args=[check.pk])).status_code == 403
    assert Check.objects.count() == 1


def test_deleting_a_failing_check_resolves_its_alert(ops_client):
    check = services.check_create(service=ServiceFactory(), name="Port", kind="tcp", settings={"host": "db", "port": 1})
    services.record(check=check, value=None, error="refused")
    assert Alert.objects.get().status == "firing"
    url = reverse("monitoring:check-delete", args=[check.pk])
    assert "Delete “Port”?" in ops_client.get(url).content.decode()
    assert ops_client.post(url)["Location"] == reverse("monitoring:check-list")
    assert not Check.objects.exists()
    assert Alert.objects.get().status == "resolved"


def test_the_chart_draws_the_learned_baseline_band(ops_client):
    check = services.check_create(
        service=ServiceFactory(), name="Load", kind="prometheus", use_baseline=True,
        settings={"server_url": "http://prom:9090", "expression": "node_load1"},
    )  # fmt: skip
    now = timezone.now()
    Sample.objects.bulk_create(
        Sample(monitor_check=check, at=now - datetime.timedelta(days=d, minutes=m), value=1.0 + d % 3)
        for d in range(0, 8)
        for m in (5, 30)
    )
    page = ops_client.get(check.get_absolute_url()).content.decode()
    assert "Baseline high" in page and "Baseline low" in page
    check.use_baseline = False
    check.save()
    assert "Baseline high" not in ops_client.get(check.get_absolute_url()).content.decode()
