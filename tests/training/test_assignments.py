"""Who an assignment reaches: one person, a department, a response role — including people who
join the department or the role after the course was assigned, and not those who left."""

import datetime

import pytest
from django.utils import timezone

from plans.models import Profile
from tests.factories import DepartmentFactory, MemberFactory, RoleFactory, UserFactory
from training import selectors, services
from training.models import Assignment

from .factories import CourseFactory

pytestmark = pytest.mark.django_db

DUE = timezone.localdate() + datetime.timedelta(days=10)


def courses_of(user) -> set[str]:
    return {item.course.title for item in selectors.training_items(users=[user])}


def test_a_department_assignment_reaches_its_members_and_people_who_join_later():
    sales, hr = DepartmentFactory(name="Sales"), DepartmentFactory(name="HR")
    early = UserFactory()
    Profile.objects.create(user=early, department=sales)
    course = CourseFactory(title="Orders on paper")
    services.assignment_create(course=course, department=sales, due_date=DUE)

    late = UserFactory()
    Profile.objects.create(user=late, department=sales)
    outsider = UserFactory()
    Profile.objects.create(user=outsider, department=hr)

    assert courses_of(early) == {"Orders on paper"}
    assert courses_of(late) == {"Orders on paper"}
    assert courses_of(outsider) == set()


def test_someone_who_leaves_the_department_is_no_longer_assigned():
    sales, hr = DepartmentFactory(name="Sales"), DepartmentFactory(name="HR")
    user = UserFactory()
    profile = Profile.objects.create(user=user, department=sales)
    services.assignment_create(course=CourseFactory(title="Orders"), department=sales, due_date=DUE)
    profile.department = hr
    profile.save()
    assert courses_of(user) == set()


def test_a_role_assignment_reaches_holders_and_new_deputies():
    dba = RoleFactory(key="dba", name="DBA")
    primary = UserFactory()
    MemberFactory(role=dba, user=primary, rank=1)
    course = CourseFactory(title="Restore drill")
    services.assignment_create(course=course, role=dba, due_date=DUE)

    deputy = UserFactory()
    MemberFactory(role=dba, user=deputy, rank=2)
    other = UserFactory()
    MemberFactory(role=RoleFactory(key="comms"), user=other, rank=1)

    assert courses_of(primary) == {"Restore drill"}
    assert courses_of(deputy) == {"Restore drill"}
    assert courses_of(other) == set()


def test_a_course_reaching_someone_twice_counts_once_with_the_earliest_due_date():
    sales = DepartmentFactory(name="Sales")
    role = RoleFactory(key="biz")
    user = UserFactory()
    Profile.objects.create(user=user, department=sales)
    MemberFactory(role=role, user=user)
    course = CourseFactory()
    services.assignment_create(course=course, department=sales, due_date=DUE)
    services.assignment_create(course=course, role=role, due_date=DUE - datetime.timedelta(days=3))
    [item] = selectors.training_items(users=[user])
    assert item.due_date == DUE - datetime.timedelta(days=3)
    assert len(item.assignments) == 2


def test_an_assignment_needs_exactly_one_target():
    course = CourseFactory()
    with pytest.raises(Exception, match="exactly one"):
        services.assignment_create(course=course, due_date=DUE)
    with pytest.raises(Exception, match="exactly one"):
        services.assignment_create(course=course, due_date=DUE, user=UserFactory(), department=DepartmentFactory())
    assert Assignment.objects.count() == 0


def test_inactive_courses_are_not_assigned_work():
    user = UserFactory()
    services.assignment_create(course=CourseFactory(is_active=False), user=user, due_date=DUE)
    assert courses_of(user) == set()


def test_a_missed_due_date_is_overdue():
    user = UserFactory()
    services.assignment_create(
        course=CourseFactory(), user=user, due_date=timezone.localdate() - datetime.timedelta(days=1)
    )
    [item] = selectors.training_items(users=[user])
    assert item.status == selectors.Status.OVERDUE
