"""An incident's life: open, move through the statuses, edit, assign, note, attach a plan and tick
its steps. Every function is one transaction, locks the incident row before deciding, writes a
timeline entry, and queues the notifications the event calls for (outbox, same transaction).

Two people acting at once never lose an update: status changes lock the row and re-check the
status under the lock (the second acknowledge is refused, naming who acknowledged), and edits
carry the version they were made against (`expected_version`), refused when someone else wrote
in between.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from plans.models import PHASE_ORDER, EmergencyPlan, ERPService, PlanVersion, Severity

from ..models import TRANSITIONS, Alert, ChecklistItem, Incident, Notification, TimelineEntry, is_more_severe
from . import escalation, notifications
from ._common import bump_version, check_version, lock_incident, log, when, who

Status = Incident.Status
Kind = TimelineEntry.Kind

# The notification each status change sends (channels pick by audience, see notifications.py).
STATUS_EVENTS = {
    Status.ACKNOWLEDGED: Notification.Event.ACKNOWLEDGED,
    Status.MITIGATED: Notification.Event.MITIGATED,
    Status.RESOLVED: Notification.Event.RESOLVED,
}

EDITABLE_FIELDS = ("title", "description", "business_impact", "detected_at")


def _validate_severity(severity: str) -> None:
    if severity not in Severity.values:
        raise ValidationError({"severity": _("Choose a severity from SEV1 to SEV4.")})


@transaction.atomic
def incident_open(
    *,
    title: str,
    severity: str,
    user: AbstractBaseUser | None = None,
    description: str = "",
    services: Iterable[ERPService] = (),
    business_impact: str = "",
    commander: AbstractBaseUser | None = None,
    detected_at: datetime.datetime | None = None,
    is_drill: bool = False,
    at: datetime.datetime | None = None,
) -> Incident:
    """Open an incident (by hand, or from an alert with user=None)."""
    _validate_severity(severity)
    now = at or timezone.now()
    services = list(services)
    incident = Incident(
        title=(title or "").strip(),
        severity=severity,
        description=description,
        business_impact=business_impact,
        commander=commander,
        opened_by=user,
        detected_at=detected_at or now,
        opened_at=now,
        is_drill=is_drill,
    )
    incident.full_clean(exclude=["escalation_policy"])
    incident.save()
    if services:
        incident.services.set(services)
    log(
        incident,
        Kind.OPENED,
        _("Opened as %(sev)s: %(title)s") % {"sev": incident.get_severity_display(), "title": incident.title},
        author=user,
        data={"severity": severity, "services": [s.pk for s in services], "commander": getattr(commander, "pk", None)},
        at=now,
    )
    if commander is not None:
        log(
            incident, Kind.ASSIGNMENT, _("Incident commander: %(name)s") % {"name": who(commander)}, author=user, at=now
        )
    notifications.enqueue_notifications(incident=incident, event=Notification.Event.OPENED)
    escalation.start(incident=incident, services=services, now=now)
    return incident


def _refuse(incident: Incident, to: str) -> ValidationError:
    if to == incident.status:
        stamp = Incident.STATUS_TIMESTAMPS.get(incident.status)
        entry = (
            TimelineEntry.objects.filter(incident=incident, kind=Kind.STATUS, data__to=incident.status)
            .select_related("author")
            .order_by("-at", "-id")
            .first()
        )
        at_value = getattr(incident, stamp) if stamp else None
        return ValidationError(
            {
                "status": _("%(ref)s is already %(status)s (by %(who)s at %(when)s).")
                % {
                    "ref": incident.reference,
                    "status": incident.get_status_display().lower(),
                    "who": who(entry.author) if entry else _("someone else"),
                    "when": when(entry.at if entry else (at_value or incident.updated_at)),
                }
            },
            code="already",
        )
    allowed = [
        str(Status(s).label) if s in Status.values else _("reopen") for s in TRANSITIONS.get(incident.status, ())
    ]
    return ValidationError(
        {
            "status": _("%(ref)s cannot go from %(from)s to %(to)s. Allowed from here: %(allowed)s.")
            % {
                "ref": incident.reference,
                "from": incident.get_status_display(),
                "to": Status(to).label if to in Status.values else to,
                "allowed": ", ".join(allowed) or _("nothing"),
            }
        },
        code="illegal",
    )


@transaction.atomic
def incident_transition(
    *,
    incident: Incident,
    to: str,
    user: AbstractBaseUser | None,
    note: str = "",
    expected_version: int | None = None,
    at: datetime.datetime | None = None,
) -> Incident:
    if to == "reopen":
        return incident_reopen(incident=incident, user=user, reason=note, expected_version=expected_version)
    if to not in Status.values or to == Status.OPEN:
        raise ValidationError({"status": _("Unknown status: %(to)s.") % {"to": to}})
    locked = lock_incident(incident)
    # The status is checked under the lock: of two people acknowledging at once, the second one
    # finds it already acknowledged and is told by whom.
    if to not in TRANSITIONS.get(locked.status, ()):
        raise _refuse(locked, to)
    check_version(locked, expected_version)
    now = at or timezone.now()
    before = locked.status
    locked.status = to
    fields = ["status"]
    stamp = Incident.STATUS_TIMESTAMPS[to]
    if to != Status.ACKNOWLEDGED or locked.acknowledged_at is None:
        setattr(locked, stamp, now)
        fields.append(stamp)
    if before == Status.OPEN and locked.acknowledged_at is None:
        # Anything past "open" means a person has it: record it as acknowledged for the time to
        # acknowledge (escalation stops below).
        locked.acknowledged_at = now
        fields.append("acknowledged_at")
    if locked.next_escalation_at is not None:
        locked.next_escalation_at = None
        fields.append("next_escalation_at")
    bump_version(locked, *set(fields))
    message = _("%(from)s → %(to)s") % {"from": Status(before).label, "to": locked.get_status_display()}
    if note:
        message = f"{message}: {note}"
    log(locked, Kind.STATUS, message, author=user, data={"from": before, "to": to, "note": note}, at=now)
    if to == Status.RESOLVED:
        _resolve_alerts(locked, now)
    event = STATUS_EVENTS.get(to)
    if event:
        notifications.enqueue_notifications(incident=locked, event=event)
    return locked


def _resolve_alerts(incident: Incident, now: datetime.datetime) -> None:
    # A person resolved the incident: its alerts are resolved with it. If the source still sees
    # the problem, its next raise is a new alert and opens a new incident, rather than
    # attaching to one that people consider done.
    # skip_locked: an alert being raised right now holds its row and then waits for this
    # incident's lock; waiting for it here would deadlock. Such an alert notices on its next
    # raise that its incident is resolved and groups afresh (alerts.py).
    active = list(
        Alert.objects.select_for_update(skip_locked=True).filter(incident=incident, status__in=Alert.ACTIVE_STATUSES)
    )
    if not active:
        return
    Alert.objects.filter(pk__in=[a.pk for a in active]).update(status=Alert.Status.RESOLVED, resolved_at=now)
    log(
        incident,
        Kind.ALERT_RESOLVED,
        _("%(n)d alert(s) resolved with the incident.") % {"n": len(active)},
        data={"alerts": [a.pk for a in active], "with_incident": True},
        at=now,
    )


def incident_acknowledge(*, incident: Incident, user, note: str = "", expected_version: int | None = None) -> Incident:
    return incident_transition(
        incident=incident, to=Status.ACKNOWLEDGED, user=user, note=note, expected_version=expected_version
    )


def incident_investigate(*, incident: Incident, user, note: str = "", expected_version: int | None = None) -> Incident:
    return incident_transition(
        incident=incident, to=Status.INVESTIGATING, user=user, note=note, expected_version=expected_version
    )


def incident_mitigate(*, incident: Incident, user, note: str = "", expected_version: int | None = None) -> Incident:
    return incident_transition(
        incident=incident, to=Status.MITIGATED, user=user, note=note, expected_version=expected_version
    )


def incident_resolve(*, incident: Incident, user, note: str = "", expected_version: int | None = None) -> Incident:
    return incident_transition(
        incident=incident, to=Status.RESOLVED, user=user, note=note, expected_version=expected_version
    )


def incident_close(*, incident: Incident, user, note: str = "", expected_version: int | None = None) -> Incident:
    return incident_transition(
        incident=incident, to=Status.CLOSED, user=user, note=note, expected_version=expected_version
    )


@transaction.atomic
def incident_reopen(
    *, incident: Incident, user, reason: str = "", expected_version: int | None = None, note: str = ""
) -> Incident:
    """Resolved or closed → investigating: the problem came back. Recorded with its reason; the
    first acknowledgement time is kept (statistics), the resolution and closing times are cleared."""
    reason = (reason or note or "").strip()
    locked = lock_incident(incident)
    if "reopen" not in TRANSITIONS.get(locked.status, ()):
        raise ValidationError(
            {
                "status": _("%(ref)s is %(status)s; only a resolved or closed incident can be reopened.")
                % {"ref": locked.reference, "status": locked.get_status_display().lower()}
            },
            code="illegal",
        )
    if not reason:
        raise ValidationError({"reason": _("Say why the incident is reopened.")})
    check_version(locked, expected_version)
    now = timezone.now()
    before = locked.status
    locked.status = Status.INVESTIGATING
    locked.investigating_at = now
    locked.mitigated_at = locked.resolved_at = locked.closed_at = None
    locked.reopened_at = now
    locked.reopen_count += 1
    bump_version(
        locked, "status", "investigating_at", "mitigated_at", "resolved_at", "closed_at", "reopened_at", "reopen_count"
    )
    log(
        locked,
        Kind.STATUS,
        _("Reopened: %(reason)s") % {"reason": reason},
        author=user,
        data={"from": before, "to": Status.INVESTIGATING, "reopen": True, "reason": reason},
        at=now,
    )
    notifications.enqueue_notifications(incident=locked, event=Notification.Event.REOPENED)
    return locked


@transaction.atomic
def incident_update(*, incident: Incident, user, expected_version: int, **fields) -> Incident:
    """Edit what people know about the incident. `expected_version` is the version the edit was
    made against: if someone else changed the incident since, the edit is refused."""
    if expected_version is None:
        raise ValidationError({"version": _("Give the version of the incident you edited.")})
    unknown = set(fields) - {*EDITABLE_FIELDS, "services", "severity", "commander"}
    if unknown:
        raise ValidationError({sorted(unknown)[0]: _("This field cannot be changed here.")})
    locked = lock_incident(incident)
    check_version(locked, expected_version)
    now = timezone.now()
    changed = []
    for name in EDITABLE_FIELDS:
        if name in fields and getattr(locked, name) != fields[name]:
            setattr(locked, name, fields[name])
            changed.append(name)
    if "title" in changed:
        locked.title = (locked.title or "").strip()
    locked.full_clean(exclude=["escalation_policy"])
    if "severity" in fields and fields["severity"] != locked.severity:
        _set_severity(locked, fields["severity"], user, now)
        changed.append("severity")
    if "commander" in fields and fields["commander"] != locked.commander:
        _set_commander(locked, fields["commander"], user, now)
        changed.append("commander")
    if "services" in fields:
        new = {s.pk for s in fields["services"]}
        old = set(locked.services.values_list("pk", flat=True))
        if new != old:
            locked.services.set(list(fields["services"]))
            changed.append("services")
    if not changed:
        return locked
    bump_version(locked, *[f for f in changed if f != "services"])
    edited = [f for f in changed if f not in ("severity", "commander")]
    if edited:
        labels = ", ".join(str(Incident._meta.get_field(f).verbose_name) for f in edited)
        log(
            locked,
            Kind.EDIT,
            _("Edited: %(fields)s") % {"fields": labels},
            author=user,
            data={"fields": edited},
            at=now,
        )
    return locked


def _set_severity(incident: Incident, severity: str, user, now) -> None:
    _validate_severity(severity)
    before = incident.severity
    incident.severity = severity
    log(
        incident,
        Kind.SEVERITY,
        _("Severity %(from)s → %(to)s") % {"from": Severity(before).label.split(" ")[0], "to": severity.upper()},
        author=user,
        data={"from": before, "to": severity},
        at=now,
    )
    if is_more_severe(severity, before):
        notifications.enqueue_notifications(incident=incident, event=Notification.Event.SEVERITY_RAISED)


def _set_commander(incident: Incident, commander, user, now) -> None:
    incident.commander = commander
    message = (
        _("Incident commander: %(name)s") % {"name": who(commander)} if commander else _("Incident commander removed")
    )
    log(incident, Kind.ASSIGNMENT, message, author=user, data={"commander": getattr(commander, "pk", None)}, at=now)


@transaction.atomic
def incident_change_severity(
    *, incident: Incident, user, severity: str, expected_version: int | None = None
) -> Incident:
    _validate_severity(severity)
    locked = lock_incident(incident)
    check_version(locked, expected_version)
    if locked.severity == severity:
        return locked
    _set_severity(locked, severity, user, timezone.now())
    bump_version(locked, "severity")
    return locked


@transaction.atomic
def incident_assign_commander(*, incident: Incident, user, commander, expected_version: int | None = None) -> Incident:
    locked = lock_incident(incident)
    check_version(locked, expected_version)
    if locked.commander_id == getattr(commander, "pk", None):
        return locked
    _set_commander(locked, commander, user, timezone.now())
    bump_version(locked, "commander")
    return locked


@transaction.atomic
def incident_add_note(*, incident: Incident, user, message: str, at: datetime.datetime | None = None) -> TimelineEntry:
    # A note is not a conflicting edit: it does not bump the version, so someone's open edit form
    # stays valid while others write notes.
    message = (message or "").strip()
    if not message:
        raise ValidationError({"message": _("Write the note.")})
    if len(message) > 10000:
        raise ValidationError({"message": _("A note is at most 10,000 characters.")})
    return log(incident, Kind.NOTE, message, author=user, at=at)


@transaction.atomic
def incident_publish_update(*, incident: Incident, user, message: str, at: datetime.datetime | None = None) -> Incident:
    """The text business users read on the status page, and the business channels receive."""
    message = (message or "").strip()
    if not message:
        raise ValidationError({"message": _("Write the update for business users.")})
    locked = lock_incident(incident)
    now = at or timezone.now()
    locked.public_update = message
    locked.public_update_at = now
    bump_version(locked, "public_update", "public_update_at")
    log(locked, Kind.PUBLIC_UPDATE, message, author=user, at=now)
    notifications.enqueue_notifications(incident=locked, event=Notification.Event.PUBLIC_UPDATE)
    return locked


# --- The plan and its checklist ----------------------------------------------------------------


@transaction.atomic
def incident_attach_plan(
    *, incident: Incident, user, plan: EmergencyPlan, at: datetime.datetime | None = None
) -> list[ChecklistItem]:
    """Attach a plan: its published version's steps become the incident's checklist, in phase
    order. A second plan can be attached too; its steps are appended."""
    locked = lock_incident(incident)
    if not locked.is_open:
        raise ValidationError({"plan": _("Plans can only be attached to an open incident.")})
    version = PlanVersion.objects.published().filter(plan=plan).first()
    if version is None:
        raise ValidationError({"plan": _("%(plan)s has no published version to follow.") % {"plan": plan}})
    if ChecklistItem.objects.filter(incident=locked, plan_version__plan=plan).exists():
        raise ValidationError({"plan": _("%(plan)s is already attached to this incident.") % {"plan": plan}})
    steps = sorted(version.steps.select_related("role"), key=lambda s: (PHASE_ORDER.get(s.phase, 99), s.order, s.pk))
    start = (
        ChecklistItem.objects.filter(incident=locked).order_by("-order").values_list("order", flat=True).first()
    ) or 0
    items = ChecklistItem.objects.bulk_create(
        [
            ChecklistItem(
                incident=locked,
                plan_version=version,
                plan_step=step,
                phase=step.phase,
                order=start + index,
                title=step.title,
                instructions=step.instructions,
                role=step.role,
                expected_minutes=step.expected_minutes,
            )
            for index, step in enumerate(steps, start=1)
        ]
    )
    locked.plan = plan
    locked.plan_version = version
    bump_version(locked, "plan", "plan_version")
    log(
        locked,
        Kind.PLAN_ATTACHED,
        _("Plan attached: %(plan)s v%(n)d (%(count)d steps)")
        % {"plan": plan, "n": version.number, "count": len(items)},
        author=user,
        data={"plan": plan.pk, "version": version.pk, "steps": len(items)},
        at=at,
    )
    return items


def _lock_item(item: ChecklistItem) -> ChecklistItem:
    return ChecklistItem.objects.select_for_update(of=("self",)).select_related("incident", "done_by").get(pk=item.pk)


@transaction.atomic
def checklist_item_done(
    *, item: ChecklistItem, user, note: str = "", at: datetime.datetime | None = None
) -> ChecklistItem:
    locked = _lock_item(item)
    if locked.done_at is not None:
        raise ValidationError(
            {
                "item": _("“%(title)s” was already done by %(who)s at %(when)s.")
                % {"title": locked.title, "who": who(locked.done_by), "when": when(locked.done_at)}
            }
        )
    now = at or timezone.now()
    locked.done_at = now
    locked.done_by = user
    locked.note = (note or "").strip()
    locked.save(update_fields=["done_at", "done_by", "note"])
    message = _("Step done: %(title)s") % {"title": locked.title}
    if locked.note:
        message = f"{message} — {locked.note}"
    log(locked.incident, Kind.PLAN_STEP, message, author=user, data={"item": locked.pk, "done": True}, at=now)
    return locked


@transaction.atomic
def checklist_item_undo(*, item: ChecklistItem, user) -> ChecklistItem:
    locked = _lock_item(item)
    if locked.done_at is None:
        raise ValidationError({"item": _("“%(title)s” is not done.") % {"title": locked.title}})
    locked.done_at = None
    locked.done_by = None
    locked.save(update_fields=["done_at", "done_by"])
    log(
        locked.incident,
        Kind.PLAN_STEP,
        _("Step marked not done: %(title)s") % {"title": locked.title},
        author=user,
        data={"item": locked.pk, "done": False},
    )
    return locked
