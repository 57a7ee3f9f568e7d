"""The incident-response API: shapes, bad input naming the field, permissions per role, cursor
pages with a constant query count, and the machine-token alert endpoints."""

import datetime

import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from incidents import services
from incidents.models import Alert, Incident
from tests.factories import ChannelFactory, IncidentFactory, PlanFactory, ServiceFactory, StepFactory, VersionFactory

pytestmark = pytest.mark.django_db


def api(user=None, token=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    if token is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


@pytest.fixture
def ops(ops_user):
    return api(ops_user)


@pytest.fixture
def incident(sales):
    return services.incident_open(title="Sales down", severity="sev2", services=[sales])


# --- Incidents -----------------------------------------------------------------------------------


def test_ops_open_an_incident(ops, sales, ops_user):
    response = ops.post(
        "/api/incidents/",
        {"title": "Invoices fail", "severity": "sev2", "services": [sales.pk], "commander": ops_user.pk},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["reference"] == f"INC-{body['id']}" and body["status"] == "open"
    assert body["services"] == [{"id": sales.pk, "name": "Sales"}]
    assert body["commander"]["id"] == ops_user.pk
    assert [e["kind"] for e in body["timeline"]] == ["opened", "assignment"]
    assert body["allowed_transitions"] == ["acknowledged", "investigating", "mitigated", "resolved"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"severity": "sev2"}, "title"),
        ({"title": "x", "severity": "critical"}, "severity"),
        ({"title": "x", "severity": "sev2", "services": [999999]}, "services"),
        ({"title": "x", "severity": "sev2", "detected_at": "yesterday"}, "detected_at"),
        ({"title": "x", "severity": "sev2", "detected_at": "2099-01-01T00:00:00Z"}, "detected_at"),
    ],
)
def test_bad_input_on_open_is_a_400_naming_the_field(ops, payload, field):
    response = ops.post("/api/incidents/", payload, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Incident.objects.exists()


def test_the_detail_carries_timeline_checklist_and_alerts(ops, sales):
    alert = services.raise_alert(source="monitoring", fingerprint="f", severity="sev3", summary="Slow", service=sales)
    body = ops.get(f"/api/incidents/{alert.incident_id}/").json()
    assert body["alerts"][0]["fingerprint"] == "f" and body["alerts"][0]["service_code"] == "sales"
    assert [e["kind"] for e in body["timeline"]] == ["opened", "alert_attached"]
    assert body["checklist"] == []


def test_lifecycle_actions_through_the_api(ops, incident):
    url = f"/api/incidents/{incident.pk}"
    assert ops.post(f"{url}/acknowledge/", {}, format="json").json()["status"] == "acknowledged"
    refused = ops.post(f"{url}/acknowledge/", {}, format="json")
    assert refused.status_code == 400 and "already acknowledged" in refused.json()["status"][0]
    assert ops.post(f"{url}/investigate/", {"note": "Looking at logs"}, format="json").status_code == 200
    assert ops.post(f"{url}/mitigate/", {}, format="json").json()["status"] == "mitigated"
    assert ops.post(f"{url}/resolve/", {}, format="json").json()["status"] == "resolved"
    assert ops.post(f"{url}/close/", {}, format="json").json()["status"] == "closed"
    assert ops.post(f"{url}/reopen/", {}, format="json").json() == {"reason": ["This field is required."]}
    body = ops.post(f"{url}/reopen/", {"reason": "Back again"}, format="json").json()
    assert body["status"] == "investigating" and body["reopen_count"] == 1


def test_an_illegal_transition_is_a_400_not_a_500(ops, incident):
    response = ops.post(f"/api/incidents/{incident.pk}/close/", {}, format="json")
    assert response.status_code == 400
    assert "cannot go from" in response.json()["status"][0]


def test_patch_needs_the_version_and_refuses_a_stale_one(ops, incident, ops_user):
    url = f"/api/incidents/{incident.pk}/"
    assert "version" in ops.patch(url, {"title": "New"}, format="json").json()
    ok = ops.patch(url, {"title": "New", "version": 1}, format="json")
    assert ok.status_code == 200 and ok.json()["version"] == 2
    stale = ops.patch(url, {"title": "Newer", "version": 1}, format="json")
    assert stale.status_code == 400 and "reload" in stale.json()["version"][0]
    assert ops.patch(url, {"severity": "sev9", "version": 2}, format="json").status_code == 400
    assert ops.put(url, {"title": "x"}, format="json").status_code == 405


def test_a_stale_version_on_an_action_is_refused(ops, incident):
    ops.post(f"/api/incidents/{incident.pk}/acknowledge/", {"version": 1}, format="json")
    response = ops.post(f"/api/incidents/{incident.pk}/investigate/", {"version": 1}, format="json")
    assert response.status_code == 400 and "version" in response.json()


def test_notes_and_public_updates(ops, incident):
    url = f"/api/incidents/{incident.pk}"
    note = ops.post(f"{url}/note/", {"message": "Called the vendor"}, format="json")
    assert note.status_code == 201 and note.json()["kind"] == "note"
    assert "message" in ops.post(f"{url}/note/", {"message": ""}, format="json").json()
    body = ops.post(f"{url}/public-update/", {"message": "Use paper"}, format="json").json()
    assert body["public_update"] == "Use paper"


def test_attach_a_plan_and_tick_its_steps(ops, incident, sales):
    plan = PlanFactory(services=[sales])
    version = VersionFactory(plan=plan)
    StepFactory(version=version, title="Fail over")
    version.status = "published"
    version.save()
    url = f"/api/incidents/{incident.pk}"
    body = ops.post(f"{url}/attach-plan/", {"plan": plan.pk}, format="json").json()
    item = body["checklist"][0]
    assert item["title"] == "Fail over"
    done = ops.post(f"{url}/checklist/{item['id']}/done/", {"note": "done"}, format="json")
    assert done.status_code == 200 and done.json()["done_at"]
    again = ops.post(f"{url}/checklist/{item['id']}/done/", {}, format="json")
    assert again.status_code == 400 and "already done" in again.json()["item"][0]
    assert ops.post(f"{url}/checklist/{item['id']}/undo/", {}, format="json").json()["done_at"] is None
    assert ops.post(f"{url}/attach-plan/", {"plan": 999999}, format="json").status_code == 400


def test_a_checklist_item_of_another_incident_is_a_404(ops, incident, sales):
    other = services.incident_open(title="Other", severity="sev3", services=[sales])
    plan = PlanFactory(services=[sales])
    version = VersionFactory(plan=plan)
    StepFactory(version=version)
    version.status = "published"
    version.save()
    item = services.incident_attach_plan(incident=other, user=None, plan=plan)[0]
    assert ops.post(f"/api/incidents/{incident.pk}/checklist/{item.pk}/done/", {}, format="json").status_code == 404


# --- List: filters, cursor, queries --------------------------------------------------------------


def test_the_list_filters_and_searches(ops, sales, shipping):
    services.incident_open(title="Sales slow", severity="sev3", services=[sales])
    shipping_incident = services.incident_open(title="Labels fail", severity="sev1", services=[shipping])
    services.incident_resolve(incident=shipping_incident, user=None)

    def titles(query):
        return [r["title"] for r in ops.get("/api/incidents/" + query).json()["results"]]

    assert titles("") == ["Labels fail", "Sales slow"]
    assert titles("?status=open") == ["Sales slow"]
    assert titles("?severity=sev1,sev2") == ["Labels fail"]
    assert titles(f"?service={shipping.pk}") == ["Labels fail"]
    assert titles("?q=label") == ["Labels fail"]
    assert titles(f"?q=INC-{shipping_incident.pk}") == ["Labels fail"]
    today = timezone.localdate().isoformat()
    assert len(titles(f"?opened_from={today}&opened_to={today}")) == 2


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=bogus", "status"),
        ("severity=sev0", "severity"),
        ("service=abc", "service"),
        ("opened_from=12/01/2026", "opened_from"),
    ],
)
def test_bad_list_filters_are_a_400_naming_the_field(ops, query, field):
    response = ops.get(f"/api/incidents/?{query}")
    assert response.status_code == 400 and field in response.json()


