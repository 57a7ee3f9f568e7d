"""Escalation: while an incident stays unacknowledged, notify level after level of its policy.

Level 1 is due `delay_minutes` after the incident opened (0 = at once, inside the opening
transaction); level N is due `delay_minutes` after level N-1 was due. After the last level the
policy may repeat it every `repeat_minutes`. Acknowledging (or any status past "open") clears
`next_escalation_at`, which stops it.

The periodic tick `escalate_due()` claims due incidents with select_for_update(skip_locked=True),
so two ticks running at once split the work instead of notifying twice; and it advances the
level in the same transaction as it writes the outbox rows, so a second run finds nothing due.
Escalating only writes rows (the outbox sends), so the tick does the work inline instead of
fanning out one task per incident.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from plans.models import ERPService, TeamMember

from ..models import EscalationLevel, EscalationPolicy, Incident, Notification, TimelineEntry
from . import notifications
from ._common import log

POLICY_FIELDS = ("name", "description", "is_default", "repeat_minutes")
LEVEL_FIELDS = ("order", "delay_minutes", "notify_role", "notify_user", "notify_channel")


# --- Policies and levels -----------------------------------------------------------------------


@transaction.atomic
def policy_create(*, name: str, services: Iterable[ERPService] = (), **fields) -> EscalationPolicy:
    policy = EscalationPolicy(name=name, **{k: v for k, v in fields.items() if k in POLICY_FIELDS})
    if policy.is_default:
        # One default at a time: the new default takes over from the previous one.
        EscalationPolicy.objects.filter(is_default=True).update(is_default=False)
    policy.full_clean()
    policy.save()
    policy.services.set(list(services))
    return policy


@transaction.atomic
def policy_update(
    *, policy: EscalationPolicy, services: Iterable[ERPService] | None = None, **fields
) -> EscalationPolicy:
    policy = EscalationPolicy.objects.select_for_update().get(pk=policy.pk)
    for key, value in fields.items():
        if key in POLICY_FIELDS:
            setattr(policy, key, value)
    if policy.is_default:
        EscalationPolicy.objects.filter(is_default=True).exclude(pk=policy.pk).update(is_default=False)
    policy.full_clean()
    policy.save()
    if services is not None:
        policy.services.set(list(services))
    return policy


@transaction.atomic
def policy_delete(*, policy: EscalationPolicy) -> None:
    policy.delete()


@transaction.atomic
def level_create(*, policy: EscalationPolicy, **fields) -> EscalationLevel:
    level = EscalationLevel(policy=policy, **{k: v for k, v in fields.items() if k in LEVEL_FIELDS})
    if level.order is None:
        last = policy.levels.order_by("-order").values_list("order", flat=True).first()
        level.order = (last or 0) + 1
    level.full_clean()
    level.save()
    return level


@transaction.atomic
def level_update(*, level: EscalationLevel, **fields) -> EscalationLevel:
    level = EscalationLevel.objects.select_for_update().get(pk=level.pk)
    for key, value in fields.items():
        if key in LEVEL_FIELDS:
            setattr(level, key, value)
    level.full_clean()
    level.save()
    return level


@transaction.atomic
def level_delete(*, level: EscalationLevel) -> None:
    level.delete()


# --- Running escalation ------------------------------------------------------------------------


def policy_for(services: Iterable[ERPService]) -> EscalationPolicy | None:
    ids = [s.pk for s in services]
    policy = None
    if ids:
        policy = EscalationPolicy.objects.filter(services__in=ids).order_by("name").first()
    return policy or EscalationPolicy.objects.filter(is_default=True).first()


def _levels(policy: EscalationPolicy) -> list[EscalationLevel]:
    return list(policy.levels.select_related("notify_role", "notify_user", "notify_channel").order_by("order"))


def start(*, incident: Incident, services: Iterable[ERPService], now: datetime.datetime) -> None:
    """Give a new incident its policy and first deadline; notify level 1 at once if its delay is 0.

    Drill incidents never escalate: on-call policies page people outside the drill (the drill
    pages its own participants, drills/services.py drill_raise_alert)."""
    if incident.is_drill:
        return
    policy = policy_for(services)
    if policy is None:
        return
    levels = _levels(policy)
    incident.escalation_policy = policy
    incident.escalation_level = 0
    incident.next_escalation_at = now + datetime.timedelta(minutes=levels[0].delay_minutes) if levels else None
    incident.save(update_fields=["escalation_policy", "escalation_level", "next_escalation_at"])
    if levels and incident.next_escalation_at <= now:
        _escalate(incident, now, levels)


def escalate_due(*, now: datetime.datetime | None = None, limit: int = 100) -> int:
    """One tick: escalate every unacknowledged incident whose next level is due. Safe to run twice
    and in parallel. Returns how many incidents were escalated."""
    now = now or timezone.now()
    with transaction.atomic():
        due = list(
            Incident.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(status=Incident.Status.OPEN, next_escalation_at__lte=now)
            .select_related("escalation_policy")
            .order_by("next_escalation_at", "id")[:limit]
        )
        for incident in due:
            if incident.escalation_policy is None:
                incident.next_escalation_at = None
                incident.save(update_fields=["next_escalation_at"])
                continue
            _escalate(incident, now, _levels(incident.escalation_policy))
    return len(due)


def _escalate(incident: Incident, now: datetime.datetime, levels: list[EscalationLevel]) -> None:
    """Notify the next level (or repeat the last) and set the following deadline."""
    if not levels:
        incident.next_escalation_at = None
        incident.save(update_fields=["next_escalation_at"])
        return
    scheduled = incident.next_escalation_at or now
    index = incident.escalation_level  # levels already notified
    repeat = index >= len(levels)
    level = levels[-1] if repeat else levels[index]
    targets = _notify_level(incident, level, repeat=repeat)
    if not repeat:
        incident.escalation_level = index + 1
    if incident.escalation_level < len(levels):
        incident.next_escalation_at = scheduled + datetime.timedelta(
            minutes=levels[incident.escalation_level].delay_minutes
        )
    elif incident.escalation_policy.repeat_minutes:
        incident.next_escalation_at = scheduled + datetime.timedelta(minutes=incident.escalation_policy.repeat_minutes)
    else:
        incident.next_escalation_at = None
    # A deadline already in the past (the tick was down for a while) is pulled to now, so the
    # levels still follow one another one tick apart instead of all firing in one go.
    if incident.next_escalation_at is not None and incident.next_escalation_at < now:
        incident.next_escalation_at = now
    # No version bump: escalation never conflicts with what people edit.
    incident.save(update_fields=["escalation_level", "next_escalation_at"])
    message = (
        _("Not acknowledged: level %(n)d notified again (%(targets)s)")
        if repeat
        else _("Not acknowledged: escalated to level %(n)d (%(targets)s)")
    ) % {"n": level.order, "targets": ", ".join(targets) or _("nobody reachable")}
    log(
        incident,
        TimelineEntry.Kind.ESCALATION,
        message,
        data={"level": level.order, "repeat": repeat, "targets": targets},
        at=now,
    )


def _notify_level(incident: Incident, level: EscalationLevel, *, repeat: bool) -> list[str]:
    targets: list[str] = []
    channels = []
    emails: list[str] = []
    if level.notify_channel_id and level.notify_channel.enabled:
        channels.append(level.notify_channel)
        targets.append(level.notify_channel.name)
    if level.notify_user_id:
        if level.notify_user.email:
            emails.append(level.notify_user.email)
        targets.append(level.notify_user.get_full_name() or level.notify_user.get_username())
    if level.notify_role_id:
        members = TeamMember.objects.filter(role_id=level.notify_role_id).select_related("user").order_by("rank")
        found = [m.email or (m.user.email if m.user_id else "") for m in members]
        emails += [e for e in found if e]
        targets.append(f"{level.notify_role.name} ({len([e for e in found if e])})")
    text = _("Escalation level %(n)d: not acknowledged yet.") % {"n": level.order}
    notifications.notify_recipients(
        incident=incident, event=Notification.Event.ESCALATED, channels=channels, emails=emails, text=text
    )
    return targets
