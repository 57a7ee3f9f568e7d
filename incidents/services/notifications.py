"""Notification channels and the outbox.

An event (incident opened, severity raised, resolved…) writes one Notification row per matching
channel in the same transaction as the event itself; after commit, one Celery task per row is
queued. The task calls `deliver()`, which claims the row with a conditional UPDATE
(pending → sending), sends, and marks it sent or schedules a retry with exponential backoff. A
periodic `sweep_outbox()` re-queues rows whose time has come (a broker that was down, a message
lost, a retry due) and puts back rows a dead worker left in "sending". So a Redis outage delays
notifications, never loses them; and since only one claim can win, none is sent twice.

Rate limits: a channel with `rate_limit_per_minute` counts what it sent in the last minute. Over
the limit, pending messages are folded into one digest message sent when the minute frees up,
instead of being dropped.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from plans.models import ERPService, FallbackProcedure

from ..models import Incident, Notification, NotificationChannel, TimelineEntry
from . import senders
from ._common import log
from .graph import DependencyGraph

logger = logging.getLogger(__name__)

Event = Notification.Event
Audience = NotificationChannel.Audience
State = Notification.Status

# Which events each audience hears about. Escalations go only to the escalation level's targets.
AUDIENCE_EVENTS = {
    Audience.OPS: {
        Event.OPENED, Event.SEVERITY_RAISED, Event.ACKNOWLEDGED, Event.MITIGATED, Event.RESOLVED,
        Event.REOPENED, Event.PUBLIC_UPDATE,
    },
    Audience.BUSINESS: {Event.OPENED, Event.MITIGATED, Event.RESOLVED, Event.REOPENED, Event.PUBLIC_UPDATE},
    Audience.MANAGEMENT: {Event.OPENED, Event.SEVERITY_RAISED, Event.RESOLVED, Event.REOPENED},
}  # fmt: skip

LEASE = datetime.timedelta(minutes=5)  # a "sending" row older than this belongs to a dead worker
MAX_ATTEMPTS = 8  # 30 s, 1, 2, 4, 8, 16, 32 min… about two hours of trying before giving up
SWEEP_GRACE = datetime.timedelta(seconds=10)  # fresh rows have their own task in flight
RATE_WINDOW = datetime.timedelta(minutes=1)

CHANNEL_FIELDS = (
    "name", "kind", "target", "secret", "min_severity", "audience", "enabled", "include_drills", "rate_limit_per_minute",
)  # fmt: skip


def backoff(attempts: int) -> datetime.timedelta:
    """Delay before the next try after `attempts` failed ones: 30 s doubling, at most an hour."""
    return datetime.timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


# --- Channels ----------------------------------------------------------------------------------


def _apply_default_rate_limit(channel: NotificationChannel, given: bool) -> None:
    if not given and channel.rate_limit_per_minute is None:
        channel.rate_limit_per_minute = NotificationChannel.DEFAULT_RATE_LIMITS.get(channel.kind)


@transaction.atomic
def channel_create(**fields) -> NotificationChannel:
    channel = NotificationChannel(**{k: v for k, v in fields.items() if k in CHANNEL_FIELDS})
    _apply_default_rate_limit(channel, "rate_limit_per_minute" in fields)
    channel.full_clean()
    channel.save()
    return channel


@transaction.atomic
def channel_update(*, channel: NotificationChannel, **fields) -> NotificationChannel:
    channel = NotificationChannel.objects.select_for_update().get(pk=channel.pk)
    for key, value in fields.items():
        if key in CHANNEL_FIELDS:
            setattr(channel, key, value)
    channel.full_clean()
    channel.save()
    return channel


@transaction.atomic
def channel_delete(*, channel: NotificationChannel) -> None:
    channel.delete()


# --- Writing the outbox ------------------------------------------------------------------------


def _incident_context(incident: Incident) -> dict:
    services = list(incident.services.order_by("criticality", "name"))
    return {"services": services}


def _fallbacks(services: list[ERPService]) -> list[FallbackProcedure]:
    # Business users follow the fallback of the business services hit, including those that hit
    # through a dependency (the database is down: sales and shipping follow theirs).
    affected = DependencyGraph().downstream(s.pk for s in services)
    return list(
        FallbackProcedure.objects.filter(service_id__in=affected, service__kind=ERPService.Kind.BUSINESS)
        .select_related("service")
        .order_by("service__criticality", "service__name", "title")
    )


def build_payload(
    incident: Incident, event: str, *, audience: str = Audience.OPS, text: str = "", context: dict | None = None
) -> dict:
    """The snapshot a message is rendered from, taken when the event happens."""
    context = context if context is not None else _incident_context(incident)
    payload = {
        "event": event,
        "event_label": str(Event(event).label),
        "incident_id": incident.pk,
        "reference": incident.reference,
        "title": incident.title,
        "severity": incident.severity,
        "severity_label": incident.severity.upper(),
        "status": incident.status,
        "status_label": str(incident.get_status_display()),
        "services": [s.name for s in context["services"]],
        "url": settings.SITE_URL + incident.get_absolute_url(),
        "is_drill": incident.is_drill,
        "opened_at": incident.opened_at.isoformat(),
        "text": text,
    }
    if audience == Audience.BUSINESS:
        if "fallbacks" not in context:
            context["fallbacks"] = _fallbacks(context["services"])
        payload["public_update"] = incident.public_update
        payload["fallbacks"] = [
            {"title": f.title, "service": f.service.name, "url": settings.SITE_URL + f.get_absolute_url()}
            for f in context["fallbacks"]
        ]
    return payload


def _queue_after_commit(ids: list[int]) -> None:
    if ids:
        transaction.on_commit(lambda: enqueue_delivery(ids))


def enqueue_delivery(ids: Iterable[int]) -> None:
    """Hand rows to the worker. A broker that is down only delays them: the sweep finds them."""
    from ..tasks import deliver_notification

    ids = list(ids)
    if not ids:
        return
    try:
        # One connection for the batch, tried once: with the broker down, the request that opened
        # the incident must not hang in Celery's reconnect loop (seconds per message).
        with deliver_notification.app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=2)
            for pk in ids:
                deliver_notification.apply_async(args=[pk], connection=conn, retry=False)
    except Exception as exc:  # broker unreachable: the rows stay pending for the sweep
        logger.warning("notifications %s not queued (%s); the outbox sweep will send them", ids, exc)


def enqueue_notifications(*, incident: Incident, event: str) -> list[Notification]:
    """Write the outbox rows for an incident event, one per channel that wants it. Call inside the
    transaction of the event, so the rows exist exactly when the event does."""
    channels = [
        c
        for c in NotificationChannel.objects.filter(enabled=True)
        if event in AUDIENCE_EVENTS.get(c.audience, ())
        and c.accepts_severity(incident.severity)
        and (c.include_drills or not incident.is_drill)
    ]
    if not channels:
        return []
    context = _incident_context(incident)
    rows = Notification.objects.bulk_create(
        [
            Notification(
                channel=channel,
                incident=incident,
                event=event,
                payload=build_payload(incident, event, audience=channel.audience, context=context),
            )
            for channel in channels
        ]
    )
    _queue_after_commit([n.pk for n in rows])
    return rows


def notify_recipients(
    *,
    incident: Incident,
    event: str,
    channels: Iterable[NotificationChannel] = (),
    emails: Iterable[str] = (),
    text: str = "",
) -> list[Notification]:
    """Outbox rows to named targets (an escalation level): channels and people's addresses."""
    context = _incident_context(incident)
    rows = [
        Notification(
            channel=c,
            incident=incident,
            event=event,
            payload=build_payload(incident, event, audience=c.audience, text=text, context=context),
        )
        for c in channels
    ]
    rows += [
        Notification(
            recipient=e,
            incident=incident,
            event=event,
            payload=build_payload(incident, event, text=text, context=context),
        )
        for e in dict.fromkeys(emails)
    ]
    rows = Notification.objects.bulk_create(rows)
    _queue_after_commit([n.pk for n in rows])
    return rows


