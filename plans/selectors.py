"""Read side of plans/: querysets already shaped for the pages that show them."""

from __future__ import annotations

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from .models import (
    PHASE_ORDER,
    ActionItem,
    EmergencyPlan,
    ERPService,
    FallbackProcedure,
    PlanVersion,
    ResponseRole,
    TeamMember,
)


def service_list() -> QuerySet[ERPService]:
    return ERPService.objects.select_related("owner_department", "business_owner").prefetch_related("depends_on")


def plan_list() -> QuerySet[EmergencyPlan]:
    return EmergencyPlan.objects.select_related("owner").prefetch_related(
        "services",
        Prefetch("versions", queryset=PlanVersion.objects.order_by("-number"), to_attr="ordered_versions"),
    )


def plans_due_for_review(*, days: int = 30) -> QuerySet[EmergencyPlan]:
    horizon = timezone.localdate() + timezone.timedelta(days=days)
    return EmergencyPlan.objects.filter(review_date__lte=horizon).select_related("owner").order_by("review_date")


def dashboard_context(user) -> dict:
    services = list(
        ERPService.objects.order_by("criticality", "name").only(
            "id", "name", "kind", "criticality", "rto_minutes", "rpo_minutes"
        )
    )
    by_criticality: dict[int, list[ERPService]] = {}
    for service in services:
        by_criticality.setdefault(service.criticality, []).append(service)
    context = {
        "services_by_criticality": [
            {"criticality": c, "label": ERPService.Criticality(c).label, "services": by_criticality.get(c, [])}
            for c in ERPService.Criticality.values
        ],
    }
    if user.has_perm("plans.view_emergencyplan"):
        context["plans_due"] = list(plans_due_for_review(days=30)[:10])
    if user.has_perm("plans.view_actionitem"):
        counts = ActionItem.objects.open().aggregate(
            open=Count("id"), overdue=Count("id", filter=Q(due_date__lt=timezone.localdate()))
        )
        context["action_counts"] = counts
    return context


# --- Pages of services, team, fallbacks and action items (helper A1) ---------------------------


def team_roles() -> QuerySet[ResponseRole]:
    """Every response role with its members, primary first then the deputies in rank order."""
    return ResponseRole.objects.prefetch_related(
        Prefetch("members", queryset=TeamMember.objects.select_related("user").order_by("rank", "name"))
    )


def fallback_list() -> QuerySet[FallbackProcedure]:
    """Fallback procedures grouped by service: the most critical services first."""
    return FallbackProcedure.objects.select_related("service").order_by(
        "service__criticality", "service__name", "service_id", "title"
    )


def action_item_list() -> QuerySet[ActionItem]:
    return ActionItem.objects.select_related("owner", "plan", "source_type")


def version_outline(version: PlanVersion) -> dict:
    """A version's content shaped for reading: steps grouped by phase (in phase order) with the
    expected duration of each phase and overall, and the communication matrix. Two queries."""
    steps = sorted(version.steps.select_related("role"), key=lambda s: (PHASE_ORDER.get(s.phase, 99), s.order, s.pk))
    phases = []
    for seq, step in enumerate(steps, start=1):
        step.seq = seq  # running number across phases, so people can say "step 7" in a drill
        if not phases or phases[-1]["value"] != step.phase:
            phases.append({"value": step.phase, "label": step.get_phase_display(), "steps": [], "total_minutes": 0})
        phases[-1]["steps"].append(step)
        phases[-1]["total_minutes"] += step.expected_minutes
    communications = sorted(version.communications.all(), key=lambda r: (r.severity, r.audience.lower(), r.pk))
    return {
        "version": version,
        "phases": phases,
        "step_count": len(steps),
        "total_minutes": sum(s.expected_minutes for s in steps),
        "communications": communications,
    }
