"""Post-incident reviews and their action items (plans.ActionItem, shared with drills)."""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from plans import services as plan_services
from plans.models import ActionItem

from ..models import Incident, PostIncidentReview, TimelineEntry
from ._common import lock_incident, log

REVIEW_FIELDS = ("summary", "root_cause", "went_well", "went_badly", "lessons")


@transaction.atomic
def review_save(*, incident: Incident, user, **fields) -> PostIncidentReview:
    """Write or update the review of a resolved or closed incident."""
    locked = lock_incident(incident)
    if locked.status not in (Incident.Status.RESOLVED, Incident.Status.CLOSED):
        raise ValidationError(
            {"incident": _("Only a resolved or closed incident can be reviewed; %(ref)s is %(status)s.")
             % {"ref": locked.reference, "status": locked.get_status_display().lower()}}
        )  # fmt: skip
    review = PostIncidentReview.objects.select_for_update().filter(incident=locked).first()
    created = review is None
    if created:
        review = PostIncidentReview(incident=locked, author=user)
    for key, value in fields.items():
        if key in REVIEW_FIELDS:
            setattr(review, key, value)
    review.full_clean()
    review.save()
    log(
        locked,
        TimelineEntry.Kind.REVIEW,
        _("Post-incident review written") if created else _("Post-incident review updated"),
        author=user,
        data={"review": review.pk},
    )
    return review


@transaction.atomic
def review_complete(*, review: PostIncidentReview, user) -> PostIncidentReview:
    review = PostIncidentReview.objects.select_for_update(of=("self",)).select_related("incident").get(pk=review.pk)
    if review.completed_at:
        raise ValidationError({"review": _("This review is already complete.")})
    if not review.root_cause.strip():
        raise ValidationError({"root_cause": _("Write the root cause before completing the review.")})
    review.completed_at = timezone.now()
    review.save(update_fields=["completed_at", "updated_at"])
    log(
        review.incident,
        TimelineEntry.Kind.REVIEW,
        _("Post-incident review completed"),
        author=user,
        data={"review": review.pk},
    )
    return review


@transaction.atomic
def review_add_action_item(
    *, review: PostIncidentReview, user, title: str, owner, due_date: datetime.date, description: str = ""
) -> ActionItem:
    item = plan_services.action_item_create(
        source=review, title=title, owner=owner, due_date=due_date, description=description
    )
    log(
        review.incident,
        TimelineEntry.Kind.REVIEW,
        _("Action item: %(title)s (owner %(owner)s, due %(due)s)")
        % {"title": item.title, "owner": owner.get_full_name() or owner.get_username(), "due": due_date},
        author=user,
        data={"action_item": item.pk},
    )
    return item