def send_test(*, channel: NotificationChannel, user=None) -> Notification:
    """Send a test message now and return the row, sent or failed with the reason (no retries:
    the person pressing the button wants the answer now)."""
    who = (user.get_full_name() or user.get_username()) if user else ""
    notification = Notification.objects.create(
        channel=channel,
        event=Event.TEST,
        payload={
            "event": Event.TEST,
            "title": _("Test message from ERP Continuity"),
            "text": _("Channel “%(name)s” works.") % {"name": channel.name}
            + (" " + _("Sent by %(who)s.") % {"who": who} if who else ""),
            "url": settings.SITE_URL + "/",
        },
    )
    deliver(notification_id=notification.pk)
    notification.refresh_from_db()
    return notification


# --- Rendering ---------------------------------------------------------------------------------


def render(notification: Notification) -> senders.Message:
    p = notification.payload or {}
    if notification.event == Event.DIGEST:
        return _render_digest(notification)
    if notification.event == Event.TEST:
        return senders.Message(title=p.get("title", ""), lines=[p.get("text", "")], url=p.get("url", ""), data=p)
    prefix = _("[DRILL] ") if p.get("is_drill") else ""
    title = f"{prefix}[{p.get('severity_label', '')}] {p.get('reference', '')} {p.get('title', '')} — {p.get('event_label', '')}"
    lines = [_("Status: %(status)s") % {"status": p.get("status_label", "")}]
    if p.get("services"):
        lines.append(_("Services: %(names)s") % {"names": ", ".join(p["services"])})
    if p.get("text"):
        lines.append(p["text"])
    if p.get("public_update"):
        lines.append(_("Update: %(text)s") % {"text": p["public_update"]})
    links = [(_("Fallback: %(title)s") % {"title": f["title"]}, f["url"]) for f in p.get("fallbacks", [])]
    return senders.Message(
        title=title, lines=lines, url=p.get("url", ""), links=links, severity=p.get("severity", ""), data=p
    )


