"""Races on PostgreSQL with real threads: two reminder runs at once send one email per person;
two acknowledgements at once keep one record. (SQLite serialises writes: no race to test.)"""

import datetime

import pytest
from django.core import mail
from django.utils import timezone

from tests.factories import UserFactory
from tests.incidents.test_concurrency_pg import run_together
from training import services
from training.models import Acknowledgement, ReminderLog

from .factories import AssignmentFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_reminder_runs_at_once_send_one_email_per_person():
    users = [UserFactory() for _ in range(5)]
    for user in users:
        AssignmentFactory(user=user, due_date=timezone.localdate() - datetime.timedelta(days=1))
    results, errors = run_together(services.send_reminders, services.send_reminders, services.send_reminders)
    assert errors == [None, None, None]
    assert sum(results) == 5
    assert len(mail.outbox) == 5
    assert ReminderLog.objects.count() == 5


def test_two_acknowledgements_at_once_keep_one(plan):
    user = UserFactory()
    results, errors = run_together(
        lambda: services.plan_acknowledge(user=user, plan=plan), lambda: services.plan_acknowledge(user=user, plan=plan)
    )
    assert errors == [None, None]
    assert Acknowledgement.objects.filter(user=user).count() == 1
