import datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from incidents import services
from incidents.models import Notification
from tests.factories import ChannelFactory, MemberFactory, PolicyFactory, RoleFactory, UserFactory

pytestmark = pytest.mark.django_db

T0 = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)


@pytest.fixture
def policy(sales):
    """Level 1: the DBA role at once; level 2: the IT manager after 10 minutes; then a channel after 20."""
    dba = RoleFactory(name="DBA", key="dba")
    MemberFactory(role=dba, rank=1, email="dba1@example.com")
    MemberFactory(role=dba, rank=2, email="dba2@example.com")
    manager = UserFactory(username="it-manager", email="it-manager@example.com")
    policy = services.policy_create(name="ERP", services=[sales])
    services.level_create(policy=policy, delay_minutes=0, notify_role=dba)
    services.level_create(policy=policy, delay_minutes=10, notify_user=manager)
    services.level_create(policy=policy, delay_minutes=20, notify_channel=ChannelFactory(name="War room"))
    return policy


def open_incident(sales):
    return services.incident_open(title="Sales down", severity="sev2", services=[sales])


def escalations():
    return list(Notification.objects.filter(event="escalated").order_by("id").values_list("recipient", "channel__name"))


def test_level_one_with_no_delay_is_notified_when_the_incident_opens(policy, sales):
    with time_machine.travel(T0, tick=False):
        incident = open_incident(sales)
    incident.refresh_from_db()
    assert incident.escalation_policy == policy
    assert incident.escalation_level == 1
    assert incident.next_escalation_at == T0 + datetime.timedelta(minutes=10)
    assert escalations() == [("dba1@example.com", None), ("dba2@example.com", None)]
    assert incident.timeline.filter(kind="escalation").count() == 1


def test_it_escalates_level_by_level_until_acknowledged(policy, sales, ops_user):
    with time_machine.travel(T0, tick=False):
        incident = open_incident(sales)
    with time_machine.travel(T0 + datetime.timedelta(minutes=9), tick=False):
        assert services.escalate_due() == 0
    with time_machine.travel(T0 + datetime.timedelta(minutes=10), tick=False):
        assert services.escalate_due() == 1
        assert services.escalate_due() == 0  # safe to run twice
    incident.refresh_from_db()
    assert incident.escalation_level == 2
    assert incident.next_escalation_at == T0 + datetime.timedelta(minutes=30)
    assert escalations()[-1] == ("it-manager@example.com", None)
    services.incident_acknowledge(incident=incident, user=ops_user)
    with time_machine.travel(T0 + datetime.timedelta(minutes=45), tick=False):
        assert services.escalate_due() == 0
    incident.refresh_from_db()
    assert incident.next_escalation_at is None and incident.escalation_level == 2


def test_after_the_last_level_it_stops_or_repeats(policy, sales):
    with time_machine.travel(T0, tick=False):
        incident = open_incident(sales)
    for minutes in (10, 30):
        with time_machine.travel(T0 + datetime.timedelta(minutes=minutes), tick=False):
            services.escalate_due()
    incident.refresh_from_db()
    assert incident.escalation_level == 3 and incident.next_escalation_at is None
    assert escalations()[-1] == ("", "War room")

    services.policy_update(policy=policy, repeat_minutes=15)
    with time_machine.travel(T0, tick=False):
        other = open_incident(sales)
    for minutes in (10, 30, 45):
        with time_machine.travel(T0 + datetime.timedelta(minutes=minutes), tick=False):
            services.escalate_due()
    other.refresh_from_db()
    assert other.escalation_level == 3
    assert other.next_escalation_at == T0 + datetime.timedelta(minutes=60)
    assert Notification.objects.filter(incident=other, channel__name="War room", event="escalated").count() == 2


def test_a_late_tick_escalates_one_level_at_a_time(policy, sales):
    with time_machine.travel(T0, tick=False):
        incident = open_incident(sales)
    with time_machine.travel(T0 + datetime.timedelta(hours=3), tick=False):
        services.escalate_due()
        incident.refresh_from_db()
        assert incident.escalation_level == 2
        assert incident.next_escalation_at == timezone.now()
        services.escalate_due()
    incident.refresh_from_db()
    assert incident.escalation_level == 3


def test_the_default_policy_applies_when_no_policy_covers_the_service(sales):
    fallback = PolicyFactory(name="Everything else", is_default=True)
    services.level_create(policy=fallback, delay_minutes=5, notify_user=UserFactory(email="duty@example.com"))
    incident = open_incident(sales)
    assert incident.escalation_policy == fallback
    assert incident.escalation_level == 0


def test_without_any_policy_nothing_escalates(sales):
    incident = open_incident(sales)
    assert incident.escalation_policy is None and incident.next_escalation_at is None
    assert services.escalate_due() == 0


def test_a_level_must_notify_someone(policy):
    with pytest.raises(ValidationError):
        services.level_create(policy=policy, delay_minutes=5)


def test_one_default_policy_at_a_time():
    first = services.policy_create(name="A", is_default=True)
    second = services.policy_create(name="B", is_default=True)
    first.refresh_from_db()
    assert not first.is_default and second.is_default
