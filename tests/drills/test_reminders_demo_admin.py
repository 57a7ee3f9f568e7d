"""Overdue action items are reminded once a day; the demo data loads twice without duplicates;
the drills admin pages open."""

import datetime
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.core.management import call_command
from django.urls import reverse

from drills.models import Drill, Finding, Scenario
from plans import services as plan_services
from plans.models import ActionItem
from plans.tasks import remind_overdue_action_items
from tests.factories import ActionItemFactory, UserFactory

pytestmark = pytest.mark.django_db
TODAY = datetime.date(2026, 3, 10)


def test_overdue_action_items_are_reminded_once_a_day_to_their_owner():
    owner = UserFactory(email="owner@example.com")
    overdue = ActionItemFactory(owner=owner, due_date=TODAY - datetime.timedelta(days=1))
    ActionItemFactory(owner=owner, due_date=TODAY)  # due today: not overdue yet
    ActionItemFactory(owner=owner, due_date=TODAY - datetime.timedelta(days=3), status=ActionItem.Status.DONE)
    assert plan_services.remind_overdue_action_items(today=TODAY) == 1
    assert plan_services.remind_overdue_action_items(today=TODAY) == 0  # the second run sends nothing
    assert [m.to for m in mail.outbox] == [["owner@example.com"]]
    assert overdue.title in mail.outbox[0].subject
    # The next day both open items past their due date are reminded again.
    assert plan_services.remind_overdue_action_items(today=TODAY + datetime.timedelta(days=1)) == 2


def test_the_reminder_task_runs_the_service(settings):
    ActionItemFactory(due_date=datetime.date(2000, 1, 1))
    assert remind_overdue_action_items() == 1


@pytest.fixture
def demo():
    call_command("load_demo", stdout=StringIO())


def test_the_demo_data_has_a_reported_a_completed_and_a_planned_drill_and_loads_twice(demo):
    counts = (Scenario.objects.count(), Drill.objects.count(), Finding.objects.count(), ActionItem.objects.count())
    reported = Drill.objects.get(status=Drill.Status.REPORTED)
    assert reported.findings.exclude(action_item=None).count() >= 2
    assert Drill.objects.filter(status=Drill.Status.COMPLETED).exists()
    assert Drill.objects.filter(status=Drill.Status.PLANNED, facilitator__username="ops").exists()
    call_command("load_demo", stdout=StringIO())
    assert (
        Scenario.objects.count(),
        Drill.objects.count(),
        Finding.objects.count(),
        ActionItem.objects.count(),
    ) == counts


def test_the_demo_report_opens_for_the_manager(demo, client):
    client.force_login(User.objects.get(username="manager"))
    drill = Drill.objects.get(status=Drill.Status.REPORTED)
    response = client.get(reverse("drills:drill-report", args=[drill.pk]))
    assert response.status_code == 200, response.status_code
    page = response.content.decode()
    assert "2 h 30 min" in page and "missed" in page


def test_the_drill_admin_pages_open(demo, admin_client):
    drill = Drill.objects.first()
    for url in (
        reverse("admin:drills_drill_changelist"),
        reverse("admin:drills_drill_change", args=[drill.pk]),
        reverse("admin:drills_scenario_change", args=[drill.scenario_id]),
    ):
        assert admin_client.get(url).status_code == 200, url
