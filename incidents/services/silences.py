"""Silences and maintenance windows: mute matching alerts for a while (see alerts.py)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..models import Silence

SILENCE_FIELDS = (
    "kind", "service", "source", "fingerprint_pattern", "summary_pattern", "starts_at", "ends_at", "reason",
)  # fmt: skip


@transaction.atomic
def silence_create(*, user=None, **fields) -> Silence:
    silence = Silence(author=user, **{k: v for k, v in fields.items() if k in SILENCE_FIELDS})
    if silence.starts_at is None:
        silence.starts_at = timezone.now()
    silence.full_clean()
    silence.save()
    return silence


@transaction.atomic
def silence_update(*, silence: Silence, **fields) -> Silence:
    silence = Silence.objects.select_for_update().get(pk=silence.pk)
    for key, value in fields.items():
        if key in SILENCE_FIELDS:
            setattr(silence, key, value)
    silence.full_clean()
    silence.save()
    return silence


@transaction.atomic
def silence_expire(*, silence: Silence, user=None) -> Silence:
    """End a silence now. Alerts it muted fire again on their next raise."""
    silence = Silence.objects.select_for_update().get(pk=silence.pk)
    now = timezone.now()
    if silence.ends_at <= now:
        raise ValidationError({"ends_at": _("This silence has already ended.")})
    silence.ends_at = max(now, silence.starts_at + timezone.timedelta(microseconds=1))
    silence.save(update_fields=["ends_at"])
    return silence


@transaction.atomic
def silence_delete(*, silence: Silence) -> None:
    silence.delete()
