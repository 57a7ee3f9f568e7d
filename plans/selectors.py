"""Read side of plans/: querysets already shaped for the pages that show them."""

from __future__ import annotations

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from .models import ActionItem, EmergencyPlan, ERPService, PlanVersion


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
    services = list(ERPService.objects.order_by("criticality", "name").only("id", "name", "kind", "criticality", "rto_minutes", "rpo_minutes"))
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