def test_cursor_pages_walk_every_incident_once_with_a_constant_query_count(ops, sales, django_assert_max_num_queries):
    now = timezone.now()
    for i in range(25):
        IncidentFactory(opened_at=now - datetime.timedelta(minutes=i % 7), services=[sales])  # ties on opened_at
    seen = []
    url = "/api/incidents/?page_size=10"
    while url:
        # the user's permissions (user + groups), the incidents page, their services (prefetch)
        with django_assert_max_num_queries(4):
            body = ops.get(url).json()
        seen += [r["id"] for r in body["results"]]
        url = body["next"]
    assert len(seen) == 25 and len(set(seen)) == 25


def test_list_query_count_does_not_grow_with_rows(ops, sales, shipping, django_assert_max_num_queries):
    for _ in range(3):
        IncidentFactory(services=[sales, shipping], commander=None)
    # the user's permissions (user + groups), the incidents page, their services (prefetch)
    with django_assert_max_num_queries(4) as small:
        ops.get("/api/incidents/")
    for _ in range(40):
        IncidentFactory(services=[sales, shipping])
    with django_assert_max_num_queries(len(small.captured_queries)):
        ops.get("/api/incidents/")


# --- Permissions ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "read", "write"),
    [("administrator", 200, 201), ("it_operations", 200, 201), ("manager", 200, 403), ("business_user", 403, 403)],
)
def test_who_may_read_and_open_incidents(role, read, write, admin_user, ops_user, manager_user, business_user):
    user = {
        "administrator": admin_user,
        "it_operations": ops_user,
        "manager": manager_user,
        "business_user": business_user,
    }[role]
    client = api(user)
    assert client.get("/api/incidents/").status_code == read
    assert client.post("/api/incidents/", {"title": "x", "severity": "sev3"}, format="json").status_code == write


