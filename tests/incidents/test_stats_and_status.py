import datetime

import pytest

from incidents import services
from incidents.models import Incident
from tests.factories import FallbackFactory, IncidentFactory, ServiceFactory

pytestmark = pytest.mark.django_db

JAN = datetime.datetime(2026, 1, 10, 8, 0, tzinfo=datetime.UTC)
FEB = datetime.datetime(2026, 2, 10, 8, 0, tzinfo=datetime.UTC)
MIN = datetime.timedelta(minutes=1)


def made(opened, severity, services, ack_min=None, resolved_min=None, detected_before_min=0, **kwargs):
    incident = IncidentFactory(
        opened_at=opened,
        detected_at=opened - detected_before_min * MIN,
        severity=severity,
        acknowledged_at=opened + ack_min * MIN if ack_min is not None else None,
        resolved_at=opened + resolved_min * MIN if resolved_min is not None else None,
        status=Incident.Status.RESOLVED if resolved_min is not None else Incident.Status.OPEN,
        services=services,
        **kwargs,
    )
    return incident


@pytest.fixture
def data_set(sales, shipping):
    # TTA (min):  sev1: 2, 4, 12 → mean 6, median 4.   sev3: 10 (one never acknowledged).
    # TTR (min, from detection): sev1: 60+5, 120, 30 → mean 71.67, median 65.
    made(JAN, "sev1", [sales], ack_min=2, resolved_min=60, detected_before_min=5)
    made(JAN + MIN, "sev1", [sales, shipping], ack_min=4, resolved_min=120)
    made(FEB, "sev1", [shipping], ack_min=12, resolved_min=30)
    made(FEB, "sev3", [sales], ack_min=10)
    made(FEB, "sev3", [sales])
    made(FEB, "sev1", [sales], ack_min=1000, resolved_min=1000, is_drill=True)  # drills never count


def by_key(rows):
    return {r["key"]: r for r in rows}


def test_counts_leave_drills_out(data_set):
    assert services.response_stats()["counts"] == {"total": 5, "open": 2, "closed": 3}
    assert services.response_stats(include_drills=True)["counts"]["total"] == 6


def test_mean_and_median_by_severity(data_set):
    rows = by_key(services.response_stats()["by_severity"])
    assert list(rows) == ["sev1", "sev2", "sev3", "sev4"]
    sev1 = rows["sev1"]
    assert sev1["count"] == 3
    assert sev1["tta_mean"] == 360.0 and sev1["tta_median"] == 240.0
    assert sev1["ttr_mean"] == pytest.approx(4300.0) and sev1["ttr_median"] == 3900.0
    assert rows["sev3"]["count"] == 2 and rows["sev3"]["tta_mean"] == 600.0 and rows["sev3"]["ttr_mean"] is None
    assert rows["sev2"]["count"] == 0 and rows["sev2"]["tta_mean"] is None


def test_by_service_counts_an_incident_for_each_service_it_hit(data_set, sales, shipping):
    rows = by_key(services.response_stats()["by_service"])
    assert rows[sales.pk]["label"] == "Sales" and rows[sales.pk]["count"] == 4
    assert rows[shipping.pk]["count"] == 2
    assert rows[shipping.pk]["tta_mean"] == 480.0  # 4 and 12 minutes


def test_by_month(data_set):
    rows = by_key(services.response_stats()["by_month"])
    assert list(rows) == ["2026-01", "2026-02"]
    assert rows["2026-01"]["count"] == 2 and rows["2026-01"]["tta_median"] == 180.0
    assert rows["2026-02"]["count"] == 3


def test_a_period_filter(data_set):
    stats = services.response_stats(since=FEB - datetime.timedelta(days=1))
    assert stats["counts"]["total"] == 3


def test_no_incidents_no_numbers(db):
    stats = services.response_stats()
    assert stats["counts"] == {"total": 0, "open": 0, "closed": 0}
    assert stats["by_service"] == [] and stats["by_month"] == []


# --- Status page -------------------------------------------------------------------------------


def states():
    return {s["service"].code: s for s in services.service_states()}


def test_everything_operational_without_incidents(sales, shipping):
    result = states()
    assert set(result) == {"sales", "shipping"}  # the infrastructure is not listed
    assert {s["state"] for s in result.values()} == {"operational"}
    assert result["sales"]["fallbacks"] == []


def test_sev3_degrades_and_sev2_takes_down_with_fallback_and_public_update(sales, shipping, ops_user):
    paper = FallbackFactory(service=sales, title="Paper orders")
    incident = services.incident_open(title="Slow", severity="sev3", services=[sales], user=ops_user)
    assert states()["sales"]["state"] == "degraded"
    services.incident_publish_update(incident=incident, user=ops_user, message="Use paper forms")
    services.incident_change_severity(incident=incident, user=ops_user, severity="sev2")
    sales_state = states()["sales"]
    assert sales_state["state"] == "down"
    assert sales_state["fallbacks"] == [paper]
    assert sales_state["public_update"] == "Use paper forms"
    assert states()["shipping"]["state"] == "operational"


def test_an_incident_on_the_infrastructure_takes_down_what_depends_on_it(erp_db, sales, shipping):
    services.incident_open(title="DB down", severity="sev1", services=[erp_db])
    result = states()
    assert result["sales"]["state"] == result["shipping"]["state"] == "down"


def test_resolved_and_drill_incidents_do_not_count(sales, ops_user):
    incident = services.incident_open(title="x", severity="sev1", services=[sales])
    services.incident_resolve(incident=incident, user=ops_user)
    services.incident_open(title="drill", severity="sev1", services=[sales], is_drill=True)
    assert states()["sales"]["state"] == "operational"


def test_the_status_query_count_stays_flat(sales, django_assert_max_num_queries):
    for i in range(10):
        service = ServiceFactory(name=f"S{i}")
        FallbackFactory(service=service)
        services.incident_open(title=f"x{i}", severity="sev2", services=[service])
    # business services, their fallbacks, open incidents, their services, the dependency graph
    with django_assert_max_num_queries(5):
        assert len(services.service_states()) == 11
