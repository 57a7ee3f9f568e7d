"""The status page for business users, the response statistics, and incident response on the
dashboard, the landing page and the menu."""

import datetime

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from incidents import services
from tests.factories import ActionItemFactory, FallbackFactory, IncidentFactory, ServiceFactory

pytestmark = pytest.mark.django_db


def _client(request, role):
    return request.getfixturevalue(
        {
            "administrator": "admin_client",
            "it_operations": "ops_client",
            "manager": "manager_client",
            "business_user": "business_client",
            "anonymous": "client",
        }[role]
    )


# --- The status page ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["administrator", "it_operations", "manager", "business_user"])
def test_everyone_logged_in_sees_the_status_page(request, role, sales):
    response = _client(request, role).get(reverse("status"))
    assert response.status_code == 200
    assert "All ERP services are working normally." in response.content.decode()


def test_an_anonymous_visitor_logs_in_first(client):
    response = client.get(reverse("status"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_status_page_derives_down_and_degraded_with_fallbacks_and_the_latest_update(
    business_client, ops_user, sales, shipping, erp_db
):
    payroll = ServiceFactory(name="Payroll", code="payroll")
    FallbackFactory(service=sales, title="Take orders on paper")
    FallbackFactory(service=shipping, title="Ship with handwritten delivery notes")
    FallbackFactory(service=payroll, title="Pay last month's amounts")
    down = services.incident_open(title="Orders fail", severity="sev2", user=ops_user, services=[sales])
    services.incident_publish_update(incident=down, user=ops_user, message="Use the paper order form until 11:00.")
    # The database is slow: every service on it is degraded, through the dependency.
    services.incident_open(title="DB slow", severity="sev3", user=ops_user, services=[erp_db])
    # A drill does not count.
    services.incident_open(title="Drill", severity="sev1", user=ops_user, services=[payroll], is_drill=True)
    response = business_client.get(reverse("status"))
    states = {
        row["service"].name: row["state"] for row in [*response.context["troubled"], *response.context["operational"]]
    }
    assert states == {"Sales": "down", "Shipping": "degraded", "Payroll": "operational"}
    page = response.content.decode()
    assert "2 services have a problem." in page
    assert "Use the paper order form until 11:00." in page
    assert "Take orders on paper" in page and "Ship with handwritten delivery notes" in page
    assert "Pay last month&#x27;s amounts" not in page and "Pay last month's amounts" not in page
    # Down before degraded.
    assert page.index("Take orders on paper") < page.index("Ship with handwritten delivery notes")
    # Infrastructure services are not listed to business users.
    assert erp_db.name not in page


def test_a_troubled_service_without_a_fallback_says_whom_to_call(business_client, ops_user, sales):
    services.incident_open(title="Orders fail", severity="sev1", user=ops_user, services=[sales])
    assert "call the IT service desk" in business_client.get(reverse("status")).content.decode()


def test_a_resolved_incident_brings_the_service_back(business_client, ops_user, sales):
    incident = services.incident_open(title="Orders fail", severity="sev1", user=ops_user, services=[sales])
    services.incident_resolve(incident=incident, user=ops_user)
    assert "All ERP services are working normally." in business_client.get(reverse("status")).content.decode()


# --- Landing page, menu, dashboard ---------------------------------------------------------------------


def test_business_users_land_on_the_status_page_and_others_on_the_dashboard(business_client, ops_client):
    assert business_client.get(reverse("home"))["Location"] == reverse("status")
    assert ops_client.get(reverse("home"))["Location"] == reverse("dashboard")


def test_the_menu_shows_incident_entries_by_role(business_client, ops_client, manager_client):
    business = business_client.get(reverse("status")).content.decode()
    assert (
        'href="/status/"' in business and 'href="/incidents/"' not in business and "/incidents/stats/" not in business
    )
    for client in (ops_client, manager_client):
        page = client.get(reverse("status")).content.decode()
        assert (
            'href="/incidents/"' in page and 'href="/incidents/alerts/"' in page and 'href="/incidents/stats/"' in page
        )
    # On a nested page only the deepest entry is current.
    page = ops_client.get(reverse("incidents:alert-list")).content.decode()
    assert page.count('aria-current="page" class="active"') == 1
    assert '<a href="/incidents/alerts/" aria-current="page" class="active">' in page


def test_the_dashboard_shows_open_incidents_service_states_and_action_items(ops_client, ops_user, sales):
    services.incident_open(title="Orders fail", severity="sev1", user=ops_user, services=[sales])
    IncidentFactory(title="Old one", severity="sev3", status="resolved")
    ActionItemFactory(title="Test the restore monthly", owner=ops_user)
    response = ops_client.get(reverse("dashboard"))
    assert response.context["open_by_severity"] == {"sev1": 1, "sev2": 0, "sev3": 0, "sev4": 0}
    page = response.content.decode()
    assert "Orders fail" in page and "Old one" not in page
    assert "Service status" in page and "Test the restore monthly" in page


# --- Statistics ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("role, status", [("administrator", 200), ("it_operations", 200), ("manager", 200),
                                          ("business_user", 403)])  # fmt: skip
