import datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from incidents import services
from incidents.models import Incident, TimelineEntry
from tests.factories import PlanFactory, ServiceFactory, StepFactory, UserFactory, VersionFactory

pytestmark = pytest.mark.django_db

Status = Incident.Status


@pytest.fixture
def incident(ops_user, sales):
    return services.incident_open(title="Orders cannot be saved", severity="sev2", user=ops_user, services=[sales])


def kinds(incident):
    return list(incident.timeline.order_by("at", "id").values_list("kind", flat=True))


def test_opening_records_who_what_and_when(incident, ops_user, sales):
    assert incident.status == Status.OPEN
    assert incident.opened_by == ops_user
    assert list(incident.services.all()) == [sales]
    assert incident.detected_at == incident.opened_at
    assert incident.version == 1
    entry = incident.timeline.get()
    assert entry.kind == TimelineEntry.Kind.OPENED and entry.author == ops_user


def test_opening_refuses_a_missing_title_or_unknown_severity(ops_user):
    with pytest.raises(ValidationError) as exc:
        services.incident_open(title=" ", severity="sev2", user=ops_user)
    assert "title" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.incident_open(title="x", severity="sev9", user=ops_user)
    assert "severity" in exc.value.message_dict
    assert not Incident.objects.exists()


def test_opening_refuses_a_detection_time_in_the_future(ops_user):
    with pytest.raises(ValidationError) as exc:
        services.incident_open(
            title="x", severity="sev2", user=ops_user, detected_at=timezone.now() + datetime.timedelta(hours=2)
        )
    assert "detected_at" in exc.value.message_dict


def test_it_walks_the_whole_lifecycle_with_a_timestamp_for_each_status(incident, ops_user):
    start = timezone.now()
    with time_machine.travel(start + datetime.timedelta(minutes=5), tick=False):
        services.incident_acknowledge(incident=incident, user=ops_user)
    with time_machine.travel(start + datetime.timedelta(minutes=10), tick=False):
        services.incident_investigate(incident=incident, user=ops_user)
    with time_machine.travel(start + datetime.timedelta(minutes=30), tick=False):
        services.incident_mitigate(incident=incident, user=ops_user, note="Failed over")
    with time_machine.travel(start + datetime.timedelta(minutes=60), tick=False):
        services.incident_resolve(incident=incident, user=ops_user)
    with time_machine.travel(start + datetime.timedelta(minutes=90), tick=False):
        services.incident_close(incident=incident, user=ops_user)
    incident.refresh_from_db()
    assert incident.status == Status.CLOSED
    for field, minutes in [
        ("acknowledged_at", 5), ("investigating_at", 10), ("mitigated_at", 30), ("resolved_at", 60), ("closed_at", 90),
    ]:  # fmt: skip
        assert getattr(incident, field) == start + datetime.timedelta(minutes=minutes), field
    assert kinds(incident).count("status") == 5
    assert incident.version == 6
    mitigated = incident.timeline.filter(kind="status", data__to="mitigated").get()
    assert "Failed over" in mitigated.message and mitigated.author == ops_user


def test_skipping_ahead_counts_as_acknowledged(incident, ops_user):
    services.incident_resolve(incident=incident, user=ops_user)
    incident.refresh_from_db()
    assert incident.acknowledged_at == incident.resolved_at
    assert incident.next_escalation_at is None


@pytest.mark.parametrize(
    ("path", "illegal"),
    [
        ([], Status.CLOSED),
        ([Status.INVESTIGATING], Status.ACKNOWLEDGED),
        ([Status.RESOLVED], Status.MITIGATED),
        ([Status.RESOLVED, Status.CLOSED], Status.RESOLVED),
    ],
)
def test_illegal_transitions_are_refused_with_the_allowed_ones_named(incident, ops_user, path, illegal):
    for status in path:
        services.incident_transition(incident=incident, to=status, user=ops_user)
    incident.refresh_from_db()
    before = (incident.status, incident.version)
    with pytest.raises(ValidationError) as exc:
        services.incident_transition(incident=incident, to=illegal, user=ops_user)
    message = exc.value.message_dict["status"][0]
    assert "cannot go from" in message and "Allowed from here" in message
    incident.refresh_from_db()
    assert (incident.status, incident.version) == before


