"""Project-level pages: landing per role, dashboard, audit trail, login lockout, password change."""

import datetime

import pytest
from auditlog.models import LogEntry
from axes.models import AccessAttempt
from django.urls import reverse
from django.utils import timezone

from drills import services as drill_services
from plans import services as plan_services
from tests.drills.factories import make_drill
from tests.factories import (
    ActionItemFactory,
    IncidentFactory,
    RiskFactory,
    ServiceFactory,
    UserFactory,
)
from tests.training.factories import AssignmentFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("role", "landing"),
    [
        ("administrator", "/dashboard/"),
        ("it_operations", "/dashboard/"),
        ("manager", "/dashboard/"),
        ("business_user", "/status/"),
    ],
)
def test_each_role_lands_on_its_own_first_page(role_clients, role, landing):
    response = role_clients[role].get("/")
    assert response.status_code == 302
    assert response["Location"] == landing


def test_anonymous_visitors_are_sent_to_the_login_page(client):
    for url in ("/", "/dashboard/", "/audit/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("role", ["administrator", "it_operations", "manager", "business_user"])
def test_every_role_opens_the_dashboard(role_clients, role):
    assert role_clients[role].get(reverse("dashboard")).status_code == 200


def test_a_business_user_sees_no_risks_or_action_items_on_the_dashboard(business_client, manager_user):
    RiskFactory(title="Secret supplier risk", owner=manager_user)
    ActionItemFactory(title="Internal improvement", owner=manager_user)
    body = business_client.get(reverse("dashboard")).content.decode()
    assert "heatmap" not in body
    assert "Secret supplier risk" not in body and "Internal improvement" not in body


def _populate(n: int, owner) -> None:
    for i in range(n):
        service = ServiceFactory()
        RiskFactory(owner=owner, services=[service])
        ActionItemFactory(owner=owner)
        IncidentFactory(services=[service])
        make_drill(title=f"Drill {i}", steps=(10,))
        AssignmentFactory(user=UserFactory(), due_date=timezone.localdate())


def test_the_dashboard_shows_upcoming_drills_and_training_coverage_to_managers(
    manager_client, business_client, business_user
):
    soon = make_drill(title="WAN failover drill", scheduled_start=timezone.now() + datetime.timedelta(days=2))
    make_drill(title="Later drill", scheduled_start=timezone.now() + datetime.timedelta(days=20))
    done = make_drill(title="Old drill", scheduled_start=timezone.now() - datetime.timedelta(days=20))
    drill_services.drill_transition(drill=done, to="cancelled", reason="Month-end close.")
    AssignmentFactory(user=business_user, due_date=timezone.localdate() - datetime.timedelta(days=1))
    AssignmentFactory(user=UserFactory(), due_date=timezone.localdate() + datetime.timedelta(days=9))

    body = manager_client.get(reverse("dashboard")).content.decode()
    assert body.index("WAN failover drill") < body.index("Later drill")  # soonest first
    assert "Old drill" not in body
    assert "0 of 2 assignments completed" in body and "1 overdue" in body

    body = business_client.get(reverse("dashboard")).content.decode()
    assert soon.title not in body  # not one of their drills
    assert "assignments completed" not in body  # coverage is for managers


def test_the_dashboard_shows_services_risks_incidents_and_actions(manager_client, manager_user):
    ServiceFactory(name="Sales order-to-cash", criticality=1)
    RiskFactory(
        title="RAID controller failure",
        owner=manager_user,
        likelihood=5,
        impact=5,
        residual_likelihood=5,
        residual_impact=5,
    )
    body = manager_client.get(reverse("dashboard")).content.decode()
    assert "Sales order-to-cash" in body
    assert 'table class="heatmap' in body
    assert "RAID controller failure" in body  # a critical risk is due for review within 30 days


def test_the_dashboard_query_count_does_not_grow_with_the_data(manager_client, manager_user, django_assert_num_queries):
    _populate(2, manager_user)
    manager_client.get(reverse("dashboard"))  # warm the permission cache path once
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        manager_client.get(reverse("dashboard"))
    _populate(12, manager_user)
    # Session, user, groups and permissions; services; heat map (1 GROUP BY); levels; risks due;
    # plans due; action counts; incident counts, open incidents (+services prefetch), service states,
    # open action items, backup compliance: the same count whatever the number of rows.
    with django_assert_num_queries(len(small.captured_queries)):
        manager_client.get(reverse("dashboard"))


@pytest.mark.parametrize(
    ("role", "status"), [("administrator", 200), ("manager", 200), ("it_operations", 403), ("business_user", 403)]
)
def test_the_audit_trail_is_read_by_administrators_and_managers_only(role_clients, role, status):
    assert role_clients[role].get(reverse("audit-log")).status_code == status


def test_a_change_is_recorded_with_who_and_what(manager_client, manager_user):
    service = ServiceFactory(name="Payroll", rto_minutes=240)
    # Through a real request so the audit middleware knows who acted.
    response = manager_client.post(
        reverse("plans:service-edit", args=[service.pk]),
        {
            "name": "Payroll",
            "code": service.code,
            "kind": "business",
            "criticality": 2,
            "rto_minutes": 120,
            "rpo_minutes": 60,
            "mtpd_minutes": 480,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    entry = LogEntry.objects.get_for_object(service).filter(action=LogEntry.Action.UPDATE).latest("timestamp")
    assert entry.actor == manager_user
    assert entry.changes_dict["rto_minutes"] == ["240", "120"]
    page = manager_client.get(reverse("audit-log"), {"model": "erpservice"}).content.decode()
    assert "Payroll" in page and "RTO (minutes)" in page  # field names read as labels


def test_deleting_is_recorded_too(manager_user):
    service = ServiceFactory(name="Old reporting")
    pk = service.pk
    plan_services.service_delete(service=service)
    assert LogEntry.objects.filter(object_pk=str(pk), action=LogEntry.Action.DELETE).exists()


def test_repeated_failed_logins_lock_the_user_out_from_that_address_only(client, settings):
    settings.AXES_FAILURE_LIMIT = 3
    UserFactory(username="lena", role="it_operations")
    url = reverse("login")
    for _ in range(3):
        client.post(url, {"username": "lena", "password": "wrong"}, REMOTE_ADDR="10.0.0.5")
    locked = client.post(url, {"username": "lena", "password": "pass-Word-123"}, REMOTE_ADDR="10.0.0.5")
    assert locked.status_code == 429
    assert "Too many failed logins" in locked.content.decode()
    attempt = AccessAttempt.objects.get(username="lena")
    assert attempt.failures_since_start >= 3 and attempt.ip_address == "10.0.0.5"
    # The same person from another address is not locked.
    other = client.post(url, {"username": "lena", "password": "pass-Word-123"}, REMOTE_ADDR="10.0.0.9")
    assert other.status_code == 302


def test_a_wrong_password_shows_an_error_not_a_crash(client):
    UserFactory(username="lena")
    response = client.post(reverse("login"), {"username": "lena", "password": "nope"})
    assert response.status_code == 200
    assert "errorlist" in response.content.decode()


def test_people_change_their_password(ops_client, ops_user):
    response = ops_client.post(
        reverse("password_change"),
        {
            "old_password": "pass-Word-123",
            "new_password1": "a-new-Long-secret-77",
            "new_password2": "a-new-Long-secret-77",
        },
    )
    assert response.status_code == 302
    ops_user.refresh_from_db()
    assert ops_user.check_password("a-new-Long-secret-77")


def test_a_too_short_new_password_is_refused_with_a_reason(ops_client, ops_user):
    response = ops_client.post(
        reverse("password_change"), {"old_password": "pass-Word-123", "new_password1": "abc", "new_password2": "abc"}
    )
    assert response.status_code == 200
    assert "too short" in response.content.decode()
    ops_user.refresh_from_db()
    assert ops_user.check_password("pass-Word-123")


def test_logging_out_ends_the_session(ops_client):
    assert ops_client.post(reverse("logout")).status_code == 302
    assert ops_client.get(reverse("dashboard")).status_code == 302


def test_the_health_endpoint_answers_without_login(client):
    assert client.get("/healthz").json() == {"status": "ok"}
