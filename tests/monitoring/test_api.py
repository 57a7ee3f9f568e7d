import pytest

from incidents.models import Alert
from monitoring import services
from monitoring.models import Check, Sample
from tests.factories import ServiceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def sql_check():
    return services.check_create(
        service=ServiceFactory(code="erp-db"),
        name="Stuck orders",
        kind="sql",
        settings={"database_url": "postgres://erp:s3cret@db:5432/erp", "query": "SELECT count(*) FROM orders"},
        warning_threshold=10,
    )


@pytest.mark.parametrize(
    ("role", "expected"),
    [("administrator", 200), ("it_operations", 200), ("manager", 200), ("business_user", 403), ("anonymous", 403)],
)
def test_reading_checks_needs_the_view_permission(role_clients, sql_check, role, expected):
    response = role_clients[role].get("/api/checks/")
    assert response.status_code in ((401, 403) if expected == 403 else (expected,))


def test_the_api_masks_the_database_password(ops_client, sql_check):
    body = ops_client.get(f"/api/checks/{sql_check.pk}/").content.decode()
    assert "s3cret" not in body and "erp:***@db" in body


def test_a_masked_secret_sent_back_keeps_the_stored_one(ops_client, sql_check):
    data = ops_client.get(f"/api/checks/{sql_check.pk}/").json()
    response = ops_client.patch(
        f"/api/checks/{sql_check.pk}/", {"settings": data["settings"], "name": "Stuck"}, content_type="application/json"
    )
    assert response.status_code == 200
    sql_check.refresh_from_db()
    assert sql_check.settings["database_url"] == "postgres://erp:s3cret@db:5432/erp" and sql_check.name == "Stuck"


def test_creating_a_check_with_bad_settings_is_a_400_naming_the_field(ops_client):
    service = ServiceFactory()
    response = ops_client.post(
        "/api/checks/",
        {"service": service.pk, "name": "x", "kind": "tcp", "settings": {"host": "db", "port": 0}},
        content_type="application/json",
    )
    assert response.status_code == 400 and "settings.port" in response.json()


def test_a_manager_cannot_create_a_check(manager_client):
    response = manager_client.post("/api/checks/", {}, content_type="application/json")
    assert response.status_code == 403


@pytest.mark.parametrize(("role", "expected"), [("it_operations", 201), ("manager", 403), ("business_user", 403)])
def test_pushing_metrics_needs_push_metrics(role_clients, sql_check, role, expected):
    response = role_clients[role].post(
        "/api/metrics/", {"samples": [{"check": sql_check.pk, "value": 3}]}, content_type="application/json"
    )
    assert response.status_code == expected


def test_a_bad_sample_rejects_the_whole_batch(ops_client, sql_check):
    response = ops_client.post(
        "/api/metrics/",
        {"samples": [{"check": sql_check.pk, "value": 3}, {"check": 999999, "value": 1}]},
        content_type="application/json",
    )
    assert response.status_code == 400 and "samples[1].check" in response.json()
    assert not Sample.objects.exists()


def test_a_heartbeat_ping_through_the_api(ops_client):
    check = services.check_create(
        service=ServiceFactory(), name="Nightly export", kind="heartbeat", settings={"every_minutes": 1440}
    )
    response = ops_client.post(f"/api/checks/{check.pk}/ping/")
    assert response.status_code == 200
    check.refresh_from_db()
    assert check.last_ping_at is not None and check.state == "ok"


def alertmanager_payload(status, *, service="erp-db", severity="critical"):
    # Shape of Alertmanager's webhook (version 4), as sent by prometheus-alertmanager.
    return {
        "receiver": "erp-continuity",
        "status": status,
        "alerts": [
            {
                "status": status,
                "labels": {
                    "alertname": "PostgresDown",
                    "instance": "db1:9187",
                    "job": "postgres",
                    "severity": severity,
                    "erp_service": service,
                },
                "annotations": {"summary": "PostgreSQL on db1 is down"},
                "startsAt": "2026-11-24T10:00:00.000Z",
                "endsAt": "0001-01-01T00:00:00Z" if status == "firing" else "2026-11-24T10:20:00.000Z",
                "generatorURL": "http://prometheus:9090/graph?g0.expr=pg_up+%3D%3D+0",
                "fingerprint": "b1c2d3e4f5a60718",
            }
        ],
        "groupLabels": {"alertname": "PostgresDown"},
        "commonLabels": {"alertname": "PostgresDown"},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "version": "4",
        "groupKey": '{}:{alertname="PostgresDown"}',
        "truncatedAlerts": 0,
    }


def test_alertmanager_firing_raises_and_resolved_resolves(ops_client, sql_check):
    response = ops_client.post("/api/alertmanager/", alertmanager_payload("firing"), content_type="application/json")
    assert response.status_code == 200
    alert = Alert.objects.get(source="alertmanager")
    assert alert.fingerprint == "b1c2d3e4f5a60718" and alert.severity == "sev2"
    assert alert.service == sql_check.service and alert.summary == "PostgreSQL on db1 is down"
    assert alert.incident is not None
    response = ops_client.post("/api/alertmanager/", alertmanager_payload("resolved"), content_type="application/json")
    assert response.status_code == 200
    alert.refresh_from_db()
    assert alert.status == "resolved"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"version": "3"}, "version"),
        ({"alerts": []}, "alerts"),
        ({"alerts": [{"status": "firing", "labels": {}}]}, "alerts"),
    ],
)
def test_alertmanager_refuses_a_bad_payload(ops_client, change, field):
    payload = {**alertmanager_payload("firing"), **change}
    response = ops_client.post("/api/alertmanager/", payload, content_type="application/json")
    assert response.status_code == 400 and field in response.json()
    assert not Alert.objects.exists()


def test_alertmanager_needs_push_metrics(manager_client):
    response = manager_client.post(
        "/api/alertmanager/", alertmanager_payload("firing"), content_type="application/json"
    )
    assert response.status_code == 403
    assert not Check.objects.exists()