def test_statistics_are_for_responders_and_managers(request, role, status):
    assert _client(request, role).get(reverse("incidents:stats")).status_code == status


def test_statistics_show_charts_and_tables_of_tta_and_ttr(manager_client, ops_user, sales):
    start = timezone.now() - datetime.timedelta(days=40)
    for minutes_to_ack, hours_to_fix in [(4, 2), (10, 6)]:
        with time_machine.travel(start, tick=False):
            incident = services.incident_open(title="x", severity="sev2", user=ops_user, services=[sales])
        with time_machine.travel(start + datetime.timedelta(minutes=minutes_to_ack), tick=False):
            services.incident_acknowledge(incident=incident, user=ops_user)
        with time_machine.travel(start + datetime.timedelta(hours=hours_to_fix), tick=False):
            services.incident_resolve(incident=incident, user=ops_user)
    services.incident_open(title="still open", severity="sev4", user=ops_user, services=[sales])
    response = manager_client.get(reverse("incidents:stats"))
    assert response.context["counts"] == {"total": 3, "open": 1, "closed": 2}
    page = response.content.decode()
    assert page.count("<svg") >= 7
    sev2 = next(r for r in response.context["by_severity"] if r["key"] == "sev2")
    assert (sev2["tta_mean_text"], sev2["ttr_median_text"]) == ("7 min", "4 h")
    assert "Sales" in page


def test_statistics_filter_by_period_and_refuse_a_reversed_one(manager_client, ops_user, sales):
    IncidentFactory(services=[sales], opened_at=timezone.now() - datetime.timedelta(days=100),
                    detected_at=timezone.now() - datetime.timedelta(days=100))  # fmt: skip
    IncidentFactory(services=[sales])
    since = (timezone.now() - datetime.timedelta(days=10)).date().isoformat()
    assert manager_client.get(reverse("incidents:stats"), {"since": since}).context["counts"]["total"] == 1
    response = manager_client.get(reverse("incidents:stats"), {"since": since, "until": "2000-01-01"})
    assert response.status_code == 200
    assert "The end date is before the start date." in response.content.decode()
    response = manager_client.get(reverse("incidents:stats"), {"since": "yesterday"})
    assert response.status_code == 200 and response.context["counts"]["total"] == 2


def test_statistics_with_no_incident(manager_client):
    assert "No incident in this period." in manager_client.get(reverse("incidents:stats")).content.decode()


def test_a_business_user_dashboard_shows_service_states_but_no_incident(business_client, ops_user, sales):
    services.incident_open(title="Orders fail", severity="sev1", user=ops_user, services=[sales])
    response = business_client.get(reverse("dashboard"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Service status" in page and "Orders fail" not in page and "INC-" not in page