def test_acknowledging_twice_names_who_did_it_first(incident, ops_user):
    other = UserFactory(username="olga", first_name="Olga", last_name="Ops", role="it_operations")
    services.incident_acknowledge(incident=incident, user=other)
    with pytest.raises(ValidationError) as exc:
        services.incident_acknowledge(incident=incident, user=ops_user)
    assert "already acknowledged" in exc.value.message_dict["status"][0]
    assert "Olga Ops" in exc.value.message_dict["status"][0]


def test_mitigated_can_fall_back_to_investigating(incident, ops_user):
    services.incident_mitigate(incident=incident, user=ops_user)
    services.incident_investigate(incident=incident, user=ops_user, note="The workaround did not hold")
    incident.refresh_from_db()
    assert incident.status == Status.INVESTIGATING


def test_reopening_is_recorded_with_its_reason(incident, ops_user):
    services.incident_acknowledge(incident=incident, user=ops_user)
    services.incident_resolve(incident=incident, user=ops_user)
    services.incident_close(incident=incident, user=ops_user)
    incident.refresh_from_db()
    acknowledged_at = incident.acknowledged_at
    services.incident_reopen(incident=incident, user=ops_user, reason="Orders fail again")
    incident.refresh_from_db()
    assert incident.status == Status.INVESTIGATING
    assert incident.reopen_count == 1 and incident.reopened_at is not None
    assert incident.resolved_at is None and incident.closed_at is None
    assert incident.acknowledged_at == acknowledged_at  # the first response time is kept
    entry = incident.timeline.filter(data__reopen=True).get()
    assert "Orders fail again" in entry.message


def test_reopening_needs_a_reason_and_a_finished_incident(incident, ops_user):
    with pytest.raises(ValidationError) as exc:
        services.incident_reopen(incident=incident, user=ops_user, reason="x")
    assert "only a resolved or closed" in exc.value.message_dict["status"][0]
    services.incident_resolve(incident=incident, user=ops_user)
    with pytest.raises(ValidationError) as exc:
        services.incident_reopen(incident=incident, user=ops_user, reason="")
    assert "reason" in exc.value.message_dict


def test_an_edit_against_an_old_version_is_refused_naming_who_changed_it(incident, ops_user):
    other = UserFactory(username="rita", first_name="Rita", last_name="Racer", role="it_operations")
    seen_version = incident.version
    services.incident_acknowledge(incident=incident, user=other, expected_version=seen_version)
    with pytest.raises(ValidationError) as exc:
        services.incident_update(incident=incident, user=ops_user, expected_version=seen_version, title="New title")
    message = exc.value.message_dict["version"][0]
    assert "Rita Racer" in message and "reload" in message
    incident.refresh_from_db()
    assert incident.title == "Orders cannot be saved"


def test_an_edit_with_the_current_version_applies_and_is_logged(incident, ops_user, erp_db):
    commander = UserFactory(role="it_operations")
    updated = services.incident_update(
        incident=incident,
        user=ops_user,
        expected_version=incident.version,
        title="Orders and invoices fail",
        business_impact="No orders since 9:00",
        severity="sev1",
        commander=commander,
        services=[erp_db],
    )
    assert updated.version == 2
    incident.refresh_from_db()
    assert incident.title == "Orders and invoices fail"
    assert incident.severity == "sev1" and incident.commander == commander
    assert list(incident.services.all()) == [erp_db]
    assert {"edit", "severity", "assignment"} <= set(kinds(incident))


def test_an_edit_refuses_unknown_fields_and_bad_values(incident, ops_user):
    with pytest.raises(ValidationError) as exc:
        services.incident_update(incident=incident, user=ops_user, expected_version=1, status="closed")
    assert "status" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.incident_update(incident=incident, user=ops_user, expected_version=1, severity="bad")
    assert "severity" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.incident_update(incident=incident, user=ops_user, expected_version=1, title="")
    assert "title" in exc.value.message_dict


def test_notes_do_not_bump_the_version(incident, ops_user):
    services.incident_add_note(incident=incident, user=ops_user, message="Called the DBA")
    incident.refresh_from_db()
    assert incident.version == 1
    note = incident.timeline.get(kind="note")
    assert note.message == "Called the DBA" and note.author == ops_user
    with pytest.raises(ValidationError) as exc:
        services.incident_add_note(incident=incident, user=ops_user, message="  ")
    assert "message" in exc.value.message_dict


def test_severity_change_and_commander_assignment_are_logged(incident, ops_user):
    services.incident_change_severity(incident=incident, user=ops_user, severity="sev1")
    services.incident_assign_commander(incident=incident, user=ops_user, commander=ops_user)
    incident.refresh_from_db()
    assert incident.severity == "sev1" and incident.commander == ops_user
    assert kinds(incident)[-2:] == ["severity", "assignment"]


