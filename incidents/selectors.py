"""Read side of incidents/: querysets already shaped for the pages and the API that show them."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, Prefetch, Q, QuerySet

from plans.models import ActionItem, EmergencyPlan, ERPService, FallbackProcedure, PlanVersion

from .models import Alert, ChecklistItem, Incident, PostIncidentReview, TimelineEntry
from .services.graph import DependencyGraph


def incident_list(*, filters: dict | None = None) -> QuerySet[Incident]:
    """Incidents newest first, (-opened_at, -id) — the keyset the list paginates on.

    filters: status (value or list), severity (value or list), service (id), commander (id),
    opened_from / opened_to (dates, inclusive), q (search in title and description, or "INC-12" / "12"),
    is_drill (bool)."""
    qs = Incident.objects.select_related("commander").prefetch_related(
        Prefetch("services", queryset=ERPService.objects.only("id", "name", "code", "kind").order_by("name"))
    )
    f = filters or {}
    for name in ("status", "severity"):
        value = f.get(name)
        if value:
            qs = qs.filter(**{f"{name}__in": value if isinstance(value, list | tuple) else [value]})
    if f.get("service"):
        # A subquery, not a join: the keyset order stays on the incident table alone.
        qs = qs.filter(
            pk__in=Incident.services.through.objects.filter(erpservice_id=f["service"]).values("incident_id")
        )
    if f.get("commander"):
        qs = qs.filter(commander_id=f["commander"])
    if f.get("opened_from"):
        qs = qs.filter(opened_at__date__gte=f["opened_from"])
    if f.get("opened_to"):
        qs = qs.filter(opened_at__date__lte=f["opened_to"])
    if f.get("is_drill") is not None and f.get("is_drill") != "":
        qs = qs.filter(is_drill=f["is_drill"] in (True, "1", "true", "True", "yes"))
    q = (f.get("q") or "").strip()
    if q:
        number = q.upper().removeprefix("INC-").strip()
        condition = Q(title__icontains=q) | Q(description__icontains=q)
        if number.isdigit():
            condition |= Q(pk=int(number))
        qs = qs.filter(condition)
    return qs.order_by("-opened_at", "-id")


def incident_detail(*, pk: int) -> Incident:
    """One incident with everything its page shows, in a fixed number of queries."""
    return (
        Incident.objects.select_related("commander", "opened_by", "plan", "plan_version", "escalation_policy")
        .prefetch_related(
            Prefetch("services", queryset=ERPService.objects.order_by("criticality", "name")),
            Prefetch("timeline", queryset=TimelineEntry.objects.select_related("author").order_by("at", "id")),
            Prefetch(
                "checklist", queryset=ChecklistItem.objects.select_related("done_by", "role").order_by("order", "id")
            ),
            Prefetch("alerts", queryset=Alert.objects.select_related("service").order_by("-last_seen", "-id")),
        )
        .get(pk=pk)
    )


def incident_review(incident: Incident) -> PostIncidentReview | None:
    return PostIncidentReview.objects.filter(incident=incident).select_related("author").first()


def propose_plans(*, incident: Incident) -> list[EmergencyPlan]:
    """Plans with a published version covering an affected service or anything it depends on,
    those covering the affected services themselves first."""
    service_ids = list(incident.services.values_list("pk", flat=True))
    if not service_ids:
        return []
    related = DependencyGraph().upstream(service_ids)
    plans = list(
        EmergencyPlan.objects.filter(services__in=related, versions__status=PlanVersion.Status.PUBLISHED)
        .annotate(direct=Count("services", filter=Q(services__in=service_ids), distinct=True))
        .order_by("-direct", "title")
        .distinct()
    )
    return plans


def fallbacks_for_incident(*, incident: Incident) -> list[FallbackProcedure]:
    """Fallback procedures of the business services hit, directly or through a dependency."""
    service_ids = list(incident.services.values_list("pk", flat=True))
    affected = DependencyGraph().downstream(service_ids)
    return list(
        FallbackProcedure.objects.filter(service_id__in=affected)
        .select_related("service")
        .order_by("service__criticality", "service__name", "title")
    )


def review_action_items(review: PostIncidentReview) -> QuerySet[ActionItem]:
    return (
        ActionItem.objects.filter(
            source_type=ContentType.objects.get_for_model(PostIncidentReview), source_id=review.pk
        )
        .select_related("owner")
        .order_by("due_date", "id")
    )


def open_incident_counts_by_severity(*, include_drills: bool = False) -> dict[str, int]:
    qs = Incident.objects.open()
    if not include_drills:
        qs = qs.real()
    counts = dict(qs.values_list("severity").annotate(n=Count("id")).values_list("severity", "n"))
    return {sev: counts.get(sev, 0) for sev in ("sev1", "sev2", "sev3", "sev4")}


def alert_list(*, filters: dict | None = None) -> QuerySet[Alert]:
    f = filters or {}
    qs = Alert.objects.select_related("service", "incident", "silence")
    if f.get("status"):
        qs = qs.filter(status=f["status"])
    if f.get("source"):
        qs = qs.filter(source=f["source"])
    if f.get("service"):
        qs = qs.filter(service_id=f["service"])
    if f.get("incident"):
        qs = qs.filter(incident_id=f["incident"])
    return qs.order_by("-last_seen", "-id")