def test_managers_cannot_act_on_incidents(manager_user, incident):
    client = api(manager_user)
    assert client.get(f"/api/incidents/{incident.pk}/").status_code == 200
    assert client.post(f"/api/incidents/{incident.pk}/acknowledge/", {}, format="json").status_code == 403
    assert client.post(f"/api/incidents/{incident.pk}/note/", {"message": "x"}, format="json").status_code == 403


def test_anonymous_gets_nothing(incident):
    assert APIClient().get("/api/incidents/").status_code in (401, 403)
    assert APIClient().get("/api/status/").status_code in (401, 403)


# --- Alerts --------------------------------------------------------------------------------------


@pytest.fixture
def alert_token(db):
    from io import StringIO

    out = StringIO()
    call_command("alert_token", "zabbix", stdout=out)
    return out.getvalue().strip()


def test_a_machine_token_raises_and_resolves_alerts(alert_token, sales):
    client = api(token=alert_token)
    payload = {
        "source": "zabbix",
        "fingerprint": "sales:http",
        "severity": "sev2",
        "summary": "HTTP 500",
        "service": "sales",
    }
    first = client.post("/api/alerts/raise/", payload, format="json")
    assert first.status_code == 201, first.content
    assert first.json()["incident"] is not None and first.json()["service_code"] == "sales"
    again = client.post("/api/alerts/raise/", payload, format="json")
    assert again.status_code == 200 and again.json()["count"] == 2
    resolved = client.post("/api/alerts/resolve/", {"source": "zabbix", "fingerprint": "sales:http"}, format="json")
    assert resolved.status_code == 200 and resolved.json()["status"] == "resolved"
    missing = client.post("/api/alerts/resolve/", {"source": "zabbix", "fingerprint": "sales:http"}, format="json")
    assert missing.status_code == 404
    # The machine account raises alerts and nothing else.
    assert client.get("/api/incidents/").status_code == 403
    assert client.get("/api/alerts/").status_code == 403


def test_the_token_command_is_idempotent_and_rotates(alert_token):
    from io import StringIO

    out = StringIO()
    call_command("alert_token", "zabbix", stdout=out)
    assert out.getvalue().strip() == alert_token
    call_command("alert_token", "zabbix", "--rotate", stdout=out)
    assert out.getvalue().split()[-1] != alert_token


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"fingerprint": "f", "severity": "sev2", "summary": "s"}, "source"),
        ({"source": "z", "severity": "sev2", "summary": "s"}, "fingerprint"),
        ({"source": "z", "fingerprint": "f", "severity": "urgent", "summary": "s"}, "severity"),
        ({"source": "z", "fingerprint": "f", "severity": "sev2"}, "summary"),
        ({"source": "z", "fingerprint": "f", "severity": "sev2", "summary": "s", "service": "nope"}, "service"),
        ({"source": "z", "fingerprint": "f", "severity": "sev2", "summary": "s", "details": [1]}, "details"),
        ({"source": "z" * 65, "fingerprint": "f", "severity": "sev2", "summary": "s"}, "source"),
    ],
)
def test_bad_alerts_are_a_400_naming_the_field(alert_token, payload, field):
    response = api(token=alert_token).post("/api/alerts/raise/", payload, format="json")
    assert response.status_code == 400 and field in response.json()
    assert not Alert.objects.exists()


def test_who_may_raise_alerts(admin_user, ops_user, manager_user, business_user, sales):
    payload = {"source": "s", "fingerprint": "f", "severity": "sev3", "summary": "x", "service": sales.pk}
    assert api(ops_user).post("/api/alerts/raise/", payload, format="json").status_code == 201
    assert api(admin_user).post("/api/alerts/raise/", payload, format="json").status_code == 200
    assert api(manager_user).post("/api/alerts/raise/", payload, format="json").status_code == 403
    assert api(business_user).post("/api/alerts/raise/", payload, format="json").status_code == 403
    assert APIClient().post("/api/alerts/raise/", payload, format="json").status_code in (401, 403)
    assert APIClient().post(
        "/api/alerts/raise/", payload, format="json", HTTP_AUTHORIZATION="Token bad"
    ).status_code in (401, 403)


