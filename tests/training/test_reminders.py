"""Reminders: before the due date, after it is missed, before a completion expires — one email
per person per day at most, however often the task runs."""

import datetime

import pytest
import time_machine
from django.core import mail

from tests.factories import UserFactory
from training import services, tasks
from training.models import ReminderLog

from .factories import AssignmentFactory, CourseFactory, quiz, right_answers

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 3, 10, 8, 0, tzinfo=datetime.UTC)
TODAY = NOW.date()


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def test_due_soon_and_overdue_go_in_one_email_and_running_twice_sends_one():
    user = UserFactory(email="li@example.com")
    AssignmentFactory(user=user, course=CourseFactory(title="Due soon"), due_date=TODAY + datetime.timedelta(days=3))
    AssignmentFactory(user=user, course=CourseFactory(title="Missed"), due_date=TODAY - datetime.timedelta(days=2))
    AssignmentFactory(user=user, course=CourseFactory(title="Far away"), due_date=TODAY + datetime.timedelta(days=60))

    assert tasks.send_reminders() == 1
    assert tasks.send_reminders() == 0
    assert len(mail.outbox) == 1
    body = mail.outbox[0].body
    assert "Due soon: due on" in body and "Missed: overdue since" in body
    assert "Far away" not in body
    assert mail.outbox[0].to == ["li@example.com"]


def test_the_next_day_reminds_again(frozen):
    user = UserFactory()
    AssignmentFactory(user=user, due_date=TODAY - datetime.timedelta(days=1))
    services.send_reminders()
    frozen.shift(datetime.timedelta(hours=12))  # later the same day
    services.send_reminders()
    assert len(mail.outbox) == 1
    frozen.shift(datetime.timedelta(days=1))
    services.send_reminders()
    assert len(mail.outbox) == 2


def test_a_completion_about_to_expire_is_reminded_and_a_valid_one_is_not(frozen):
    user = UserFactory()
    soon, later = CourseFactory(title="Soon", validity_months=1), CourseFactory(title="Later", validity_months=12)
    for course in (soon, later):
        AssignmentFactory(user=user, course=course, due_date=TODAY)
        services.attempt_submit(
            course=course, user=user, answers=right_answers(quiz(course, [("single", [True, False])]))
        )
    frozen.shift(datetime.timedelta(days=20))
    services.send_reminders()
    [message] = mail.outbox
    assert "Soon: your completion expires" in message.body
    assert "Later" not in message.body


def test_people_with_nothing_pending_get_nothing():
    user = UserFactory()
    course = CourseFactory()
    AssignmentFactory(user=user, course=course, due_date=TODAY)
    services.attempt_submit(course=course, user=user, answers={})
    assert services.send_reminders() == 0
    assert mail.outbox == []


def test_a_claim_already_taken_by_a_parallel_run_sends_nothing():
    user = UserFactory()
    AssignmentFactory(user=user, due_date=TODAY - datetime.timedelta(days=1))
    # Another worker inserted today's claim between our read and our insert.
    ReminderLog.objects.create(user=user, day=TODAY)
    assert services.send_reminders() == 0
    assert mail.outbox == []


def test_a_failed_email_releases_the_claim_so_the_next_tick_retries(monkeypatch):
    user = UserFactory()
    AssignmentFactory(user=user, due_date=TODAY - datetime.timedelta(days=1))

    def broken(**kwargs):
        raise OSError("SMTP down")

    monkeypatch.setattr(services, "send_mail", broken)
    with pytest.raises(OSError):
        services.send_reminders()
    assert not ReminderLog.objects.exists()
    monkeypatch.undo()
    assert services.send_reminders() == 1
