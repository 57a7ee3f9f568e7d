"""Small helpers shared by the incident services: timeline writes, row locks, the database kind."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from ..models import Incident, TimelineEntry


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


# Key of the PostgreSQL advisory lock that serialises alert grouping (see alerts.py). Any 64-bit
# number no other code uses; "ERPCGRP" in ASCII.
GROUPING_LOCK_KEY = 0x45525043475250


def advisory_xact_lock(key: int) -> None:
    """Hold a transaction-scoped advisory lock on PostgreSQL. On SQLite every write transaction is
    already serialised (BEGIN IMMEDIATE, see settings), so there is nothing to do."""
    if is_postgres():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


def log(
    incident: Incident, kind: str, message: str, *, author=None, data: dict[str, Any] | None = None, at=None
) -> TimelineEntry:
    return TimelineEntry.objects.create(
        incident=incident, kind=kind, message=message, author=author, data=data or {}, at=at or timezone.now()
    )


def lock_incident(incident: Incident | int) -> Incident:
    """The incident's row, locked until the transaction ends (a no-op on SQLite, where the
    IMMEDIATE transaction already holds the database's write lock)."""
    pk = incident.pk if isinstance(incident, Incident) else incident
    return Incident.objects.select_for_update().get(pk=pk)


def who(user) -> str:
    if user is None:
        return _("the system")
    return user.get_full_name() or user.get_username()


def when(value) -> str:
    return formats.date_format(timezone.localtime(value), "DATETIME_FORMAT")


def check_version(incident: Incident, expected_version: int | None) -> None:
    """Optimistic concurrency: refuse a change made against an older version of the incident,
    naming who changed it last and when, so the person can reload and decide again."""
    if expected_version is None or int(expected_version) == incident.version:
        return
    last = TimelineEntry.objects.filter(incident=incident).select_related("author").order_by("-at", "-id").first()
    raise ValidationError(
        {
            "version": _(
                "%(ref)s was changed by %(who)s at %(when)s while you were editing it; reload it and try again."
            )
            % {
                "ref": incident.reference,
                "who": who(last.author) if last else _("someone else"),
                "when": when(last.at if last else incident.updated_at),
            }
        },
        code="stale",
    )


def bump_version(incident: Incident, *fields: str) -> None:
    incident.version += 1
    incident.save(update_fields=[*fields, "version", "updated_at"])
