"""The status page: each business-facing ERP service as operational, degraded or down.

Derived from open, real (non-drill) incidents: an incident on the service itself or on anything
it depends on, transitively, affects it (the ERP database is down: sales is down). SEV1 and SEV2
mean down, SEV3 and SEV4 degraded; the worst incident wins. A fixed number of queries, whatever
the number of services and incidents."""

from __future__ import annotations

from django.db.models import Prefetch

from plans.models import ERPService, FallbackProcedure

from ..models import Incident, severity_rank
from .graph import DependencyGraph

OPERATIONAL, DEGRADED, DOWN = "operational", "degraded", "down"
DOWN_SEVERITIES = {"sev1", "sev2"}


def state_for(incidents: list[Incident]) -> str:
    if not incidents:
        return OPERATIONAL
    return DOWN if any(i.severity in DOWN_SEVERITIES for i in incidents) else DEGRADED


def service_states() -> list[dict]:
    services = list(
        ERPService.objects.business()
        .order_by("criticality", "name")
        .prefetch_related(Prefetch("fallbacks", queryset=FallbackProcedure.objects.order_by("title")))
    )
    open_incidents = list(
        Incident.objects.open().real().prefetch_related("services").order_by("severity", "opened_at", "id")
    )
    graph = DependencyGraph()
    states = []
    for service in services:
        upstream = graph.upstream([service.pk])
        affecting = [i for i in open_incidents if any(s.pk in upstream for s in i.services.all())]
        affecting.sort(key=lambda i: (severity_rank(i.severity), i.opened_at))
        updates = [i for i in affecting if i.public_update]
        latest = max(updates, key=lambda i: i.public_update_at or i.opened_at) if updates else None
        state = state_for(affecting)
        states.append(
            {
                "service": service,
                "state": state,
                "incidents": affecting,
                "fallbacks": list(service.fallbacks.all()) if state != OPERATIONAL else [],
                "public_update": latest.public_update if latest else "",
                "public_update_at": latest.public_update_at if latest else None,
            }
        )
    return states
