"""The drill lifecycle: planned → running → completed → reported, or cancelled; refusals are clear."""

import datetime

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from drills import services
from drills.models import Drill
from tests.factories import UserFactory

from .factories import make_drill, make_scenario

pytestmark = pytest.mark.django_db
S = Drill.Status
T0 = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)


def _error(excinfo, field="status") -> str:
    return " ".join(excinfo.value.message_dict[field])


def test_a_drill_goes_through_its_whole_life():
    drill = make_drill()
    drill = services.drill_transition(drill=drill, to=S.RUNNING, at=T0)
    assert drill.status == S.RUNNING and drill.started_at == T0
    drill = services.drill_transition(
        drill=drill, to=S.COMPLETED, hypothesis_held=True, at=T0 + datetime.timedelta(hours=2)
    )
    assert drill.status == S.COMPLETED and drill.passed is True  # nothing measured missed its target
    drill = services.drill_transition(drill=drill, to=S.REPORTED)
    assert drill.status == S.REPORTED and drill.reported_at is not None


@pytest.mark.parametrize(
    ("path", "to", "expected"),
    [
        ((), S.COMPLETED, "A planned drill cannot become completed. Next possible: running, cancelled."),
        ((), S.REPORTED, "A planned drill cannot become reported."),
        ((S.RUNNING,), S.RUNNING, "This drill is already running."),
        ((S.RUNNING,), S.REPORTED, "Next possible: completed, cancelled."),
    ],
)
def test_refused_transitions_say_what_is_possible(path, to, expected):
    drill = make_drill()
    for step in path:
        drill = services.drill_transition(drill=drill, to=step)
    with pytest.raises(ValidationError) as excinfo:
        services.drill_transition(drill=drill, to=to, hypothesis_held=True)
    assert expected in _error(excinfo)
    drill.refresh_from_db()
    assert drill.status == (path[-1] if path else S.PLANNED)


def test_a_reported_or_cancelled_drill_is_final():
    drill = make_drill()
    drill = services.drill_transition(drill=drill, to=S.CANCELLED, reason="Month-end close")
    with pytest.raises(ValidationError) as excinfo:
        services.drill_transition(drill=drill, to=S.RUNNING)
    assert "It is final." in _error(excinfo)


def test_cancelling_needs_a_reason_and_completing_needs_the_hypothesis_answer():
    drill = make_drill()
    with pytest.raises(ValidationError) as excinfo:
        services.drill_transition(drill=drill, to=S.CANCELLED, reason="  ")
    assert "reason" in excinfo.value.message_dict
    drill = services.drill_transition(drill=drill, to=S.RUNNING)
    with pytest.raises(ValidationError) as excinfo:
        services.drill_transition(drill=drill, to=S.COMPLETED)
    assert "hypothesis_held" in excinfo.value.message_dict
    assert Drill.objects.get(pk=drill.pk).status == S.RUNNING


def test_only_the_facilitator_or_a_manager_moves_a_drill(ops_user, manager_user):
    drill = make_drill(facilitator=ops_user)
    other_ops = UserFactory(username="olga-ops", role="it_operations")
    with pytest.raises(PermissionDenied):
        services.drill_transition(drill=drill, to=S.RUNNING, user=other_ops)
    services.drill_transition(drill=drill, to=S.RUNNING, user=ops_user)
    services.drill_transition(drill=drill, to=S.CANCELLED, user=manager_user, reason="Real incident")
    assert Drill.objects.get(pk=drill.pk).status == S.CANCELLED


def test_a_drill_can_only_be_edited_while_planned():
    drill = make_drill()
    services.drill_update(drill=drill, title="Renamed")
    services.drill_transition(drill=drill, to=S.RUNNING)
    with pytest.raises(ValidationError) as excinfo:
        services.drill_update(drill=drill, title="Too late")
    assert "Only a planned drill" in _error(excinfo)
    assert Drill.objects.get(pk=drill.pk).title == "Renamed"


def test_planning_refuses_a_drill_without_services_or_roles():
    drill = make_drill()
    with pytest.raises(ValidationError) as excinfo:
        services.drill_create(
            title="x", scenario=drill.scenario, plan_version=drill.plan_version, kind="tabletop",
            scheduled_start=timezone.now(), facilitator=drill.facilitator, participant_roles=[], services=[],
        )  # fmt: skip
    assert {"services", "participant_roles"} <= set(excinfo.value.message_dict)


def test_injects_are_parsed_from_lines_and_bad_lines_are_named():
    assert services.parse_injects("15 Replica down\n\n0: Calls start") == [(0, "Calls start"), (15, "Replica down")]
    with pytest.raises(ValidationError) as excinfo:
        services.parse_injects("10 fine\nsoon the DBA calls")
    assert "Line 2" in " ".join(excinfo.value.message_dict["injects"])
    scenario = make_scenario(injects=[(5, "b"), (1, "a")])
    assert [i.minute for i in scenario.injects.all()] == [1, 5]


def test_service_targets_are_frozen_when_the_drill_is_planned():
    drill = make_drill(service_targets=((90, 30),))
    result = drill.service_results.get()
    result.service.rto_minutes = 10
    result.service.save()
    result.refresh_from_db()
    assert (result.target_rto_minutes, result.target_rpo_minutes) == (90, 30)


@time_machine.travel(T0, tick=False)
def test_completing_closes_steps_left_open():
    drill = make_drill(steps=(10,))
    services.drill_transition(drill=drill, to=S.RUNNING)
    step = drill.plan_version.steps.get()
    services.step_start(drill=drill, step_id=step.pk)
    with time_machine.travel(T0 + datetime.timedelta(minutes=25), tick=False):
        services.drill_transition(drill=drill, to=S.COMPLETED, hypothesis_held=True)
    assert drill.step_records.get().actual_minutes == 25


def test_a_service_with_drill_results_cannot_be_deleted_and_says_why():
    from plans import services as plan_services

    drill = make_drill()
    service = drill.services.get()
    with pytest.raises(ValidationError) as excinfo:
        plan_services.service_delete(service=service)
    assert "kept for the record of services in drills" in str(excinfo.value)
