"""The alert contract (DESIGN.md): dedup, grouping, dependency grouping, severity, silences."""

import datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from incidents import services
from incidents.models import Alert, Incident
from tests.factories import ServiceFactory, SilenceFactory, UserFactory

pytestmark = pytest.mark.django_db


def raise_(fingerprint="check:1", severity="sev3", service=None, **kwargs):
    return services.raise_alert(
        source=kwargs.pop("source", "monitoring"),
        fingerprint=fingerprint,
        severity=severity,
        summary=kwargs.pop("summary", f"{fingerprint} failing"),
        service=service,
        **kwargs,
    )


def test_a_new_alert_opens_an_incident(sales):
    alert = raise_(service=sales, severity="sev2", summary="Sales API down")
    incident = alert.incident
    assert incident.title == "Sales API down" and incident.severity == "sev2"
    assert incident.opened_by is None
    assert list(incident.services.all()) == [sales]
    assert incident.detected_at == alert.first_seen
    assert list(incident.timeline.values_list("kind", flat=True)) == ["opened", "alert_attached"]


def test_raising_again_bumps_the_counter_and_last_seen_only(sales):
    start = timezone.now()
    first = raise_(service=sales, at=start)
    again = raise_(service=sales, at=start + datetime.timedelta(minutes=1), summary="still failing")
    assert again.pk == first.pk
    again.refresh_from_db()
    assert again.count == 2
    assert again.last_seen == start + datetime.timedelta(minutes=1)
    assert again.first_seen == start
    assert Alert.objects.count() == 1 and Incident.objects.count() == 1
    assert first.incident.timeline.count() == 2  # repeats do not flood the timeline


def test_a_second_alert_of_the_same_service_joins_its_open_incident(sales):
    a = raise_("check:1", service=sales)
    b = raise_("check:2", service=sales)
    assert a.incident_id == b.incident_id
    assert Incident.objects.count() == 1


def test_an_alert_of_a_service_whose_dependency_has_an_open_incident_joins_that_incident(erp_db, sales, shipping):
    db_alert = raise_("db:down", service=erp_db, severity="sev1")
    sales_alert = raise_("sales:http", service=sales)
    shipping_alert = raise_("shipping:http", service=shipping)
    assert sales_alert.incident_id == db_alert.incident_id == shipping_alert.incident_id
    assert Incident.objects.count() == 1  # the database being down is one incident, not three
    assert set(db_alert.incident.services.all()) == {erp_db, sales, shipping}


def test_the_database_alert_joins_a_recent_alert_incident_of_a_service_depending_on_it(erp_db, sales, shipping):
    sales_alert = raise_("sales:http", service=sales)
    db_alert = raise_("db:down", service=erp_db, severity="sev1")
    shipping_alert = raise_("shipping:http", service=shipping)
    assert db_alert.incident_id == sales_alert.incident_id == shipping_alert.incident_id
    incident = Incident.objects.get()
    assert incident.severity == "sev1"


def test_an_old_or_human_incident_downstream_does_not_swallow_a_new_database_outage(erp_db, sales, ops_user):
    services.incident_open(title="Sales report slow", severity="sev4", user=ops_user, services=[sales])
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=2)):
        db_alert = raise_("db:down", service=erp_db, severity="sev1")
    assert db_alert.incident.title == "db:down failing"
    assert Incident.objects.count() == 2


def test_unrelated_services_get_separate_incidents(sales):
    other = ServiceFactory(name="Payroll")
    a = raise_("a", service=sales)
    b = raise_("b", service=other)
    assert a.incident_id != b.incident_id


def test_a_more_severe_alert_raises_the_incident_severity(sales):
    a = raise_("check:1", service=sales, severity="sev3")
    raise_("check:2", service=sales, severity="sev1")
    incident = Incident.objects.get(pk=a.incident_id)
    assert incident.severity == "sev1"
    assert incident.timeline.filter(kind="severity").count() == 1


def test_a_repeat_with_a_higher_severity_raises_both(sales):
    a = raise_(service=sales, severity="sev4")
    raise_(service=sales, severity="sev2")
    a.refresh_from_db()
    assert a.severity == "sev2"
    assert Incident.objects.get().severity == "sev2"


def test_a_less_severe_alert_does_not_lower_the_incident(sales):
    a = raise_("check:1", service=sales, severity="sev1")
    raise_("check:2", service=sales, severity="sev4")
    assert Incident.objects.get(pk=a.incident_id).severity == "sev1"


def test_resolving_writes_a_timeline_entry_and_leaves_the_incident_open(sales):
    a = raise_(service=sales)
    resolved = services.resolve_alert(source="monitoring", fingerprint="check:1")
    assert resolved.pk == a.pk and resolved.status == "resolved" and resolved.resolved_at
    incident = Incident.objects.get()
    assert incident.status == "open"
    assert incident.timeline.filter(kind="alert_resolved").exists()


def test_resolving_an_unknown_alert_returns_none():
    assert services.resolve_alert(source="monitoring", fingerprint="nope") is None


