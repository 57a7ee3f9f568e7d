"""Every state change of drills/: keyword-only functions, one transaction each, full_clean() first.

Views, the API, the admin and the demo call these. A broken rule raises ValidationError naming the
field; a user who may not run the drill gets PermissionDenied (see `can_run`).

Concurrency: every change of a drill's lifecycle, and every record written while it runs, first
locks the drill row (select_for_update), so two facilitators' tablets pressing "complete" and
"cancel" at once give one winner and one clear refusal, never a half-applied mix.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from incidents.services import raise_alert
from incidents.services.notifications import notify_recipients
from plans import services as plan_services
from plans.models import ActionItem, ERPService, PlanVersion, ResponseRole
from plans.services import effective_objectives
from risks import services as risk_services

from .models import Drill, DrillService, FeedToken, Finding, Inject, InjectLog, Scenario, StepRecord

logger = logging.getLogger(__name__)
Status = Drill.Status

# --- Access (object level) ------------------------------------------------------------------------


def can_view(user, drill: Drill) -> bool:
    if user.has_perm("drills.view_all_drills") or drill.facilitator_id == user.pk:
        return True
    return user.has_perm("drills.view_drill") and participant_users(drill).filter(pk=user.pk).exists()


def can_run(user, drill: Drill) -> bool:
    """The facilitator runs their drill; managers and administrators (change_drill) run any."""
    if user.has_perm("drills.change_drill"):
        return True
    return user.has_perm("drills.run_drill") and drill.facilitator_id == user.pk


def _ensure_can_run(user, drill: Drill) -> None:
    if user is not None and not can_run(user, drill):
        raise PermissionDenied(_("Only the drill's facilitator or a manager can do this."))


def participant_users(drill: Drill):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(team_memberships__role__drills=drill, is_active=True).distinct()


# --- Scenarios ------------------------------------------------------------------------------------

SCENARIO_FIELDS = ("title", "kind", "description", "hypothesis", "abort_condition")


def parse_injects(text: str) -> list[tuple[int, str]]:
    """One inject per line, "minute text" or "minute: text" (e.g. "15 The DBA reports the replica
    is 2 hours behind"). Raises ValidationError on the `injects` field naming the bad line."""
    rows = []
    for number, raw in enumerate((text or "").splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        head, _sep, rest = line.replace(":", " ", 1).partition(" ")
        if not head.isdigit() or not rest.strip():
            raise ValidationError(
                {
                    "injects": _("Line %(n)d: start with the minute, then the inject, e.g. “15 The replica is down”.")
                    % {"n": number}
                }
            )
        minute = int(head)
        if minute > 7 * 24 * 60:
            raise ValidationError({"injects": _("Line %(n)d: the minute is at most one week (10080).") % {"n": number}})
        rows.append((minute, rest.strip()[:500]))
    return sorted(rows, key=lambda r: r[0])


def _set_injects(scenario: Scenario, injects: Iterable[tuple[int, str]] | None) -> None:
    if injects is None:
        return
    scenario.injects.all().delete()
    Inject.objects.bulk_create([Inject(scenario=scenario, minute=m, text=t) for m, t in injects])


@transaction.atomic
def scenario_create(*, injects: Iterable[tuple[int, str]] = (), **fields) -> Scenario:
    scenario = Scenario(**{k: v for k, v in fields.items() if k in SCENARIO_FIELDS})
    scenario.full_clean()
    scenario.save()
    _set_injects(scenario, injects)
    return scenario


@transaction.atomic
def scenario_update(*, scenario: Scenario, injects: Iterable[tuple[int, str]] | None = None, **fields) -> Scenario:
    scenario = Scenario.objects.select_for_update().get(pk=scenario.pk)
    for key, value in fields.items():
        if key in SCENARIO_FIELDS:
            setattr(scenario, key, value)
    scenario.full_clean()
    scenario.save()
    _set_injects(scenario, injects)
    return scenario


@transaction.atomic
def scenario_delete(*, scenario: Scenario) -> None:
    if scenario.drills.exists():
        raise ValidationError({"scenario": _("Drills use this scenario: it cannot be deleted.")})
    scenario.delete()


# --- Drills: planning -----------------------------------------------------------------------------

DRILL_FIELDS = ("title", "scenario", "plan_version", "kind", "scheduled_start", "duration_minutes", "location",
                "facilitator")  # fmt: skip


def _set_services(drill: Drill, services: Iterable[ERPService]) -> None:
    """Freeze each service's effective targets (the strictest of what stands on it) at planning."""
    wanted = {s.pk: s for s in services}
    drill.service_results.exclude(service_id__in=wanted).delete()
    have = set(drill.service_results.values_list("service_id", flat=True))
    for pk, service in wanted.items():
        if pk in have:
            continue
        targets = effective_objectives(service)
        DrillService.objects.create(
            drill=drill, service=service, target_rto_minutes=targets["rto_minutes"],
            target_rpo_minutes=targets["rpo_minutes"],
        )  # fmt: skip


def _check_planning(drill: Drill, services: list, participant_roles: list | None) -> None:
    errors = {}
    if not services:
        errors["services"] = _("Choose at least one service the drill exercises.")
    if drill.plan_version_id and drill.plan_version.status != PlanVersion.Status.PUBLISHED:
        # A drill exercises a frozen version: its steps cannot change (or vanish) under the records.
        errors["plan_version"] = _("Choose a published plan version.")
    elif drill.plan_version_id and not drill.plan_version.steps.exists():
        errors["plan_version"] = _("This plan version has no steps to run.")
    if participant_roles is not None and not participant_roles:
        errors["participant_roles"] = _("Choose at least one participating response role.")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def drill_create(*, services: Iterable[ERPService], participant_roles: Iterable[ResponseRole], **fields) -> Drill:
    services, roles = list(services), list(participant_roles)
    drill = Drill(**{k: v for k, v in fields.items() if k in DRILL_FIELDS})
    drill.full_clean()
    _check_planning(drill, services, roles)
    drill.save()
    drill.participant_roles.set(roles)
    _set_services(drill, services)
    return drill


@transaction.atomic
def drill_update(
    *,
    drill: Drill,
    services: Iterable[ERPService] | None = None,
    participant_roles: Iterable[ResponseRole] | None = None,
    user=None,
    **fields,
) -> Drill:
    drill = _lock(drill)
    if drill.status != Status.PLANNED:
        raise ValidationError(
            {"status": _("Only a planned drill can be changed; this one is %(status)s.")
             % {"status": drill.get_status_display().lower()}}
        )  # fmt: skip
    for key, value in fields.items():
        if key in DRILL_FIELDS:
            setattr(drill, key, value)
    drill.full_clean()
    services_list = list(services) if services is not None else list(drill.services.all())
    roles = list(participant_roles) if participant_roles is not None else None
    _check_planning(drill, services_list, roles)
    drill.save()
    if roles is not None:
        drill.participant_roles.set(roles)
    if services is not None:
        _set_services(drill, services_list)
    return drill


# --- Drills: lifecycle ----------------------------------------------------------------------------


def _lock(drill: Drill) -> Drill:
    return Drill.objects.select_for_update().get(pk=drill.pk)


def _refuse(drill: Drill, to: str) -> ValidationError:
    to_label = Status(to).label if to in Status.values else to
    if drill.status == to:
        message = _("This drill is already %(status)s.") % {"status": drill.get_status_display().lower()}
    else:
        allowed = ", ".join(str(Status(s).label).lower() for s in drill.allowed_transitions)
        message = _("A %(status)s drill cannot become %(to)s. %(allowed)s") % {
            "status": drill.get_status_display().lower(),
            "to": str(to_label).lower(),
            "allowed": (_("Next possible: %(list)s.") % {"list": allowed}) if allowed else _("It is final."),
        }
    return ValidationError({"status": message})


@transaction.atomic
def drill_transition(
    *,
    drill: Drill,
    to: str,
    user=None,
    at: datetime.datetime | None = None,
    hypothesis_held: bool | None = None,
    passed: bool | None = None,
    summary: str = "",
    reason: str = "",
) -> Drill:
    """Move a drill along planned → running → completed → reported, or to cancelled."""
    drill = _lock(drill)
    _ensure_can_run(user, drill)
    if to not in drill.allowed_transitions:
        raise _refuse(drill, to)
    now = at or timezone.now()
    fields = ["status"]
    if to == Status.RUNNING:
        drill.started_at = now
        fields.append("started_at")
    elif to == Status.COMPLETED:
        if hypothesis_held is None:
            raise ValidationError({"hypothesis_held": _("Say whether the hypothesis held.")})
        drill.hypothesis_held = hypothesis_held
        drill.passed = suggested_pass(drill, hypothesis_held) if passed is None else passed
        drill.summary = summary or drill.summary
        drill.completed_at = now
        fields += ["hypothesis_held", "passed", "summary", "completed_at"]
        # Close step records left open: their duration ends when the drill did.
        drill.step_records.filter(started_at__isnull=False, finished_at__isnull=True).update(finished_at=now)
    elif to == Status.REPORTED:
        drill.reported_at = now
        drill.summary = summary or drill.summary
        fields += ["reported_at", "summary"]
    elif to == Status.CANCELLED:
        if not (reason or "").strip():
            raise ValidationError({"reason": _("Say why the drill is cancelled.")})
        drill.cancelled_at = now
        drill.cancel_reason = reason.strip()
        fields += ["cancelled_at", "cancel_reason"]
    drill.status = to
    drill.save(update_fields=fields)
    return drill


def suggested_pass(drill: Drill, hypothesis_held: bool) -> bool:
    """Pass when the hypothesis held and every service measured met its RTO and RPO."""
    if not hypothesis_held:
        return False
    return all(not (row.rto_met is False or row.rpo_met is False) for row in drill.service_results.all())


def _ensure_running(drill: Drill) -> None:
    if drill.status != Status.RUNNING:
        raise ValidationError(
            {"status": _("The drill is %(status)s: start it before recording what happens.")
             % {"status": drill.get_status_display().lower()}}
        )  # fmt: skip


# --- Drills: live records -------------------------------------------------------------------------


def _lock_running(drill: Drill, user) -> Drill:
    """Lock the drill for a record written while it runs, by someone who may run it."""
    drill = _lock(drill)
    _ensure_can_run(user, drill)
    _ensure_running(drill)
    return drill


@transaction.atomic
def step_start(*, drill: Drill, step_id: int, user=None, at: datetime.datetime | None = None) -> StepRecord:
    drill = _lock_running(drill, user)
    step = drill.plan_version.steps.filter(pk=step_id).first()
    if step is None:
        raise ValidationError({"step": _("This step is not part of the drill's plan version.")})
    record, _created = StepRecord.objects.get_or_create(drill=drill, step=step)
    if record.started_at is not None:
        raise ValidationError({"step": _("Step “%(title)s” is already started.") % {"title": step.title}})
    record.started_at = at or timezone.now()
    record.recorded_by = user
    record.save(update_fields=["started_at", "recorded_by"])
    return record


@transaction.atomic
def step_finish(
    *, drill: Drill, step_id: int, outcome: str, note: str = "", user=None, at: datetime.datetime | None = None
) -> StepRecord:
    drill = _lock_running(drill, user)
    record = StepRecord.objects.select_related("step").filter(drill=drill, step_id=step_id).first()
    if record is None or record.started_at is None:
        raise ValidationError({"step": _("Start the step before finishing it.")})
    if record.finished_at is not None:
        raise ValidationError({"step": _("Step “%(title)s” is already finished.") % {"title": record.step.title}})
    if outcome not in StepRecord.Outcome.values:
        raise ValidationError({"outcome": _("Choose an outcome.")})
    record.finished_at = max(at or timezone.now(), record.started_at)
    record.outcome = outcome
    record.note = (note or "").strip()
    record.save(update_fields=["finished_at", "outcome", "note"])
    return record


@transaction.atomic
def inject_log(
    *, drill: Drill, inject_id: int | None = None, text: str = "", note: str = "", user=None,
    at: datetime.datetime | None = None,
) -> InjectLog:  # fmt: skip
    drill = _lock_running(drill, user)
    inject = None
    if inject_id:
        inject = Inject.objects.filter(pk=inject_id, scenario_id=drill.scenario_id).first()
        if inject is None:
            raise ValidationError({"inject": _("This inject is not part of the drill's scenario.")})
        if drill.inject_logs.filter(inject=inject).exists():
            raise ValidationError({"inject": _("This inject is already logged.")})
        text = text or inject.text
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": _("Say what was announced or done.")})
    return InjectLog.objects.create(
        drill=drill, inject=inject, text=text[:500], note=note.strip(), at=at or timezone.now()
    )


def _result(drill: Drill, service_id) -> DrillService:
    row = drill.service_results.select_related("service").filter(service_id=service_id).first()
    if row is None:
        raise ValidationError({"service": _("This service is not part of the drill.")})
    return row


@transaction.atomic
def service_disrupted(*, drill: Drill, service_id: int, user=None, at: datetime.datetime | None = None) -> DrillService:
    """Declare the start of the (simulated) disruption of a service: its recovery clock starts."""
    drill = _lock_running(drill, user)
    row = _result(drill, service_id)
    if row.disruption_started_at is not None:
        raise ValidationError({"service": _("The disruption of %(name)s is already declared.") % {"name": row.service}})
    row.disruption_started_at = at or timezone.now()
    row.save(update_fields=["disruption_started_at"])
    return row


@transaction.atomic
def service_restored(
    *, drill: Drill, service_id: int, data_loss_minutes: int | None, user=None, at: datetime.datetime | None = None
) -> DrillService:
    """Declare a service restored: achieved RTO = restored − disruption start; RPO = data lost."""
    drill = _lock_running(drill, user)
    row = _result(drill, service_id)
    if row.disruption_started_at is None:
        raise ValidationError({"service": _("Declare the disruption of %(name)s first.") % {"name": row.service}})
    if row.restored_at is not None:
        raise ValidationError({"service": _("%(name)s is already declared restored.") % {"name": row.service}})
    if data_loss_minutes is None or data_loss_minutes < 0:
        raise ValidationError({"data_loss_minutes": _("Give the data lost in minutes (0 if none).")})
    row.restored_at = max(at or timezone.now(), row.disruption_started_at)
    row.data_loss_minutes = data_loss_minutes
    row.save(update_fields=["restored_at", "data_loss_minutes"])
    return row


@transaction.atomic
def drill_raise_alert(*, drill: Drill, user=None, severity: str = "sev2", at: datetime.datetime | None = None) -> Drill:
    """Raise a synthetic alert through the real pipeline, marked as a drill: it opens a drill
    incident (kept off the status page and statistics, never escalated through on-call policies,
    sent only to channels that opted in to drills) and pages the drill's participants only."""
    drill = _lock_running(drill, user)
    if drill.alert_id:
        raise ValidationError({"alert": _("This drill already raised its alert.")})
    first = drill.service_results.select_related("service").first()
    alert = raise_alert(
        source="drill",
        fingerprint=f"drill-{drill.pk}",
        severity=severity,
        summary=_("[DRILL] %(title)s") % {"title": drill.title},
        service=first.service if first else None,
        details={"drill": drill.pk, "is_drill": True},
        at=at,
        is_drill=True,
    )
    drill.alert = alert
    drill.save(update_fields=["alert"])
    if alert.incident_id:
        emails = [u.email for u in participant_users(drill) if u.email]
        notify_recipients(
            incident=alert.incident,
            event="opened",
            emails=emails,
            text=_("This is a drill. Acknowledge the incident as you would for real."),
        )
    return drill


# --- Findings -------------------------------------------------------------------------------------

FINDING_FIELDS = ("kind", "severity", "title", "description")


def _ensure_findings_open(drill: Drill) -> None:
    if drill.status not in (Status.RUNNING, Status.COMPLETED):
        raise ValidationError({"status": _("Findings are recorded while the drill runs or once it is completed.")})


@transaction.atomic
def finding_create(*, drill: Drill, user=None, **fields) -> Finding:
    drill = _lock(drill)
    _ensure_can_run(user, drill)
    _ensure_findings_open(drill)
    finding = Finding(drill=drill, created_by=user, **{k: v for k, v in fields.items() if k in FINDING_FIELDS})
    finding.full_clean()
    finding.save()
    return finding


@transaction.atomic
def finding_add_action(*, finding: Finding, owner, due_date: datetime.date, title: str = "", user=None) -> ActionItem:
    """Turn a finding into an action item of the shared model (plans.ActionItem), linked both ways."""
    finding = Finding.objects.select_for_update(of=("self",)).select_related("drill__plan_version").get(pk=finding.pk)
    _ensure_can_run(user, finding.drill)
    if finding.action_item_id:
        raise ValidationError({"title": _("This finding already has an action item.")})
    if due_date is None:
        raise ValidationError({"due_date": _("Give a due date.")})
    item = plan_services.action_item_create(
        source=finding,
        title=(title or finding.title).strip()[:200],
        description=finding.description,
        owner=owner,
        due_date=due_date,
        plan=finding.drill.plan_version.plan,
    )
    finding.action_item = item
    finding.save(update_fields=["action_item"])
    return item


@transaction.atomic
def finding_propose_plan_change(*, finding: Finding, user=None):
    """Open (or reuse) the plan's draft version for the change this finding asks for."""
    finding = (
        Finding.objects.select_for_update(of=("self",)).select_related("drill__plan_version__plan").get(pk=finding.pk)
    )
    _ensure_can_run(user, finding.drill)
    draft = plan_services.plan_start_draft(plan=finding.drill.plan_version.plan, user=user)
    finding.proposed_version = draft
    finding.save(update_fields=["proposed_version"])
    return draft


@transaction.atomic
def finding_propose_risk_change(
    *, finding: Finding, risk, residual_likelihood: int, residual_impact: int, user=None
) -> Finding:
    finding = Finding.objects.select_for_update(of=("self",)).select_related("drill").get(pk=finding.pk)
    _ensure_can_run(user, finding.drill)
    if risk is None:
        raise ValidationError({"risk": _("Choose the risk.")})
    finding.risk = risk
    finding.proposed_residual_likelihood = residual_likelihood
    finding.proposed_residual_impact = residual_impact
    finding.risk_change_applied_at = None
    finding.full_clean()
    finding.save(
        update_fields=["risk", "proposed_residual_likelihood", "proposed_residual_impact", "risk_change_applied_at"]
    )
    return finding


@transaction.atomic
def finding_apply_risk_change(*, finding: Finding, user=None) -> Finding:
    """Apply the proposed residual score to the risk, through risks.services (its owner's rules)."""
    finding = Finding.objects.select_for_update(of=("self",)).select_related("risk").get(pk=finding.pk)
    if user is not None and not user.has_perm("risks.change_risk"):
        raise PermissionDenied(_("Only someone who may change risks can apply this."))
    if finding.risk is None or finding.proposed_residual_likelihood is None:
        raise ValidationError({"risk": _("This finding proposes no risk change.")})
    if finding.risk_change_applied_at:
        raise ValidationError({"risk": _("The change is already applied.")})
    risk_services.risk_update(
        risk=finding.risk,
        residual_likelihood=finding.proposed_residual_likelihood,
        residual_impact=finding.proposed_residual_impact,
    )
    finding.risk_change_applied_at = timezone.now()
    finding.save(update_fields=["risk_change_applied_at"])
    return finding


# --- Calendar feed tokens -------------------------------------------------------------------------


@transaction.atomic
def feed_token_for(*, user) -> FeedToken:
    token, _created = FeedToken.objects.get_or_create(user=user, defaults={"token": FeedToken.new_token()})
    return token


@transaction.atomic
def feed_token_revoke(*, user) -> FeedToken:
    """Replace the secret: the old feed URL stops working at once."""
    token, created = FeedToken.objects.select_for_update().get_or_create(
        user=user, defaults={"token": FeedToken.new_token()}
    )
    if not created:
        token.token = FeedToken.new_token()
        token.save(update_fields=["token", "created_at"])
    return token
