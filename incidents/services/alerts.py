"""The alert contract (DESIGN.md): the one entry point every automatic source raises into.

    raise_alert(*, source, fingerprint, severity, summary, service=None, details=None, at=None) -> Alert
    resolve_alert(*, source, fingerprint, at=None) -> Alert | None

- At most one active (firing or silenced) alert per (source, fingerprint), enforced by a partial
  unique index. Raising it again bumps `count` and `last_seen` — no new row, no new incident.
- A new alert that matches an active silence or maintenance window is stored as silenced and opens
  nothing. A silence that has ended stops applying by itself: the next raise of a silenced alert
  finds no active silence and turns it into a firing alert, which then groups as a new one.
- A new firing alert joins an open incident, or opens one. Grouping rule, first match wins:
  1. an open incident that an earlier alert with the same (source, fingerprint) belongs to
     (a flapping alert stays on its incident);
  2. an open incident covering the alert's service or anything it depends on, transitively
     (the ERP database is down: the sales alert joins the database incident). Among several,
     the one covering the service itself, then the most severe, then the oldest;
  3. an open incident opened by alerts in the last GROUPING_WINDOW on a service that depends on
     the alert's service (the sales alert came first, then the database alert: the database is
     the likely cause, so it joins, and the next four services' alerts join through rule 2).
     Only recent, alert-opened incidents: an unrelated incident a person opened yesterday on a
     dependent service must not swallow a new database outage.
  Drill alerts only group with drill incidents, and real alerts only with real incidents.
  Joining adds the alert's service to the incident; a more severe alert raises its severity.
- Every new alert attached, every severity raise and every resolve is a timeline entry. Repeats
  only bump the counter (a timeline row per repeat would bury the humans' entries).

Concurrency: two raises of the same new alert race on the unique index; the loser's savepoint
rolls back and it retries as a repeat, so one alert and one incident come out. Grouping of new
alerts (rare next to repeats) is serialised by a transaction-scoped advisory lock on PostgreSQL
(on SQLite the IMMEDIATE write transaction already serialises), so two different new alerts of
one service cannot both open an incident.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from plans.models import ERPService, Severity

from ..models import Alert, Incident, Notification, Silence, TimelineEntry, is_more_severe
from . import lifecycle, notifications
from ._common import GROUPING_LOCK_KEY, advisory_xact_lock, bump_version, lock_incident, log
from .graph import DependencyGraph

GROUPING_WINDOW = datetime.timedelta(minutes=15)
MAX_RETRIES = 3

Kind = TimelineEntry.Kind


def _clean_input(source: str, fingerprint: str, severity: str, summary: str, details: Any) -> tuple[str, str, str]:
    errors = {}
    source = (source or "").strip()
    fingerprint = (fingerprint or "").strip()
    summary = (summary or "").strip()
    if not source:
        errors["source"] = _("Name the source of the alert.")
    elif len(source) > 64:
        errors["source"] = _("The source is at most 64 characters.")
    if not fingerprint:
        errors["fingerprint"] = _("Give the alert's fingerprint.")
    elif len(fingerprint) > 255:
        errors["fingerprint"] = _("The fingerprint is at most 255 characters.")
    if severity not in Severity.values:
        errors["severity"] = _("Choose a severity from sev1 to sev4.")
    if not summary:
        errors["summary"] = _("Summarise the problem.")
    if details is not None and not isinstance(details, dict):
        errors["details"] = _("Details must be an object.")
    if errors:
        raise ValidationError(errors)
    return source, fingerprint, summary[:500]


def raise_alert(
    *,
    source: str,
    fingerprint: str,
    severity: str,
    summary: str,
    service: ERPService | None = None,
    details: dict | None = None,
    at: datetime.datetime | None = None,
    is_drill: bool = False,
) -> Alert:
    source, fingerprint, summary = _clean_input(source, fingerprint, severity, summary, details)
    at = at or timezone.now()
    for attempt in range(MAX_RETRIES):
        try:
            # One savepoint per attempt: a lost insert race rolls back only this attempt.
            with transaction.atomic():
                return _raise(source, fingerprint, severity, summary, service, details, at, is_drill)
        except IntegrityError:
            if attempt == MAX_RETRIES - 1:
                raise
    raise AssertionError("unreachable")


def _raise(source, fingerprint, severity, summary, service, details, at, is_drill) -> Alert:
    # The incident comes along (for its status) but only the alert row is locked: locks are always
    # taken alert first, then incident, never the other way round.
    alert = (
        Alert.objects.select_for_update(of=("self",))
        .select_related("incident")
        .filter(source=source, fingerprint=fingerprint, status__in=Alert.ACTIVE_STATUSES)
        .first()
    )
    if alert is not None:
        return _repeat(alert, severity, summary, service, details, at)
    silence = _matching_silence(source, fingerprint, summary, service, at)
    alert = Alert.objects.create(
        source=source,
        fingerprint=fingerprint,
        severity=severity,
        summary=summary,
        service=service,
        details=details or {},
        status=Alert.Status.SILENCED if silence else Alert.Status.FIRING,
        silence=silence,
        first_seen=at,
        last_seen=at,
        is_drill=is_drill,
    )
    if silence is None:
        _group(alert, at)
    return alert


def _repeat(alert: Alert, severity, summary, service, details, at) -> Alert:
    fields = ["count", "last_seen", "summary"]
    alert.count += 1
    alert.last_seen = max(alert.last_seen, at)
    alert.summary = summary
    if details is not None:
        alert.details = details
        fields.append("details")
    if service is not None and alert.service_id is None:
        alert.service = service
        fields.append("service")
    raised = is_more_severe(severity, alert.severity)
    if raised:
        alert.severity = severity
        fields.append("severity")
    if alert.status == Alert.Status.SILENCED:
        # Silences are re-checked on every repeat, so an ended silence stops applying by itself.
        silence = _matching_silence(alert.source, alert.fingerprint, summary, alert.service, at)
        if silence is None:
            alert.status = Alert.Status.FIRING
            alert.silence = None
            alert.save(update_fields=[*fields, "status", "silence"])
            _group(alert, at)
            return alert
        if silence.pk != alert.silence_id:
            alert.silence = silence
            fields.append("silence")
    alert.save(update_fields=fields)
    if alert.status == Alert.Status.FIRING:
        if alert.incident_id is None or not alert.incident.is_open:
            # Its incident was resolved while the source kept firing: group it afresh.
            alert.incident = None
            _group(alert, at)
        elif raised:
            _raise_incident_severity(alert, at)
    return alert


def _matching_silence(source, fingerprint, summary, service, at) -> Silence | None:
    service_id = getattr(service, "pk", None)
    for silence in Silence.objects.active(at).order_by("ends_at"):
        if silence.matches(source=source, fingerprint=fingerprint, summary=summary, service_id=service_id):
            return silence
    return None


def _group(alert: Alert, at: datetime.datetime) -> None:
    """Attach a newly firing alert to an open incident, or open one for it."""
    advisory_xact_lock(GROUPING_LOCK_KEY)
    incident = _find_incident(alert, at)
    if incident is None:
        incident = lifecycle.incident_open(
            title=alert.summary[:200],
            severity=alert.severity,
            services=[alert.service] if alert.service_id else [],
            description=_("Opened automatically by the alert “%(summary)s” from %(source)s.")
            % {"summary": alert.summary, "source": alert.source},
            detected_at=alert.first_seen,
            is_drill=alert.is_drill,
            at=at,
        )
    _attach(alert, incident, at)


def _find_incident(alert: Alert, at: datetime.datetime) -> Incident | None:
    candidates = Incident.objects.open().filter(is_drill=alert.is_drill)
    # 1. The incident of an earlier alert with the same key (resolved, then raised again).
    previous = (
        Alert.objects.filter(
            source=alert.source,
            fingerprint=alert.fingerprint,
            incident__status__in=Incident.OPEN_STATUSES,
            incident__is_drill=alert.is_drill,
        )
        .exclude(pk=alert.pk)
        .order_by("-last_seen", "-id")
        .values_list("incident_id", flat=True)
        .first()
    )
    if previous:
        return candidates.get(pk=previous)
    if alert.service_id is None:
        return None
    graph = DependencyGraph()
    # 2. Its own service or anything upstream of it.
    upstream = graph.upstream([alert.service_id])
    order = ("severity", "opened_at", "id")  # "sev1" sorts first: most severe, then oldest
    own = candidates.filter(services=alert.service_id).order_by(*order).first()
    if own is not None:
        return own
    found = candidates.filter(services__in=upstream - {alert.service_id}).distinct().order_by(*order).first()
    if found is not None:
        return found
    # 3. A recent alert-opened incident downstream of it.
    downstream = graph.downstream([alert.service_id]) - {alert.service_id}
    if downstream:
        return (
            candidates.filter(services__in=downstream, opened_by__isnull=True, opened_at__gte=at - GROUPING_WINDOW)
            .distinct()
            .order_by(*order)
            .first()
        )
    return None


def _attach(alert: Alert, incident: Incident, at: datetime.datetime) -> None:
    locked = lock_incident(incident)
    alert.incident = locked
    alert.save(update_fields=["incident"])
    changed = []
    data = {"alert": alert.pk, "source": alert.source, "fingerprint": alert.fingerprint, "severity": alert.severity}
    if alert.service_id and not locked.services.filter(pk=alert.service_id).exists():
        locked.services.add(alert.service_id)
        changed.append("services")
        data["service_added"] = alert.service_id
    log(
        locked,
        Kind.ALERT_ATTACHED,
        _("Alert from %(source)s: %(summary)s") % {"source": alert.source, "summary": alert.summary},
        data=data,
        at=at,
    )
    if is_more_severe(alert.severity, locked.severity):
        _bump_severity(locked, alert, at)
        changed.append("severity")
    if changed:
        bump_version(locked, *[f for f in changed if f != "services"])


def _raise_incident_severity(alert: Alert, at: datetime.datetime) -> None:
    locked = lock_incident(alert.incident_id)
    if locked.is_open and is_more_severe(alert.severity, locked.severity):
        _bump_severity(locked, alert, at)
        bump_version(locked, "severity")


def _bump_severity(incident: Incident, alert: Alert, at: datetime.datetime) -> None:
    before = incident.severity
    incident.severity = alert.severity
    log(
        incident,
        Kind.SEVERITY,
        _("Severity %(from)s → %(to)s by the alert “%(summary)s”")
        % {"from": before.upper(), "to": alert.severity.upper(), "summary": alert.summary},
        data={"from": before, "to": alert.severity, "alert": alert.pk},
        at=at,
    )
    notifications.enqueue_notifications(incident=incident, event=Notification.Event.SEVERITY_RAISED)


@transaction.atomic
def resolve_alert(*, source: str, fingerprint: str, at: datetime.datetime | None = None) -> Alert | None:
    """Resolve the active alert with this key, if any. Its incident stays open: a person decides
    when the incident is over."""
    errors = {}
    if not (source or "").strip():
        errors["source"] = _("Name the source of the alert.")
    if not (fingerprint or "").strip():
        errors["fingerprint"] = _("Give the alert's fingerprint.")
    if errors:
        raise ValidationError(errors)
    at = at or timezone.now()
    alert = (
        Alert.objects.select_for_update()
        .filter(source=source.strip(), fingerprint=fingerprint.strip(), status__in=Alert.ACTIVE_STATUSES)
        .first()
    )
    if alert is None:
        return None
    alert.status = Alert.Status.RESOLVED
    alert.resolved_at = at
    alert.last_seen = max(alert.last_seen, at)
    alert.save(update_fields=["status", "resolved_at", "last_seen"])
    if alert.incident_id:
        still_firing = (
            Alert.objects.filter(incident_id=alert.incident_id, status=Alert.Status.FIRING).exclude(pk=alert.pk).count()
        )
        log(
            alert.incident,
            Kind.ALERT_RESOLVED,
            _("Alert resolved by %(source)s: %(summary)s") % {"source": alert.source, "summary": alert.summary},
            data={"alert": alert.pk, "still_firing": still_firing},
            at=at,
        )
    return alert
