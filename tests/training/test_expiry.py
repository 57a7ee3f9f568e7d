"""A completion lasts the course's validity period; then the course is due again."""

import datetime

import pytest
import time_machine
from django.utils import timezone

from tests.factories import UserFactory
from training import selectors, services
from training.models import add_months

from .factories import AssignmentFactory, CourseFactory, quiz, right_answers

pytestmark = pytest.mark.django_db

START = datetime.datetime(2026, 1, 31, 9, 0, tzinfo=datetime.UTC)


def status_of(user) -> str:
    [item] = selectors.training_items(users=[user])
    return item.status


def test_add_months_clamps_to_the_end_of_a_short_month():
    assert add_months(datetime.date(2026, 1, 31), 1) == datetime.date(2026, 2, 28)
    assert add_months(datetime.date(2026, 11, 15), 14) == datetime.date(2028, 1, 15)


def test_a_completion_is_done_then_expiring_then_expired():
    user = UserFactory()
    course = CourseFactory(validity_months=6)
    questions = quiz(course, [("single", [True, False])])
    AssignmentFactory(course=course, user=user, due_date=START.date() + datetime.timedelta(days=7))
    with time_machine.travel(START, tick=False):
        services.attempt_submit(course=course, user=user, answers=right_answers(questions))
        assert status_of(user) == selectors.Status.DONE
    with time_machine.travel(START + datetime.timedelta(days=170), tick=False):
        assert status_of(user) == selectors.Status.EXPIRING
    with time_machine.travel(datetime.datetime(2026, 7, 31, 9, 0, 1, tzinfo=datetime.UTC), tick=False):
        assert status_of(user) == selectors.Status.EXPIRED


def test_retaking_after_expiry_makes_it_done_again():
    user = UserFactory()
    course = CourseFactory(validity_months=1)
    questions = quiz(course, [("single", [True, False])])
    AssignmentFactory(course=course, user=user)
    with time_machine.travel(START, tick=False):
        services.attempt_submit(course=course, user=user, answers=right_answers(questions))
    with time_machine.travel(START + datetime.timedelta(days=40), tick=False):
        assert status_of(user) == selectors.Status.EXPIRED
        services.attempt_submit(course=course, user=user, answers=right_answers(questions))
        assert status_of(user) == selectors.Status.DONE


def test_a_course_without_validity_never_expires():
    user = UserFactory()
    course = CourseFactory(validity_months=None)
    AssignmentFactory(course=course, user=user)
    services.attempt_submit(course=course, user=user, answers={})
    with time_machine.travel(timezone.now() + datetime.timedelta(days=3650), tick=False):
        assert status_of(user) == selectors.Status.DONE