def _render_digest(digest: Notification) -> senders.Message:
    children = list(digest.folded.order_by("created_at", "id"))
    lines = [render(child).title for child in children]
    worst = min((c.payload.get("severity", "sev4") for c in children), default="")
    return senders.Message(
        title=_("%(n)d incident notifications (batched: channel rate limit)") % {"n": len(children)},
        lines=lines,
        url=settings.SITE_URL + "/incidents/",
        severity=worst,
        data={"event": Event.DIGEST, "items": [c.payload for c in children]},
    )


# --- Delivering --------------------------------------------------------------------------------


def deliver(*, notification_id: int, now: datetime.datetime | None = None) -> str:
    """Send one outbox row. Returns "sent", "retry", "failed", "folded", "deferred" or "skipped"
    (another worker has it, or it is not due). Call outside a transaction: each step commits."""
    now = now or timezone.now()
    # The claim: only one worker can move the row from pending to sending. The lease in
    # next_attempt_at lets the sweep recover the row if this worker dies before finishing.
    claimed = Notification.objects.filter(pk=notification_id, status=State.PENDING, next_attempt_at__lte=now).update(
        status=State.SENDING, attempts=F("attempts") + 1, next_attempt_at=now + LEASE
    )
    if not claimed:
        return "skipped"
    notification = Notification.objects.select_related("channel", "incident").get(pk=notification_id)
    channel = notification.channel
    if channel is not None and not channel.enabled and notification.event != Event.TEST:
        _finish(notification, State.FAILED, error=_("The channel is disabled."))
        return "failed"
    if channel is not None and channel.rate_limit_per_minute:
        outcome = _take_rate_slot(notification, now)
        if outcome:
            return outcome
    try:
        senders.send(channel=channel, recipient=notification.recipient, message=render(notification))
    except Exception as exc:  # any failure of the far side is retried, never a crash loop
        return _retry_later(notification, exc, now)
    with transaction.atomic():  # marked sent and on the timeline together
        _finish(notification, State.SENT, sent_at=now)
        _log_delivery(notification, now)
    return "sent"


def _finish(notification: Notification, status: str, *, error: str = "", sent_at=None) -> None:
    Notification.objects.filter(pk=notification.pk, status=State.SENDING).update(
        status=status, last_error=error, sent_at=sent_at
    )