def test_a_raise_after_resolve_is_a_new_alert_on_the_same_open_incident():
    first = raise_("check:9")  # no service: only its own key groups it
    services.resolve_alert(source="monitoring", fingerprint="check:9")
    second = raise_("check:9")
    assert second.pk != first.pk
    assert second.incident_id == first.incident_id


def test_resolving_the_incident_resolves_its_alerts_and_the_next_raise_opens_a_new_incident(sales, ops_user):
    a = raise_(service=sales)
    services.incident_resolve(incident=a.incident, user=ops_user)
    a.refresh_from_db()
    assert a.status == "resolved"
    b = raise_(service=sales)
    assert b.pk != a.pk and b.incident_id != a.incident_id


def test_a_still_firing_alert_of_a_resolved_incident_groups_afresh_on_repeat(sales, ops_user):
    # As if the alert row was locked while a person resolved the incident (skip_locked).
    a = raise_(service=sales)
    Incident.objects.filter(pk=a.incident_id).update(status="resolved")
    again = raise_(service=sales)
    assert again.pk == a.pk
    assert again.incident_id != a.incident_id
    assert again.incident.is_open


def test_drill_alerts_stay_apart_from_real_incidents(sales):
    real = raise_("check:1", service=sales)
    drill = raise_("drill:1", service=sales, is_drill=True, source="drill")
    assert drill.incident_id != real.incident_id
    assert drill.incident.is_drill and not real.incident.is_drill


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("source", {"source": ""}),
        ("fingerprint", {"fingerprint": ""}),
        ("severity", {"severity": "critical"}),
        ("summary", {"summary": ""}),
        ("details", {"details": ["not", "an", "object"]}),
    ],
)
def test_bad_input_names_the_field(field, kwargs):
    args = {"source": "monitoring", "fingerprint": "x", "severity": "sev3", "summary": "s"} | kwargs
    with pytest.raises(ValidationError) as exc:
        services.raise_alert(**args)
    assert field in exc.value.message_dict
    assert not Alert.objects.exists()


# --- Silences and maintenance windows ----------------------------------------------------------


def test_a_silenced_alert_is_stored_as_silenced_and_opens_nothing(sales):
    silence = SilenceFactory(service=sales, source="")
    alert = raise_(service=sales)
    assert alert.status == "silenced" and alert.silence == silence
    assert alert.incident is None
    assert not Incident.objects.exists()
    again = raise_(service=sales)
    assert again.pk == alert.pk and again.status == "silenced"
    again.refresh_from_db()
    assert again.count == 2


def test_silence_matchers_must_all_match(sales):
    SilenceFactory(source="monitoring", fingerprint_pattern=r"^disk:", summary_pattern="tmp")
    assert raise_("disk:/var", summary="/var almost full").status == "firing"
    assert raise_("disk:/tmp", summary="/tmp almost full").status == "silenced"
    assert raise_("disk:/tmp2", summary="tmp full", source="backups").status == "firing"


def test_an_expired_silence_stops_applying_by_itself(sales):
    now = timezone.now()
    SilenceFactory(
        service=sales,
        source="",
        starts_at=now - datetime.timedelta(hours=1),
        ends_at=now + datetime.timedelta(minutes=10),
    )
    alert = raise_(service=sales, at=now)
    assert alert.status == "silenced"
    with time_machine.travel(now + datetime.timedelta(minutes=11), tick=False):
        again = raise_(service=sales)
        fresh = raise_("check:2", service=sales)
    assert again.pk == alert.pk and again.status == "firing" and again.incident is not None
    assert fresh.status == "firing" and fresh.incident_id == again.incident_id


def test_a_future_maintenance_window_does_not_apply_yet(sales):
    now = timezone.now()
    SilenceFactory(
        kind="maintenance",
        service=sales,
        source="",
        starts_at=now + datetime.timedelta(days=1),
        ends_at=now + datetime.timedelta(days=1, hours=2),
    )
    assert raise_(service=sales).status == "firing"


def test_silence_validation_names_the_field(ops_user):
    now = timezone.now()
    with pytest.raises(ValidationError) as exc:
        services.silence_create(
            user=ops_user, reason="x", starts_at=now, ends_at=now - datetime.timedelta(hours=1), source="m"
        )
    assert "ends_at" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.silence_create(
            user=ops_user, reason="x", ends_at=now + datetime.timedelta(hours=1), fingerprint_pattern="(["
        )
    assert "fingerprint_pattern" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.silence_create(user=ops_user, reason="x", ends_at=now + datetime.timedelta(hours=1))
    assert "__all__" in exc.value.message_dict


def test_expiring_a_silence_ends_it_now(sales, ops_user):
    silence = services.silence_create(
        user=ops_user, reason="Patching", service=sales, ends_at=timezone.now() + datetime.timedelta(hours=1)
    )
    assert raise_(service=sales).status == "silenced"
    services.silence_expire(silence=silence, user=ops_user)
    assert raise_(service=sales).status == "firing"
    with pytest.raises(ValidationError):
        services.silence_expire(silence=silence, user=ops_user)


def test_the_alert_contract_works_with_a_user_free_source():
    UserFactory()  # alerts need no user at all
    alert = raise_("backup:nightly", source="backups")
    assert alert.incident.opened_by is None
