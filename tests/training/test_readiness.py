"""Readiness before a drill: the plan's emergency-procedure course completed (not expired) and the
plan's current version acknowledged."""

import datetime

import pytest
import time_machine
from django.utils import timezone

from plans import services as plan_services
from tests.factories import PlanFactory, UserFactory
from training import services
from training.models import Course
from training.readiness import plan_readiness

from .factories import CourseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def course(plan):
    return CourseFactory(kind=Course.Kind.EMERGENCY, plan=plan, validity_months=12)


def test_someone_who_did_both_is_ready_and_the_others_say_what_is_missing(plan, course):
    ready, no_course, no_ack = UserFactory(), UserFactory(), UserFactory()
    for user in (ready, no_course):
        services.plan_acknowledge(user=user, plan=plan)
    for user in (ready, no_ack):
        services.attempt_submit(course=course, user=user, answers={})

    rows = plan_readiness(plan=plan, users=[ready, no_course, no_ack])
    assert [r.user for r in rows] == [ready, no_course, no_ack]
    assert [(r.course_done, r.acknowledged, r.ready) for r in rows] == [
        (True, True, True),
        (False, True, False),
        (True, False, False),
    ]
    assert rows[0].missing == []
    assert "course" in rows[1].missing[0]
    assert "acknowledged version 1" in rows[2].missing[0]


def test_an_expired_course_or_a_new_plan_version_makes_someone_unready(plan, course, manager_user):
    user = UserFactory()
    services.plan_acknowledge(user=user, plan=plan)
    services.attempt_submit(course=course, user=user, answers={})
    with time_machine.travel(timezone.now() + datetime.timedelta(days=400)):
        [row] = plan_readiness(plan=plan, users=[user])
        assert not row.course_done and row.acknowledged
    draft = plan_services.plan_start_draft(plan=plan, user=manager_user)
    plan_services.version_publish(version=draft, user=manager_user)
    [row] = plan_readiness(plan=plan, users=[user])
    assert row.course_done and not row.acknowledged
    assert "version 2" in row.missing[0]


def test_a_course_for_another_plan_does_not_count(plan):
    other = CourseFactory(kind=Course.Kind.EMERGENCY, plan=PlanFactory())
    user = UserFactory()
    services.attempt_submit(course=other, user=user, answers={})
    [row] = plan_readiness(plan=plan, users=[user])
    assert not row.course_done
    assert "no emergency-procedure course" in row.missing[0]


def test_the_query_count_does_not_grow_with_people(plan, course, django_assert_num_queries):
    few = [UserFactory() for _ in range(2)]
    many = few + [UserFactory() for _ in range(20)]
    for user in many[::2]:
        services.plan_acknowledge(user=user, plan=plan)
        services.attempt_submit(course=course, user=user, answers={})
    # course ids, published version, completions, acknowledgements
    with django_assert_num_queries(4):
        plan_readiness(plan=plan, users=few)
    with django_assert_num_queries(4):
        rows = plan_readiness(plan=plan, users=many)
    assert sum(r.ready for r in rows) == 11