def _retry_later(notification: Notification, exc: Exception, now: datetime.datetime) -> str:
    error = str(exc)[:1000] or exc.__class__.__name__
    if notification.event == Event.TEST or notification.attempts >= MAX_ATTEMPTS:
        _finish(notification, State.FAILED, error=error)
        if notification.incident_id:
            log(
                notification.incident,
                TimelineEntry.Kind.NOTIFICATION,
                _("Notification to %(target)s failed after %(n)d attempts: %(error)s")
                % {"target": _target(notification), "n": notification.attempts, "error": error},
                data={"notification": notification.pk, "failed": True},
            )
        logger.warning("notification %s failed for good: %s", notification.pk, error)
        return "failed"
    Notification.objects.filter(pk=notification.pk, status=State.SENDING).update(
        status=State.PENDING, next_attempt_at=now + backoff(notification.attempts), last_error=error, sent_at=None
    )
    logger.info("notification %s attempt %s failed (%s); retrying later", notification.pk, notification.attempts, error)
    return "retry"


def _target(notification: Notification) -> str:
    return notification.channel.name if notification.channel_id else notification.recipient


def _log_delivery(notification: Notification, now: datetime.datetime) -> None:
    if notification.event == Event.DIGEST:
        rows = list(notification.folded.select_related("incident").exclude(incident=None))
    elif notification.incident_id:
        rows = [notification]
    else:
        rows = []
    seen: set[tuple[int, str]] = set()
    for row in rows:
        key = (row.incident_id, row.event)
        if key in seen:
            continue
        seen.add(key)
        log(
            row.incident,
            TimelineEntry.Kind.NOTIFICATION,
            _("Notified %(target)s: %(event)s") % {"target": _target(notification), "event": Event(row.event).label},
            data={"notification": notification.pk, "event": row.event},
            at=now,
        )


@transaction.atomic
def _take_rate_slot(notification: Notification, now: datetime.datetime) -> str | None:
    """Reserve a slot in the channel's last minute, or fold the message into a digest.

    The channel row lock serialises this decision between workers; the slot is reserved by
    stamping sent_at on the row being sent, so the next worker counts it before it finishes."""
    channel = NotificationChannel.objects.select_for_update().get(pk=notification.channel_id)
    limit = channel.rate_limit_per_minute
    recent = list(
        Notification.objects.filter(channel=channel, sent_at__gt=now - RATE_WINDOW)
        .order_by("sent_at")
        .values_list("sent_at", flat=True)
    )
    free_at = (recent[0] + RATE_WINDOW) if len(recent) >= limit else now
    pending_digest = (
        Notification.objects.select_for_update()
        .filter(channel=channel, event=Event.DIGEST, status=State.PENDING)
        .exclude(pk=notification.pk)
        .first()
    )
    others = Notification.objects.filter(channel=channel, status=State.PENDING).exclude(event=Event.DIGEST)
    if notification.event != Event.DIGEST and (pending_digest is not None or len(recent) >= limit):
        digest = pending_digest or Notification.objects.create(
            channel=channel, event=Event.DIGEST, payload={"event": Event.DIGEST}, next_attempt_at=free_at
        )
        Notification.objects.filter(pk=notification.pk).update(status=State.FOLDED, digest=digest)
        others.update(status=State.FOLDED, digest=digest)
        return "folded"
    if notification.event == Event.DIGEST:
        # Everything still waiting for this channel rides along in the digest.
        others.update(status=State.FOLDED, digest=notification)
        if len(recent) >= limit:
            Notification.objects.filter(pk=notification.pk).update(
                status=State.PENDING, next_attempt_at=free_at, attempts=F("attempts") - 1
            )
            return "deferred"
    Notification.objects.filter(pk=notification.pk).update(sent_at=now)
    return None


def sweep_outbox(*, now: datetime.datetime | None = None, limit: int = 500) -> int:
    """Re-queue what is due: pending rows whose task was lost or whose retry time came, and rows
    a dead worker left in "sending" past their lease. Returns how many rows were queued."""
    now = now or timezone.now()
    Notification.objects.filter(status=State.SENDING, next_attempt_at__lte=now).update(
        status=State.PENDING, sent_at=None
    )
    ids = list(
        Notification.objects.due(now - SWEEP_GRACE)
        .order_by("next_attempt_at", "id")
        .values_list("id", flat=True)[:limit]
    )
    enqueue_delivery(ids)
    return len(ids)
