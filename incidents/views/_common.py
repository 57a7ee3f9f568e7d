"""Helpers shared by the incident pages: access, keyset pagination, durations."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from incidents.forms import attach_service_error

PAGE_SIZE = 50


def perm_required(perm: str) -> Callable:
    """Login first (anonymous → login page), then the permission (logged in without it → 403)."""

    def decorator(view: Callable) -> Callable:
        return login_required(permission_required(perm, raise_exception=True)(view))

    return decorator


def call_service(form, action: Callable, **kwargs):
    """Call a service; on a rule broken, put the reason on the form and return None."""
    try:
        return action(**kwargs)
    except ValidationError as exc:
        attach_service_error(form, exc)
        return None


# --- Keyset pagination -----------------------------------------------------------------------------
#
# OFFSET pagination makes the database count and skip every earlier row (COUNT(*) over 100,000
# incidents on every page, and page 2,000 reads 100,000 rows). A keyset page starts right after the
# last row shown: "opened_at < t OR (opened_at = t AND id < n)", written as
# "opened_at <= t AND (opened_at < t OR id < n)" so the first condition bounds the index scan.


@dataclass(frozen=True)
class KeyField:
    name: str
    descending: bool
    kind: str = "int"  # "int", "datetime" or "str"

    def encode(self, value) -> str:
        if self.kind == "datetime":
            return value.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        return str(value)

    def decode(self, text: str):
        if self.kind == "datetime":
            value = datetime.datetime.fromisoformat(text)
            if timezone.is_naive(value):
                raise ValueError("naive")
            return value
        if self.kind == "int":
            return int(text)
        return text


def _after(fields: Sequence[KeyField], values: Sequence) -> Q:
    first, value = fields[0], values[0]
    strict = "lt" if first.descending else "gt"
    if len(fields) == 1:
        return Q(**{f"{first.name}__{strict}": value})
    loose = "lte" if first.descending else "gte"
    return Q(**{f"{first.name}__{loose}": value}) & (
        Q(**{f"{first.name}__{strict}": value}) | _after(fields[1:], values[1:])
    )


@dataclass
class KeysetPage:
    rows: list
    next_cursor: str | None
    is_first: bool

    @property
    def has_next(self) -> bool:
        return self.next_cursor is not None


def keyset_page(qs: QuerySet, fields: Sequence[KeyField], cursor: str | None, size: int = PAGE_SIZE) -> KeysetPage:
    """One page of `qs` ordered by `fields`, starting after `cursor` ("v1,v2,…"; a malformed one
    shows the first page). One query: it fetches one row more than the page to know if there is a next."""
    qs = qs.order_by(*[f"-{f.name}" if f.descending else f.name for f in fields])
    values = None
    if cursor:
        parts = cursor.split(",")
        if len(parts) == len(fields):
            try:
                values = [f.decode(p) for f, p in zip(fields, parts, strict=True)]
            except ValueError:
                values = None
    if values is not None:
        qs = qs.filter(_after(fields, values))
    rows = list(qs[: size + 1])
    next_cursor = None
    if len(rows) > size:
        rows = rows[:size]
        last = rows[-1]
        next_cursor = ",".join(f.encode(_attr(last, f.name)) for f in fields)
    return KeysetPage(rows=rows, next_cursor=next_cursor, is_first=values is None)


def _attr(obj, name: str):
    return obj.pk if name in ("id", "pk") else getattr(obj, name)


def query_with(request: HttpRequest, **params) -> str:
    query = request.GET.copy()
    for key, value in params.items():
        if value in (None, ""):
            query.pop(key, None)
        else:
            query[key] = value
    return query.urlencode()


# --- Durations -------------------------------------------------------------------------------------


def duration(value: datetime.timedelta | float | int | None) -> str:
    """A duration for people: "45 s", "12 min", "3 h 20 min", "2 d 4 h"."""
    if value is None:
        return "—"
    seconds = value.total_seconds() if isinstance(value, datetime.timedelta) else float(value)
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return ngettext("%(n)d second", "%(n)d seconds", seconds) % {"n": seconds}
    minutes = seconds // 60
    if minutes < 60:
        return _("%(n)d min") % {"n": minutes}
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return _("%(h)d h %(m)d min") % {"h": hours, "m": minutes} if minutes else _("%(h)d h") % {"h": hours}
    days, hours = divmod(hours, 24)
    return _("%(d)d d %(h)d h") % {"d": days, "h": hours} if hours else _("%(d)d d") % {"d": days}
