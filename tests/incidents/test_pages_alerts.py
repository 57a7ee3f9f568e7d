"""The alert list and alert page."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from incidents import services
from incidents.models import Alert
from tests.factories import AlertFactory, IncidentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def alert(sales):
    return services.raise_alert(source="monitoring", fingerprint="http:sales", severity="sev2",
                                summary="Sales portal returns 500", service=sales, details={"status": 500})  # fmt: skip


@pytest.mark.parametrize("role", ["administrator", "it_operations", "manager"])
def test_responders_see_alerts(request, role, alert):
    client = request.getfixturevalue({"administrator": "admin_client", "it_operations": "ops_client",
                                      "manager": "manager_client"}[role])  # fmt: skip
    assert "Sales portal returns 500" in client.get(reverse("incidents:alert-list")).content.decode()
    page = client.get(reverse("incidents:alert-detail", args=[alert.pk])).content.decode()
    assert "http:sales" in page and "&quot;status&quot;: 500" in page and alert.incident.reference in page


def test_business_users_and_anonymous_visitors_see_no_alert(business_client, client, alert):
    for url in [reverse("incidents:alert-list"), reverse("incidents:alert-detail", args=[alert.pk])]:
        assert business_client.get(url).status_code == 403
        assert client.get(url).status_code == 302


def test_the_alert_list_filters_and_searches(ops_client, sales, shipping):
    AlertFactory(summary="Disk full on db1", service=sales, source="monitoring", status=Alert.Status.FIRING)
    AlertFactory(summary="Backup late", service=shipping, source="backups", status=Alert.Status.RESOLVED)
    url = reverse("incidents:alert-list")

    def summaries(**params):
        return {a.summary for a in ops_client.get(url, params).context["page"].rows}

    assert summaries() == {"Disk full on db1", "Backup late"}
    assert summaries(status="resolved") == {"Backup late"}
    assert summaries(source="monitoring") == {"Disk full on db1"}
    assert summaries(service=shipping.pk) == {"Backup late"}
    assert summaries(q="disk") == {"Disk full on db1"}


def test_the_alert_list_filters_by_incident(ops_client, sales):
    incident = IncidentFactory()
    AlertFactory(summary="Mine", incident=incident)
    AlertFactory(summary="Other")
    rows = ops_client.get(reverse("incidents:alert-list"), {"incident": incident.pk}).context["page"].rows
    assert [a.summary for a in rows] == ["Mine"]


def test_bad_alert_filters_are_ignored(ops_client, alert):
    response = ops_client.get(reverse("incidents:alert-list"), {"status": "burning", "service": "x", "after": "nope"})
    assert response.status_code == 200
    assert len(response.context["page"].rows) == 1


def test_the_alert_list_pages_by_keyset_with_a_constant_query_count(ops_client, sales, django_assert_max_num_queries):
    now = timezone.now()
    for n in range(60):
        AlertFactory(service=sales, incident=IncidentFactory(), last_seen=now - datetime.timedelta(minutes=n))
    # session, user, permissions (2), groups (menu), the alerts page with service/incident/silence
    # (one join), the filter form's services.
    with django_assert_max_num_queries(7):
        first = ops_client.get(reverse("incidents:alert-list")).context["page"]
    with CaptureQueriesContext(connection) as second_queries:
        second = ops_client.get(reverse("incidents:alert-list"), {"after": first.next_cursor}).context["page"]
    assert len(second_queries) <= 7
    assert len(first.rows) == 50 and len(second.rows) == 10
    assert not {a.pk for a in first.rows} & {a.pk for a in second.rows}
