"""Races, with real threads and real transactions on PostgreSQL: exactly one wins, nothing is lost,
nothing is done twice. (SQLite serialises every write transaction, so there is no race to test.)"""

import datetime
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from incidents import services
from incidents.models import Alert, Incident, Notification
from tests.factories import ChannelFactory, IncidentFactory, LevelFactory, PolicyFactory, UserFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def run_together(*calls):
    """Run the calls in threads released at the same instant; return (results, errors)."""
    barrier = threading.Barrier(len(calls))
    results, errors = [None] * len(calls), [None] * len(calls)

    def worker(index, call):
        try:
            barrier.wait(timeout=10)
            results[index] = call()
        except Exception as exc:  # collected for the assertions
            errors[index] = exc
        finally:
            connection.close()  # each thread has its own connection

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results, errors


def test_two_acknowledges_at_once_one_wins_the_other_is_told_why(sales):
    incident = services.incident_open(title="Sales down", severity="sev2", services=[sales])
    alice = UserFactory(username="alice-ops", role="it_operations")
    bob = UserFactory(username="bob-ops", role="it_operations")
    results, errors = run_together(
        lambda: services.incident_acknowledge(incident=incident, user=alice),
        lambda: services.incident_acknowledge(incident=incident, user=bob),
    )
    assert sum(r is not None for r in results) == 1
    refused = [e for e in errors if e is not None]
    assert len(refused) == 1 and isinstance(refused[0], ValidationError)
    assert "already acknowledged" in refused[0].message_dict["status"][0]
    incident.refresh_from_db()
    assert incident.status == "acknowledged" and incident.version == 2
    assert incident.timeline.filter(kind="status").count() == 1


def test_a_resolve_racing_an_edit_never_loses_an_update(sales, ops_user):
    incident = services.incident_open(title="Sales down", severity="sev2", services=[sales])
    seen = incident.version
    results, errors = run_together(
        lambda: services.incident_resolve(incident=incident, user=ops_user, expected_version=seen),
        lambda: services.incident_update(incident=incident, user=ops_user, expected_version=seen, title="Edited"),
    )
    assert sum(r is not None for r in results) == 1
    loser = next(e for e in errors if e is not None)
    assert "reload" in loser.message_dict["version"][0]
    incident.refresh_from_db()
    assert incident.version == seen + 1
    assert (incident.status == "resolved") != (incident.title == "Edited")


def test_concurrent_raises_of_the_same_new_alert_make_one_alert_and_one_incident(sales):
    n = 8
    results, errors = run_together(
        *[
            lambda: services.raise_alert(
                source="monitoring", fingerprint="sales:http", severity="sev2", summary="Sales HTTP 500", service=sales
            )
            for _ in range(n)
        ]
    )
    assert errors == [None] * n
    assert Alert.objects.count() == 1
    assert Alert.objects.get().count == n
    assert Incident.objects.count() == 1


def test_concurrent_new_alerts_of_one_service_open_one_incident(sales):
    n = 6
    results, errors = run_together(
        *[
            (lambda i=i: services.raise_alert(
                source="monitoring", fingerprint=f"sales:{i}", severity="sev3", summary=f"Sales check {i}", service=sales
            ))
            for i in range(n)
        ]
    )  # fmt: skip
    assert errors == [None] * n
    assert Alert.objects.count() == n
    assert Incident.objects.count() == 1


def test_two_escalation_ticks_at_once_notify_each_level_once(sales):
    channel = ChannelFactory(name="Pager")
    policy = PolicyFactory(is_default=True)
    LevelFactory(policy=policy, order=1, delay_minutes=5, notify_channel=channel)
    LevelFactory(policy=policy, order=2, delay_minutes=5, notify_channel=channel)
    past = timezone.now() - datetime.timedelta(minutes=1)
    incidents = [
        IncidentFactory(escalation_policy=policy, next_escalation_at=past, services=[sales]) for _ in range(20)
    ]
    results, errors = run_together(services.escalate_due, services.escalate_due, services.escalate_due)
    assert errors == [None, None, None]
    assert sum(results) == 20
    for incident in incidents:
        incident.refresh_from_db()
        assert incident.escalation_level == 1
    assert Notification.objects.filter(event="escalated").count() == 20


def test_two_workers_delivering_one_notification_send_it_once(monkeypatch):
    channel = ChannelFactory()
    row = Notification.objects.create(channel=channel, event="test", payload={"title": "t"})
    sent = []
    monkeypatch.setattr("incidents.services.senders.send", lambda **kwargs: sent.append(kwargs))
    results, errors = run_together(*[lambda: services.deliver(notification_id=row.pk) for _ in range(4)])
    assert errors == [None] * 4
    assert sorted(results) == ["sent", "skipped", "skipped", "skipped"]
    assert len(sent) == 1
