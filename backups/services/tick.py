"""The tick: claim the policies and locations due and enqueue their tasks; "verify now"."""

from __future__ import annotations

import datetime
import uuid

from django.db import transaction
from django.utils import timezone

from ..models import BackupLocation, BackupPolicy

# --- The tick ------------------------------------------------------------------------------------


def claim_due_policies(*, now=None, limit: int = 50) -> list[int]:
    """Claim the policies due for verification (moving their next time forward) and enqueue one
    task each once the claim is committed. Safe for concurrent ticks (skip_locked)."""
    from .. import tasks

    now = now or timezone.now()
    with transaction.atomic():
        due = list(
            BackupPolicy.objects.select_for_update(skip_locked=True)
            .filter(enabled=True)
            .filter(models_q_due("next_verification_at", now))
            .order_by("next_verification_at", "pk")[:limit]
        )
        for policy in due:
            policy.next_verification_at = now + datetime.timedelta(minutes=policy.verify_every_minutes)
            policy.save(update_fields=["next_verification_at"])
        ids = [p.pk for p in due]
        pass_key = f"tick-{now:%Y%m%dT%H%M%S.%f}"
        for pk in ids:
            transaction.on_commit(lambda pk=pk: tasks.verify_policy.delay(pk, None, pass_key))
    return ids


def claim_due_locations(*, now=None, limit: int = 100) -> list[int]:
    from .. import tasks

    now = now or timezone.now()
    with transaction.atomic():
        due = list(
            BackupLocation.objects.select_for_update(skip_locked=True)
            .filter(kind__in=BackupLocation.DIRECTORY_KINDS)
            .exclude(path="")
            .filter(models_q_due("next_scan_at", now))
            .order_by("next_scan_at", "pk")[:limit]
        )
        for location in due:
            location.next_scan_at = now + datetime.timedelta(minutes=location.scan_every_minutes)
            location.save(update_fields=["next_scan_at"])
        ids = [loc.pk for loc in due]
        for pk in ids:
            transaction.on_commit(lambda pk=pk: tasks.scan_location.delay(pk))
    return ids


def models_q_due(field: str, now):
    from django.db.models import Q

    return Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__lte": now})


def request_verification(*, policy: BackupPolicy, kinds=None) -> None:
    """ "Verify now": enqueue a verification of the policy once the caller's transaction commits."""
    from .. import tasks

    kinds = [str(k) for k in kinds] if kinds else None
    pass_key = f"now-{uuid.uuid4().hex[:16]}"
    transaction.on_commit(lambda: tasks.verify_policy.delay(policy.pk, kinds, pass_key))
