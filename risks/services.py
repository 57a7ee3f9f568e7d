"""Every state change of the risk register, one transaction each."""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from plans.services import remind_owners_once_a_day

from .models import Risk

logger = logging.getLogger(__name__)

RISK_FIELDS = (
    "title",
    "description",
    "category",
    "likelihood",
    "impact",
    "residual_likelihood",
    "residual_impact",
    "owner",
    "treatment",
    "treatment_plan",
    "controls",
    "last_reviewed_on",
)


def _save(risk: Risk, services, plans) -> Risk:
    risk.full_clean(exclude=["next_review_date"])
    risk.compute_scores()
    risk.save()
    if services is not None:
        risk.services.set(list(services))
    if plans is not None:
        risk.plans.set(list(plans))
    return risk


@transaction.atomic
def risk_create(*, services: Iterable | None = (), plans: Iterable | None = (), **fields) -> Risk:
    risk = Risk(**{k: v for k, v in fields.items() if k in RISK_FIELDS})
    return _save(risk, services, plans)


@transaction.atomic
def risk_update(*, risk: Risk, services: Iterable | None = None, plans: Iterable | None = None, **fields) -> Risk:
    # Lock the row: a concurrent edit waits and then applies on top, instead of overwriting.
    risk = Risk.objects.select_for_update().get(pk=risk.pk)
    for key, value in fields.items():
        if key in RISK_FIELDS:
            setattr(risk, key, value)
    return _save(risk, services, plans)


@transaction.atomic
def risk_mark_reviewed(*, risk: Risk, on: datetime.date | None = None) -> Risk:
    """Record a review: the next review date moves forward by the cadence of the risk's level."""
    risk = Risk.objects.select_for_update().get(pk=risk.pk)
    risk.last_reviewed_on = on or timezone.localdate()
    risk.review_reminded_on = None
    risk.compute_scores()
    risk.save(
        update_fields=[
            "last_reviewed_on",
            "review_reminded_on",
            "next_review_date",
            "level",
            "inherent_score",
            "residual_score",
            "updated_at",
        ]
    )
    return risk


@transaction.atomic
def risk_delete(*, risk: Risk) -> None:
    risk.delete()


def remind_overdue_reviews(*, today: datetime.date | None = None) -> int:
    """Email each owner of a risk whose review is overdue, at most once a day per risk
    (plans.services.remind_owners_once_a_day: safe to run twice or in parallel)."""

    def compose(risk: Risk) -> tuple[str, str]:
        return (
            _("Risk review overdue: %(title)s") % {"title": risk.title},
            _(
                'The review of the risk "%(title)s" was due on %(due)s.\n'
                "Open it, check likelihood, impact and controls, and mark it reviewed:\n%(url)s"
            )
            % {"title": risk.title, "due": risk.next_review_date, "url": settings.SITE_URL + risk.get_absolute_url()},
        )

    today = today or timezone.localdate()
    return remind_owners_once_a_day(
        Risk.objects.review_overdue(today), claimed_field="review_reminded_on", today=today, compose=compose
    )
