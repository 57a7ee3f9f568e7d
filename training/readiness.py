"""Readiness before a drill: has each participant completed the emergency-procedure course for the
plan (a completion that has not expired) and acknowledged the plan's current published version?

Called by the drill page (drills/ imports it guarded, since nothing depends on training):

    from training.readiness import plan_readiness
    rows = plan_readiness(plan=drill.plan, users=participants)

Four queries whatever the number of people (pinned in tests/training/test_readiness.py).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.translation import gettext as _

from plans.models import EmergencyPlan

from .models import Acknowledgement, Completion, Course


@dataclass
class Readiness:
    user: object
    course_done: bool
    acknowledged: bool
    missing: list[str] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return self.course_done and self.acknowledged


def plan_readiness(*, plan: EmergencyPlan, users: Iterable, now: datetime.datetime | None = None) -> list[Readiness]:
    """One Readiness per user, in the order given."""
    now = now or timezone.now()
    users = list(users)
    ids = [u.pk for u in users]
    course_ids = list(
        Course.objects.active().filter(kind=Course.Kind.EMERGENCY, plan=plan).values_list("pk", flat=True)
    )
    version = plan.versions.published().first()
    done = set(
        Completion.objects.filter(course_id__in=course_ids, user_id__in=ids)
        .exclude(expires_at__lte=now)
        .values_list("user_id", flat=True)
    )
    acknowledged = (
        set(Acknowledgement.objects.filter(plan_version=version, user_id__in=ids).values_list("user_id", flat=True))
        if version
        else set()
    )
    rows = []
    for user in users:
        missing = []
        if not course_ids:
            missing.append(_("There is no emergency-procedure course for this plan yet."))
        elif user.pk not in done:
            missing.append(_("Has not completed the emergency-procedure course (or it has expired)."))
        if version is None:
            missing.append(_("The plan has no published version to acknowledge."))
        elif user.pk not in acknowledged:
            missing.append(_("Has not acknowledged version %(n)d of the plan.") % {"n": version.number})
        rows.append(
            Readiness(
                user=user,
                course_done=bool(course_ids) and user.pk in done,
                acknowledged=user.pk in acknowledged,
                missing=missing,
            )
        )
    return rows