def test_alert_list_and_filters(ops, sales, manager_user):
    services.raise_alert(source="a", fingerprint="1", severity="sev3", summary="x", service=sales)
    services.raise_alert(source="b", fingerprint="2", severity="sev3", summary="y")
    assert len(ops.get("/api/alerts/").json()["results"]) == 2
    assert [a["source"] for a in ops.get("/api/alerts/?source=b").json()["results"]] == ["b"]
    assert api(manager_user).get("/api/alerts/").status_code == 200


# --- Silences, channels, policies ----------------------------------------------------------------


def test_silences_crud_and_expire(ops, sales, manager_user):
    ends = (timezone.now() + datetime.timedelta(hours=2)).isoformat()
    created = ops.post("/api/silences/", {"service": sales.pk, "reason": "Patching", "ends_at": ends}, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["is_active"] and created.json()["author"]["name"]
    bad = ops.post("/api/silences/", {"reason": "x", "ends_at": ends}, format="json")
    assert bad.status_code == 400 and "non_field_errors" in bad.json()
    bad_regex = ops.post("/api/silences/", {"reason": "x", "ends_at": ends, "summary_pattern": "(("}, format="json")
    assert "summary_pattern" in bad_regex.json()
    sid = created.json()["id"]
    assert ops.post(f"/api/silences/{sid}/expire/").json()["is_active"] is False
    assert (
        api(manager_user)
        .post("/api/silences/", {"service": sales.pk, "reason": "x", "ends_at": ends}, format="json")
        .status_code
        == 403
    )


def test_channels_crud_hide_the_secret_and_test(ops, monkeypatch):
    created = ops.post(
        "/api/notification-channels/",
        {"name": "DingTalk", "kind": "dingtalk", "target": "http://127.0.0.1:9/robot", "secret": "s3cret"},
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert "secret" not in body and body["has_secret"] and body["rate_limit_per_minute"] == 20
    bad = ops.post("/api/notification-channels/", {"name": "x", "kind": "email", "target": "nope"}, format="json")
    assert bad.status_code == 400 and "target" in bad.json()
    tested = ops.post(f"/api/notification-channels/{body['id']}/test/")
    assert tested.status_code == 200 and tested.json()["status"] == "failed" and tested.json()["error"]


def test_policies_and_levels(ops, sales):
    channel = ChannelFactory()
    policy = ops.post("/api/escalation-policies/", {"name": "ERP", "services": [sales.pk]}, format="json")
    assert policy.status_code == 201, policy.content
    pid = policy.json()["id"]
    level = ops.post(
        "/api/escalation-levels/",
        {"policy": pid, "order": 1, "delay_minutes": 5, "notify_channel": channel.pk},
        format="json",
    )
    assert level.status_code == 201, level.content
    nobody = ops.post("/api/escalation-levels/", {"policy": pid, "order": 2, "delay_minutes": 5}, format="json")
    assert nobody.status_code == 400
    duplicate = ops.post(
        "/api/escalation-levels/", {"policy": pid, "order": 1, "notify_channel": channel.pk}, format="json"
    )
    assert duplicate.status_code == 400
    assert len(ops.get(f"/api/escalation-policies/{pid}/").json()["levels"]) == 1


# --- Stats and status ----------------------------------------------------------------------------


def test_stats_api(ops, manager_user, business_user, incident):
    body = api(manager_user).get("/api/incident-stats/").json()
    assert body["counts"]["total"] == 1 and len(body["by_severity"]) == 4
    assert ops.get("/api/incident-stats/?since=2026-01-01&until=2026-12-31").status_code == 200
    assert "since" in ops.get("/api/incident-stats/?since=bad").json()
    assert api(business_user).get("/api/incident-stats/").status_code == 403


def test_status_api_for_business_users(business_user, sales, incident):
    body = api(business_user).get("/api/status/").json()
    sales_row = next(r for r in body if r["service"]["code"] == "sales")
    assert sales_row["state"] == "down"
    assert sales_row["incidents"] == []  # business users see the state, not the incident list


def test_status_api_shows_incidents_to_ops(ops, sales, incident):
    body = ops.get("/api/status/").json()
    assert next(r for r in body if r["service"]["code"] == "sales")["incidents"][0]["id"] == incident.pk
    assert ServiceFactory  # a second business service would be listed too
