"""Read side of training: who must take what, by when, and where each person stands.

Membership is computed here, at read time: an assignment to a department or a response role
applies to whoever is in it when the page is read. A person who joins the sales department or
becomes a deputy DBA tomorrow sees the assignment tomorrow, with no signal and no copied rows; a
person who leaves stops being counted. The price is that one read loads every assignment, the
memberships and the latest completions — a fixed number of queries whatever the number of people
or courses (pinned in tests/training/test_queries.py).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from plans.models import Department, PlanVersion, Profile, TeamMember

from .models import Acknowledgement, Assignment, Completion, Course

EXPIRING_WITHIN_DAYS = 30
DUE_SOON_DAYS = 7


class Status:
    DUE = "due"
    OVERDUE = "overdue"
    DONE = "done"
    EXPIRING = "expiring"
    EXPIRED = "expired"

    LABELS = {
        # A context: "Due" alone is already translated elsewhere as "due date".
        DUE: pgettext_lazy("training status", "Due"),
        OVERDUE: pgettext_lazy("training status", "Overdue"),
        DONE: pgettext_lazy("training status", "Done"),
        EXPIRING: pgettext_lazy("training status", "Expiring soon"),
        EXPIRED: pgettext_lazy("training status", "Expired"),
    }


@dataclass
class Item:
    """One course one person must take: the earliest due date of the assignments that reach them."""

    user: object
    course: Course
    due_date: datetime.date
    completion: Completion | None
    status: str
    assignments: list[Assignment] = field(default_factory=list)

    @property
    def status_label(self) -> str:
        return Status.LABELS[self.status]

    @property
    def is_completed(self) -> bool:
        return self.status in (Status.DONE, Status.EXPIRING)


def item_status(*, due_date: datetime.date, completion: Completion | None, now: datetime.datetime) -> str:
    if completion is not None:
        if completion.expires_at is not None and completion.expires_at <= now:
            return Status.EXPIRED
        if completion.expires_at is not None and completion.expires_at <= now + datetime.timedelta(
            days=EXPIRING_WITHIN_DAYS
        ):
            return Status.EXPIRING
        return Status.DONE
    return Status.OVERDUE if due_date < timezone.localdate(now) else Status.DUE


def latest_completions(
    *, user_ids: Iterable[int] | None, course_ids: Iterable[int]
) -> dict[tuple[int, int], Completion]:
    """The most recent completion per (user id, course id): one query."""
    qs = Completion.objects.filter(course_id__in=list(course_ids))
    if user_ids is not None:
        qs = qs.filter(user_id__in=list(user_ids))
    latest: dict[tuple[int, int], Completion] = {}
    for completion in qs.order_by("user_id", "course_id", "-completed_at", "-id"):
        latest.setdefault((completion.user_id, completion.course_id), completion)
    return latest


def training_items(*, users: Iterable | None = None, now: datetime.datetime | None = None) -> list[Item]:
    """Every (person, course) obligation, for the given users or every active user.
    Five queries (four with `users` given): people, profiles, role holders, assignments, completions."""
    now = now or timezone.now()
    User = get_user_model()
    if users is None:
        people = list(User.objects.filter(is_active=True).order_by("username"))
        ids = None  # everyone: no IN list of thousands of ids
    else:
        people = list(users)
        ids = [u.pk for u in people]
    profiles, members = Profile.objects.all(), TeamMember.objects.filter(user__isnull=False)
    if ids is not None:
        profiles, members = profiles.filter(user_id__in=ids), members.filter(user_id__in=ids)
    department_of = dict(profiles.values_list("user_id", "department_id"))
    roles_of: dict[int, set[int]] = defaultdict(set)
    for user_id, role_id in members.values_list("user_id", "role_id"):
        roles_of[user_id].add(role_id)
    assignments = list(
        Assignment.objects.filter(course__is_active=True).select_related("course", "course__plan", "course__fallback")
    )
    completions = latest_completions(user_ids=ids, course_ids={a.course_id for a in assignments})

    items: list[Item] = []
    for person in people:
        dept, roles = department_of.get(person.pk), roles_of.get(person.pk, set())
        mine: dict[int, Item] = {}
        for a in assignments:
            if not (
                a.user_id == person.pk
                or (a.department_id is not None and a.department_id == dept)
                or (a.role_id is not None and a.role_id in roles)
            ):
                continue
            item = mine.get(a.course_id)
            if item is None:
                item = mine[a.course_id] = Item(
                    user=person,
                    course=a.course,
                    due_date=a.due_date,
                    completion=completions.get((person.pk, a.course_id)),
                    status="",
                )
            item.due_date = min(item.due_date, a.due_date)
            item.assignments.append(a)
        for item in mine.values():
            item.status = item_status(due_date=item.due_date, completion=item.completion, now=now)
            items.append(item)
    return items


STATUS_ORDER = [Status.OVERDUE, Status.EXPIRED, Status.DUE, Status.EXPIRING, Status.DONE]


def my_training(*, user, now: datetime.datetime | None = None) -> dict:
    """The "My training" page: the person's items by status, and the active courses not assigned."""
    items = training_items(users=[user], now=now)
    groups = {status: [] for status in STATUS_ORDER}
    for item in sorted(items, key=lambda i: (i.due_date, i.course.title)):
        groups[item.status].append(item)
    assigned = {item.course.pk for item in items}
    others = [c for c in Course.objects.active() if c.pk not in assigned]
    return {
        "groups": groups,
        "items": items,
        "other_courses": others,
        "to_acknowledge": plans_to_acknowledge(user=user),
    }


def plans_to_acknowledge(*, user) -> list[PlanVersion]:
    """Published plan versions with a step for a role the person holds, not yet acknowledged. One query."""
    return list(
        PlanVersion.objects.published()
        .filter(steps__role__members__user=user)
        .exclude(pk__in=Acknowledgement.objects.filter(user=user, plan_version__isnull=False).values("plan_version"))
        .select_related("plan")
        .distinct()
        .order_by("plan__title")
    )


@dataclass
class CoverageRow:
    label: str
    assigned: int = 0
    completed: int = 0
    overdue: int = 0
    expired: int = 0
    key: object = None

    @property
    def pending(self) -> int:
        return self.assigned - self.completed - self.overdue - self.expired

    @property
    def percent(self) -> int:
        return round(100 * self.completed / self.assigned) if self.assigned else 0

    def add(self, item: Item) -> None:
        self.assigned += 1
        if item.is_completed:
            self.completed += 1
        elif item.status == Status.OVERDUE:
            self.overdue += 1
        elif item.status == Status.EXPIRED:
            self.expired += 1


def coverage(*, now: datetime.datetime | None = None) -> dict:
    """Assigned / completed / overdue / expired per department and per course. Seven queries."""
    items = training_items(now=now)
    department_of = dict(Profile.objects.values_list("user_id", "department__name"))
    no_department = str(_("No department"))
    by_dept: dict[str, CoverageRow] = {d.name: CoverageRow(label=d.name, key=d.pk) for d in Department.objects.all()}
    by_course: dict[int, CoverageRow] = {}
    total = CoverageRow(label=str(_("All")))
    for item in items:
        dept = department_of.get(item.user.pk) or no_department
        by_dept.setdefault(dept, CoverageRow(label=dept)).add(item)
        by_course.setdefault(item.course.pk, CoverageRow(label=item.course.title, key=item.course)).add(item)
        total.add(item)
    return {
        "departments": [row for row in by_dept.values() if row.assigned],
        "courses": sorted(by_course.values(), key=lambda r: r.label),
        "total": total,
        "items": items,
    }