def test_the_timeline_is_append_only(incident):
    entry = incident.timeline.first()
    entry.message = "rewritten"
    with pytest.raises(ValidationError):
        entry.save()
    with pytest.raises(ValidationError):
        entry.delete()
    with pytest.raises(ValidationError):
        TimelineEntry.objects.filter(pk=entry.pk).update(message="x")
    with pytest.raises(ValidationError):
        TimelineEntry.objects.filter(pk=entry.pk).delete()
    assert TimelineEntry.objects.get(pk=entry.pk).message != "rewritten"


def test_deleting_an_incident_still_removes_its_timeline(incident):
    incident.delete()
    assert not TimelineEntry.objects.exists()


def test_public_update_is_stored_for_the_status_page(incident, ops_user):
    services.incident_publish_update(incident=incident, user=ops_user, message="Take orders on paper until 14:00")
    incident.refresh_from_db()
    assert incident.public_update == "Take orders on paper until 14:00"
    assert incident.public_update_at is not None


# --- Plans and checklists ----------------------------------------------------------------------


@pytest.fixture
def published_plan(sales):
    plan = PlanFactory(title="ERP down", services=[sales])
    version = VersionFactory(plan=plan, number=1)
    StepFactory(version=version, phase="recover", order=1, title="Restore the database")
    StepFactory(version=version, phase="detect", order=1, title="Confirm the outage")
    StepFactory(version=version, phase="assess", order=2, title="Assess the impact")
    version.status = "published"
    version.save()
    return plan


def test_attaching_a_plan_copies_its_published_steps_in_phase_order(incident, ops_user, published_plan):
    items = services.incident_attach_plan(incident=incident, user=ops_user, plan=published_plan)
    assert [i.title for i in items] == ["Confirm the outage", "Assess the impact", "Restore the database"]
    incident.refresh_from_db()
    assert incident.plan == published_plan
    assert incident.plan_version.number == 1
    assert "plan_attached" in kinds(incident)


def test_attaching_the_same_plan_twice_or_a_plan_without_published_version_is_refused(
    incident, ops_user, published_plan
):
    services.incident_attach_plan(incident=incident, user=ops_user, plan=published_plan)
    with pytest.raises(ValidationError) as exc:
        services.incident_attach_plan(incident=incident, user=ops_user, plan=published_plan)
    assert "already attached" in exc.value.message_dict["plan"][0]
    draft_only = PlanFactory()
    VersionFactory(plan=draft_only)
    with pytest.raises(ValidationError) as exc:
        services.incident_attach_plan(incident=incident, user=ops_user, plan=draft_only)
    assert "no published version" in exc.value.message_dict["plan"][0]


def test_checklist_steps_record_who_did_them_and_can_be_undone(incident, ops_user, published_plan):
    item = services.incident_attach_plan(incident=incident, user=ops_user, plan=published_plan)[0]
    done = services.checklist_item_done(item=item, user=ops_user, note="Confirmed by monitoring")
    assert done.done_by == ops_user and done.done_at is not None
    with pytest.raises(ValidationError) as exc:
        services.checklist_item_done(item=item, user=ops_user)
    assert "already done" in exc.value.message_dict["item"][0]
    undone = services.checklist_item_undo(item=item, user=ops_user)
    assert undone.done_at is None
    assert kinds(incident).count("plan_step") == 2


def test_the_plan_covering_the_services_is_proposed(incident, published_plan, erp_db):
    from incidents.selectors import propose_plans

    other = PlanFactory(title="Unrelated", services=[ServiceFactory()])
    VersionFactory(plan=other, status="published")
    db_plan = PlanFactory(title="Database failover", services=[erp_db])
    VersionFactory(plan=db_plan, status="published")
    assert propose_plans(incident=incident) == [published_plan, db_plan]


def test_fallbacks_of_the_business_services_hit_are_linked(erp_db, sales, shipping, ops_user):
    from incidents.selectors import fallbacks_for_incident
    from tests.factories import FallbackFactory

    paper_orders = FallbackFactory(service=sales, title="Paper orders")
    paper_delivery = FallbackFactory(service=shipping, title="Paper delivery notes")
    incident = services.incident_open(title="DB down", severity="sev1", user=ops_user, services=[erp_db])
    assert set(fallbacks_for_incident(incident=incident)) == {paper_orders, paper_delivery}
