"""Timing: step durations, achieved RTO (disruption → restored), data loss vs RPO, pass/fail, and
the time until someone acknowledges the drill alert. Time is frozen with time_machine."""

import datetime

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError

from drills import services
from drills.models import Drill
from incidents.models import Incident, Notification
from incidents.services import incident_acknowledge
from tests.factories import ChannelFactory, LevelFactory, MemberFactory, PolicyFactory, RoleFactory, UserFactory

from .factories import make_drill

pytestmark = pytest.mark.django_db
T0 = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)


def _at(minutes: int):
    return time_machine.travel(T0 + datetime.timedelta(minutes=minutes), tick=False)


@pytest.fixture
def running():
    drill = make_drill(steps=(10, 20), service_targets=((60, 15), (240, 60)))
    with _at(0):
        services.drill_transition(drill=drill, to=Drill.Status.RUNNING)
    return drill


def test_each_step_is_timed_from_start_to_finish(running):
    first, second = running.plan_version.steps.order_by("order")
    with _at(1):
        services.step_start(drill=running, step_id=first.pk)
    with _at(13):
        record = services.step_finish(drill=running, step_id=first.pk, outcome="problem", note="VPN token missing")
    assert record.actual_minutes == 12 and record.note == "VPN token missing"
    with pytest.raises(ValidationError) as excinfo:
        services.step_finish(drill=running, step_id=second.pk, outcome="done")
    assert "Start the step" in str(excinfo.value)
    with _at(14), pytest.raises(ValidationError):
        services.step_start(drill=running, step_id=first.pk)  # already started


def test_achieved_recovery_and_data_loss_are_compared_with_the_targets(running):
    fast, slow = running.service_results.order_by("target_rto_minutes")
    with _at(2):
        services.service_disrupted(drill=running, service_id=fast.service_id)
        services.service_disrupted(drill=running, service_id=slow.service_id)
    with _at(92):
        fast = services.service_restored(drill=running, service_id=fast.service_id, data_loss_minutes=5)
    with _at(100):
        slow = services.service_restored(drill=running, service_id=slow.service_id, data_loss_minutes=90)
    assert (fast.achieved_rto_minutes, fast.rto_met, fast.rpo_met) == (90, False, True)
    assert (slow.achieved_rto_minutes, slow.rto_met, slow.rpo_met) == (98, True, False)
    with _at(120):
        drill = services.drill_transition(drill=running, to=Drill.Status.COMPLETED, hypothesis_held=True)
    assert drill.passed is False  # a target was missed, although the hypothesis held


def test_a_drill_within_every_target_passes_only_if_the_hypothesis_held(running):
    for row in running.service_results.all():
        with _at(5):
            services.service_disrupted(drill=running, service_id=row.service_id)
        with _at(30):
            services.service_restored(drill=running, service_id=row.service_id, data_loss_minutes=0)
    assert services.suggested_pass(running, True) is True
    assert services.suggested_pass(running, False) is False


def test_restore_needs_a_declared_disruption_and_a_data_loss_figure(running):
    row = running.service_results.first()
    with pytest.raises(ValidationError) as excinfo:
        services.service_restored(drill=running, service_id=row.service_id, data_loss_minutes=0)
    assert "Declare the disruption" in str(excinfo.value)
    services.service_disrupted(drill=running, service_id=row.service_id)
    with pytest.raises(ValidationError) as excinfo:
        services.service_restored(drill=running, service_id=row.service_id, data_loss_minutes=-1)
    assert "data_loss_minutes" in excinfo.value.message_dict
    with pytest.raises(ValidationError):
        services.service_disrupted(drill=running, service_id=999999)


def test_nothing_is_recorded_on_a_drill_that_is_not_running():
    drill = make_drill()
    step = drill.plan_version.steps.first()
    with pytest.raises(ValidationError) as excinfo:
        services.step_start(drill=drill, step_id=step.pk)
    assert "start it before recording" in str(excinfo.value)
    assert not drill.step_records.exists()


def test_injects_are_logged_once_each(running):
    inject = running.scenario.injects.first()
    with _at(3):
        log = services.inject_log(drill=running, inject_id=inject.pk)
    assert log.text == inject.text and log.at == T0 + datetime.timedelta(minutes=3)
    with pytest.raises(ValidationError):
        services.inject_log(drill=running, inject_id=inject.pk)
    with pytest.raises(ValidationError) as excinfo:
        services.inject_log(drill=running, text="   ")
    assert "text" in excinfo.value.message_dict


def test_the_drill_alert_is_marked_as_a_drill_pages_only_participants_and_times_the_acknowledgement(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    participant = UserFactory(username="pat-participant", email="pat@example.com")
    outsider_role = RoleFactory(key="on-call")
    MemberFactory(role=outsider_role, email="outsider@example.com")
    policy = PolicyFactory(is_default=True)
    LevelFactory(policy=policy, order=1, delay_minutes=0, notify_role=outsider_role)
    ChannelFactory(include_drills=False)  # an ordinary channel: drills stay out of it
    drill = make_drill(participants=[participant])
    with _at(0):
        services.drill_transition(drill=drill, to=Drill.Status.RUNNING)
    with _at(5):
        drill = services.drill_raise_alert(drill=drill)
    incident = Incident.objects.get()
    assert drill.alert.is_drill and incident.is_drill
    assert drill.alert.details["drill"] == drill.pk
    recipients = {n.recipient for n in Notification.objects.all()}
    assert recipients == {"pat@example.com"}  # no on-call escalation, no ordinary channel
    assert incident.escalation_policy_id is None
    assert drill.time_to_acknowledge_minutes is None
    with _at(12):
        incident_acknowledge(incident=incident, user=participant)
    drill = Drill.objects.select_related("alert__incident").get(pk=drill.pk)
    assert drill.time_to_acknowledge_minutes == 7
    with pytest.raises(ValidationError):
        services.drill_raise_alert(drill=drill)
    assert len(mail.outbox) == 0 or all("outsider" not in m.to[0] for m in mail.outbox)
