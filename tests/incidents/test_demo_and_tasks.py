from io import StringIO

import pytest

from erpcontinuity.celery import app
from incidents import demo, tasks
from incidents.models import Alert, Incident, NotificationChannel, Silence
from plans import demo as plans_demo
from plans.models import ActionItem

pytestmark = pytest.mark.django_db


def test_the_demo_loads_once_and_a_second_run_creates_nothing():
    plans_demo.load(StringIO())
    demo.load(StringIO())
    counts = (
        Incident.objects.count(),
        Alert.objects.count(),
        Silence.objects.count(),
        NotificationChannel.objects.count(),
    )
    assert counts == (2, 1, 1, 4)
    resolved = Incident.objects.get(status="closed")
    assert resolved.review.is_complete
    assert ActionItem.objects.filter(source_id=resolved.review.pk).count() == 2
    open_incident = Incident.objects.get(status="acknowledged")
    assert open_incident.severity == "sev2" and open_incident.alerts.get().count == 5
    assert Silence.objects.get().kind == "maintenance"
    out = StringIO()
    demo.load(out)
    assert "nothing new" in out.getvalue()
    assert (Incident.objects.count(), Alert.objects.count(), Silence.objects.count()) == counts[:3]


def test_the_periodic_tasks_are_scheduled_every_few_seconds():
    schedule = {entry["task"]: entry["schedule"] for entry in app.conf.beat_schedule.values()}
    assert schedule["incidents.tasks.escalate_due"] <= 30
    assert schedule["incidents.tasks.sweep_outbox"] <= 30


def test_the_tasks_call_the_services(monkeypatch):
    calls = []
    monkeypatch.setattr(tasks.services, "deliver", lambda **kw: calls.append(("deliver", kw)) or "sent")
    monkeypatch.setattr(tasks.services, "sweep_outbox", lambda: calls.append("sweep") or 0)
    monkeypatch.setattr(tasks.services, "escalate_due", lambda: calls.append("escalate") or 0)
    assert tasks.deliver_notification(7) == "sent"
    tasks.sweep_outbox()
    tasks.escalate_due()
    assert calls == [("deliver", {"notification_id": 7}), "sweep", "escalate"]
