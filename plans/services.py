"""Every state change of plans/: keyword-only functions, one transaction each, full_clean() first.

Views, the API, the admin, tasks and management commands call these; none of them repeats the
rules. A rule broken raises django.core.exceptions.ValidationError with the field and the reason.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Max, ProtectedError
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import (
    ActionItem,
    CommunicationRule,
    Department,
    EmergencyPlan,
    ERPService,
    FallbackProcedure,
    PlanStep,
    PlanVersion,
    ResponseRole,
    TeamMember,
)

SERVICE_FIELDS = (
    "name",
    "code",
    "kind",
    "description",
    "criticality",
    "rto_minutes",
    "rpo_minutes",
    "mtpd_minutes",
    "owner_department",
    "business_owner",
)


# --- ERP services and their dependencies -------------------------------------------------------


def _dependency_graph() -> dict[int, set[int]]:
    graph: dict[int, set[int]] = {}
    for from_id, to_id in ERPService.depends_on.through.objects.values_list("from_erpservice_id", "to_erpservice_id"):
        graph.setdefault(from_id, set()).add(to_id)
    return graph


def find_dependency_cycle(*, service_id: int | None, depends_on_ids: Iterable[int]) -> list[int] | None:
    """Return the path service → … → service that the new dependencies would close, or None."""
    if service_id is None:
        return None  # a new service has no dependents yet, so it cannot close a cycle
    graph = _dependency_graph()
    graph[service_id] = set(depends_on_ids)
    # Depth-first search from the service along "depends on" edges, remembering the path.
    stack: list[tuple[int, list[int]]] = [(service_id, [service_id])]
    seen: set[int] = set()
    while stack:
        node, path = stack.pop()
        for nxt in graph.get(node, ()):
            if nxt == service_id:
                return path + [nxt]
            if nxt not in seen:
                seen.add(nxt)
                stack.append((nxt, path + [nxt]))
    return None


def check_dependencies(service: ERPService | None, depends_on: Iterable[ERPService]) -> list[ERPService]:
    deps = list(depends_on)
    if service is not None and service.pk is not None and any(d.pk == service.pk for d in deps):
        raise ValidationError({"depends_on": _("A service cannot depend on itself.")})
    cycle = find_dependency_cycle(service_id=service.pk if service else None, depends_on_ids=[d.pk for d in deps])
    if cycle:
        names = dict(ERPService.objects.filter(pk__in=cycle).values_list("pk", "name"))
        raise ValidationError(
            {
                "depends_on": _("This would create a dependency cycle: %(path)s.")
                % {"path": " → ".join(names[i] for i in cycle)}
            }
        )
    return deps


@transaction.atomic
def service_create(*, depends_on: Iterable[ERPService] = (), **fields) -> ERPService:
    service = ERPService(**{k: v for k, v in fields.items() if k in SERVICE_FIELDS})
    service.full_clean()
    deps = check_dependencies(None, depends_on)
    service.save()
    service.depends_on.set(deps)
    return service


@transaction.atomic
def service_update(*, service: ERPService, depends_on: Iterable[ERPService] | None = None, **fields) -> ERPService:
    # Lock the row so two editors of the same service serialise instead of overwriting each other.
    service = ERPService.objects.select_for_update().get(pk=service.pk)
    for key, value in fields.items():
        if key in SERVICE_FIELDS:
            setattr(service, key, value)
    service.full_clean()
    if depends_on is not None:
        deps = check_dependencies(service, depends_on)
    service.save()
    if depends_on is not None:
        service.depends_on.set(deps)
    return service


@transaction.atomic
def service_delete(*, service: ERPService) -> None:
    if service.plans.exists():
        raise ValidationError(
            _("This service is covered by emergency plans (%(plans)s); remove it from them first.")
            % {"plans": ", ".join(service.plans.values_list("title", flat=True))}
        )
    try:
        service.delete()
    except ProtectedError as e:  # e.g. drill results keep their service for the record
        names = sorted({str(obj._meta.verbose_name_plural) for obj in e.protected_objects})
        raise ValidationError(
            _("This service is kept for the record of %(what)s; it cannot be deleted.") % {"what": ", ".join(names)}
        ) from e


def effective_objectives(service: ERPService) -> dict:
    """The strictest RTO/RPO among this service and everything that (transitively) depends on it.

    An infrastructure service must recover as fast as the most demanding business service
    standing on it, whatever its own figures say."""
    reverse_graph: dict[int, set[int]] = {}
    for from_id, to_id in ERPService.depends_on.through.objects.values_list("from_erpservice_id", "to_erpservice_id"):
        reverse_graph.setdefault(to_id, set()).add(from_id)
    seen = {service.pk}
    stack = [service.pk]
    while stack:
        for dependent in reverse_graph.get(stack.pop(), ()):
            if dependent not in seen:
                seen.add(dependent)
                stack.append(dependent)
    rows = list(ERPService.objects.filter(pk__in=seen).only("pk", "name", "rto_minutes", "rpo_minutes"))
    rto_from = min(rows, key=lambda s: (s.rto_minutes, s.pk != service.pk))
    rpo_from = min(rows, key=lambda s: (s.rpo_minutes, s.pk != service.pk))
    return {
        "rto_minutes": rto_from.rto_minutes,
        "rto_from": rto_from,
        "rpo_minutes": rpo_from.rpo_minutes,
        "rpo_from": rpo_from,
        "dependents": [s for s in rows if s.pk != service.pk],
    }


# --- Departments and the response team --------------------------------------------------------


@transaction.atomic
def department_create(*, name: str, description: str = "") -> Department:
    department = Department(name=name, description=description)
    department.full_clean()
    department.save()
    return department


@transaction.atomic
def role_create(**fields) -> ResponseRole:
    role = ResponseRole(**fields)
    role.full_clean()
    role.save()
    return role


@transaction.atomic
def role_update(*, role: ResponseRole, **fields) -> ResponseRole:
    role = ResponseRole.objects.select_for_update().get(pk=role.pk)
    for key, value in fields.items():
        setattr(role, key, value)
    role.full_clean()
    role.save()
    return role


@transaction.atomic
def role_delete(*, role: ResponseRole) -> None:
    if PlanStep.objects.filter(role=role).exists():
        raise ValidationError(_("Plan steps are assigned to this role; reassign them before deleting it."))
    role.delete()


@transaction.atomic
def member_create(**fields) -> TeamMember:
    member = TeamMember(**fields)
    member.full_clean()
    member.save()
    return member


@transaction.atomic
def member_update(*, member: TeamMember, **fields) -> TeamMember:
    member = TeamMember.objects.select_for_update().get(pk=member.pk)
    for key, value in fields.items():
        setattr(member, key, value)
    member.full_clean()
    member.save()
    return member


@transaction.atomic
def member_delete(*, member: TeamMember) -> None:
    member.delete()


# --- Emergency plans and their versions --------------------------------------------------------


@transaction.atomic
def plan_create(
    *,
    title: str,
    scenario: str,
    services: Iterable[ERPService],
    user: AbstractBaseUser | None = None,
    owner=None,
    review_date: datetime.date | None = None,
    summary: str = "",
) -> EmergencyPlan:
    """A new plan starts with version 1 as a draft."""
    plan = EmergencyPlan(title=title, scenario=scenario, owner=owner, review_date=review_date)
    plan.full_clean()
    plan.save()
    services = list(services)
    if not services:
        raise ValidationError({"services": _("A plan must cover at least one ERP service.")})
    plan.services.set(services)
    PlanVersion.objects.create(plan=plan, number=1, summary=summary, created_by=user)
    return plan


@transaction.atomic
def plan_update(*, plan: EmergencyPlan, services: Iterable[ERPService] | None = None, **fields) -> EmergencyPlan:
    plan = EmergencyPlan.objects.select_for_update().get(pk=plan.pk)
    for key, value in fields.items():
        setattr(plan, key, value)
    plan.full_clean()
    plan.save()
    if services is not None:
        services = list(services)
        if not services:
            raise ValidationError({"services": _("A plan must cover at least one ERP service.")})
        plan.services.set(services)
    return plan


@transaction.atomic
def plan_delete(*, plan: EmergencyPlan) -> None:
    if plan.versions.exclude(status=PlanVersion.Status.DRAFT).exists():
        raise ValidationError(_("A plan that has been published is kept for the record; it cannot be deleted."))
    plan.delete()


def _lock_plan(plan: EmergencyPlan) -> EmergencyPlan:
    # All version changes of one plan serialise on the plan row: two people starting a draft or
    # publishing at once cannot create two drafts or two published versions.
    return EmergencyPlan.objects.select_for_update().get(pk=plan.pk)


@transaction.atomic
def plan_start_draft(*, plan: EmergencyPlan, user: AbstractBaseUser | None = None) -> PlanVersion:
    """Open a new draft copied from the newest version. Returns the existing draft if there is one."""
    plan = _lock_plan(plan)
    existing = plan.versions.filter(status=PlanVersion.Status.DRAFT).first()
    if existing:
        return existing
    source = plan.versions.order_by("-number").first()
    number = (plan.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    draft = PlanVersion.objects.create(
        plan=plan,
        number=number,
        summary=source.summary if source else "",
        activation_criteria=source.activation_criteria if source else "",
        backup_strategy=source.backup_strategy if source else "",
        standby_systems=source.standby_systems if source else "",
        created_by=user,
    )
    if source:
        for step in source.steps.all():
            PlanStep.objects.create(
                version=draft,
                phase=step.phase,
                order=step.order,
                title=step.title,
                instructions=step.instructions,
                role_id=step.role_id,
                expected_minutes=step.expected_minutes,
            )
        for rule in source.communications.all():
            CommunicationRule.objects.create(
                version=draft,
                severity=rule.severity,
                audience=rule.audience,
                channel=rule.channel,
                timing=rule.timing,
                message_template=rule.message_template,
            )
    return draft


VERSION_FIELDS = ("summary", "activation_criteria", "backup_strategy", "standby_systems", "change_note")


@transaction.atomic
def version_update(*, version: PlanVersion, **fields) -> PlanVersion:
    version = PlanVersion.objects.select_for_update().get(pk=version.pk)
    version.ensure_editable()
    for key, value in fields.items():
        if key in VERSION_FIELDS:
            setattr(version, key, value)
    version.full_clean()
    version.save()
    return version


@transaction.atomic
def version_publish(*, version: PlanVersion, user: AbstractBaseUser) -> PlanVersion:
    """A manager approves a draft: it becomes the published version, the previous one is superseded."""
    if not user.has_perm("plans.approve_planversion"):
        raise PermissionDenied(_("Only a manager or administrator can approve and publish a plan."))
    _lock_plan(version.plan)
    version = PlanVersion.objects.select_for_update().get(pk=version.pk)
    if version.status != PlanVersion.Status.DRAFT:
        raise ValidationError(
            _("Only a draft can be published; version %(n)d is %(status)s.")
            % {"n": version.number, "status": version.get_status_display().lower()}
        )
    if not version.steps.exists():
        raise ValidationError(_("A plan without steps cannot be published: add the response steps first."))
    PlanVersion.objects.filter(plan=version.plan, status=PlanVersion.Status.PUBLISHED).update(
        status=PlanVersion.Status.SUPERSEDED
    )
    version.status = PlanVersion.Status.PUBLISHED
    version.approved_by = user
    version.published_at = timezone.now()
    version.save(update_fields=["status", "approved_by", "published_at"])
    return version


@transaction.atomic
def version_discard(*, version: PlanVersion) -> None:
    version = PlanVersion.objects.select_for_update().get(pk=version.pk)
    version.ensure_editable()
    if version.plan.versions.count() == 1:
        raise ValidationError(_("This is the plan's only version; delete the plan instead."))
    version.steps.all().delete()
    version.communications.all().delete()
    version.delete()


STEP_FIELDS = ("phase", "order", "title", "instructions", "role", "expected_minutes")


@transaction.atomic
def step_create(*, version: PlanVersion, **fields) -> PlanStep:
    PlanVersion.objects.select_for_update().get(pk=version.pk).ensure_editable()
    step = PlanStep(version=version, **{k: v for k, v in fields.items() if k in STEP_FIELDS})
    step.full_clean()
    step.save()
    return step


@transaction.atomic
def step_update(*, step: PlanStep, **fields) -> PlanStep:
    step = PlanStep.objects.select_for_update().get(pk=step.pk)
    step.version.ensure_editable()
    for key, value in fields.items():
        if key in STEP_FIELDS:
            setattr(step, key, value)
    step.full_clean()
    step.save()
    return step


@transaction.atomic
def step_delete(*, step: PlanStep) -> None:
    step.version.ensure_editable()
    step.delete()


RULE_FIELDS = ("severity", "audience", "channel", "timing", "message_template")


@transaction.atomic
def communication_create(*, version: PlanVersion, **fields) -> CommunicationRule:
    PlanVersion.objects.select_for_update().get(pk=version.pk).ensure_editable()
    rule = CommunicationRule(version=version, **{k: v for k, v in fields.items() if k in RULE_FIELDS})
    rule.full_clean()
    rule.save()
    return rule


@transaction.atomic
def communication_update(*, rule: CommunicationRule, **fields) -> CommunicationRule:
    rule = CommunicationRule.objects.select_for_update().get(pk=rule.pk)
    rule.version.ensure_editable()
    for key, value in fields.items():
        if key in RULE_FIELDS:
            setattr(rule, key, value)
    rule.full_clean()
    rule.save()
    return rule


@transaction.atomic
def communication_delete(*, rule: CommunicationRule) -> None:
    rule.version.ensure_editable()
    rule.delete()


def version_text(version: PlanVersion) -> list[str]:
    """A plain-text rendering of a version, line by line, for comparing two versions."""
    lines = [
        # gettext calls stay outside f-strings: xgettext does not extract them from inside.
        "# " + _("Summary"),
        *version.summary.splitlines(),
        "# " + _("Activation criteria"),
        *version.activation_criteria.splitlines(),
        "# " + _("Backup and recovery strategy"),
        *version.backup_strategy.splitlines(),
        "# " + _("Standby systems"),
        *version.standby_systems.splitlines(),
        "# " + _("Steps"),
    ]
    for step in version.steps.select_related("role"):
        duration = _("%(n)d min") % {"n": step.expected_minutes}
        lines.append(f"[{step.get_phase_display()}] {step.order}. {step.title} — {step.role.name}, {duration}")
        lines.extend(f"    {line}" for line in step.instructions.splitlines())
    lines.append("# " + _("Communication"))
    for rule in version.communications.all():
        lines.append(f"{rule.get_severity_display()} → {rule.audience} / {rule.get_channel_display()} / {rule.timing}")
        lines.extend(f"    {line}" for line in rule.message_template.splitlines())
    return lines


# --- Fallback procedures -----------------------------------------------------------------------

FALLBACK_FIELDS = ("service", "title", "audience", "when_to_use", "steps", "paper_records", "reentry", "forms_location")
FALLBACK_CONTENT = ("title", "when_to_use", "steps", "paper_records", "reentry", "forms_location")


@transaction.atomic
def fallback_create(**fields) -> FallbackProcedure:
    procedure = FallbackProcedure(**{k: v for k, v in fields.items() if k in FALLBACK_FIELDS})
    procedure.full_clean()
    procedure.save()
    return procedure


@transaction.atomic
def fallback_update(*, procedure: FallbackProcedure, **fields) -> FallbackProcedure:
    """Content changes make a new version, so people who acknowledged the old one are asked again."""
    procedure = FallbackProcedure.objects.select_for_update().get(pk=procedure.pk)
    changed = False
    for key, value in fields.items():
        if key in FALLBACK_FIELDS and getattr(procedure, key) != value:
            setattr(procedure, key, value)
            changed = changed or key in FALLBACK_CONTENT
    procedure.full_clean()
    if changed:
        procedure.version += 1
    procedure.save()
    return procedure


@transaction.atomic
def fallback_delete(*, procedure: FallbackProcedure) -> None:
    procedure.delete()


# --- Action items ------------------------------------------------------------------------------

ACTION_FIELDS = ("title", "description", "owner", "due_date", "plan", "status")


@transaction.atomic
def action_item_create(*, source=None, **fields) -> ActionItem:
    item = ActionItem(**{k: v for k, v in fields.items() if k in ACTION_FIELDS})
    if source is not None:
        item.source = source
    if item.status in (ActionItem.Status.DONE, ActionItem.Status.CANCELLED):
        item.completed_at = timezone.now()
    item.full_clean()
    item.save()
    return item


@transaction.atomic
def action_item_update(*, item: ActionItem, **fields) -> ActionItem:
    item = ActionItem.objects.select_for_update().get(pk=item.pk)
    for key, value in fields.items():
        if key in ACTION_FIELDS:
            setattr(item, key, value)
    if item.status in (ActionItem.Status.DONE, ActionItem.Status.CANCELLED):
        item.completed_at = item.completed_at or timezone.now()
    else:
        item.completed_at = None
    item.full_clean()
    item.save()
    return item


# --- Reminders for overdue action items (drills and incident reviews create them) ----------------

logger = logging.getLogger(__name__)


def remind_owners_once_a_day(rows, *, claimed_field: str, today: datetime.date, compose) -> int:
    """Email the owner of each row of `rows` at most once a day: `claimed_field` (a date column)
    is claimed with a conditional UPDATE before the email, so two runs at once (or a repeated
    run) send one reminder, not two. `compose(row)` gives the (subject, body). Returns how many
    rows were reminded. Used by overdue action items here and overdue risk reviews (risks/)."""
    model = rows.model
    sent = 0
    for row in rows.exclude(**{claimed_field: today}).select_related("owner"):
        claimed = model.objects.filter(pk=row.pk).exclude(**{claimed_field: today}).update(**{claimed_field: today})
        if not claimed:
            continue
        if row.owner.email:
            subject, body = compose(row)
            send_mail(subject=subject, message=body, from_email=None, recipient_list=[row.owner.email])
        logger.info("%s reminder id=%s owner=%s", model._meta.model_name, row.pk, row.owner_id)
        sent += 1
    return sent


def remind_overdue_action_items(*, today: datetime.date | None = None) -> int:
    """Email the owner of each overdue action item, at most once a day per item."""

    def compose(item: ActionItem) -> tuple[str, str]:
        return (
            _("Action item overdue: %(title)s") % {"title": item.title},
            _("The action item “%(title)s” was due on %(due)s. Finish it or update it:\n%(url)s")
            % {"title": item.title, "due": item.due_date, "url": settings.SITE_URL + item.get_absolute_url()},
        )

    today = today or timezone.localdate()
    return remind_owners_once_a_day(
        ActionItem.objects.overdue(today), claimed_field="last_reminded_on", today=today, compose=compose
    )
