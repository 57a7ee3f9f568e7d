"""URLs of the benchmarks: the bare baseline views, then every URL of the project.

The bare views are the floor each benchmark compares the real code with. They do the same storage
work with nothing else: no DRF, no authentication, no permission check, no service logic, no
template. They run in the same process, behind the same middleware, on the same database.

- POST /bench/bare/alert/        one alert in JSON -> one INSERT (Alert.objects.create)
- POST /bench/bare/alert-bulk/   a JSON list of alerts -> bulk_create in one transaction
- GET  /bench/bare/incidents/    one page of incidents as .values() JSON: the columns the incidents
                                 API list returns, same order (-opened_at, -id), same page size,
                                 same keyset condition; ?after=<ISO opened_at>,<id> for a later page
"""

from __future__ import annotations

import datetime
import json

from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest, JsonResponse
from django.urls import include, path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from incidents.models import Alert, Incident
from plans.models import ERPService

_service_ids: dict[str, int] = {}


def _service_id(code: str | None) -> int | None:
    if not code:
        return None
    if code not in _service_ids:  # loaded once, on the first (warm-up) request
        _service_ids.update(ERPService.objects.values_list("code", "id"))
    return _service_ids.get(code)


def _alert(data: dict, now: datetime.datetime) -> Alert:
    return Alert(
        source=data["source"],
        fingerprint=data["fingerprint"],
        severity=data["severity"],
        summary=data["summary"][:500],
        service_id=_service_id(data.get("service")),
        details=data.get("details") or {},
        first_seen=now,
        last_seen=now,
    )


@csrf_exempt
def bare_alert(request: HttpRequest) -> JsonResponse:
    alert = _alert(json.loads(request.body), timezone.now())
    alert.save(force_insert=True)
    return JsonResponse({"id": alert.pk}, status=201)


@csrf_exempt
def bare_alert_bulk(request: HttpRequest) -> JsonResponse:
    now = timezone.now()
    rows = [_alert(item, now) for item in json.loads(request.body)]
    with transaction.atomic():
        Alert.objects.bulk_create(rows, batch_size=1000)
    return JsonResponse({"created": len(rows)}, status=201)


# The columns of incidents.api.serializers.IncidentListSerializer (reference is derived from id).
INCIDENT_COLUMNS = (
    "id", "title", "severity", "status", "is_drill", "detected_at", "opened_at", "acknowledged_at",
    "resolved_at", "closed_at", "version",
    "commander_id", "commander__username", "commander__first_name", "commander__last_name",
)  # fmt: skip


def bare_incidents(request: HttpRequest) -> JsonResponse:
    size = int(request.GET.get("size", 50))
    qs = Incident.objects.order_by("-opened_at", "-id")
    after = request.GET.get("after")
    if after:
        text, pk = after.rsplit(",", 1)
        at = datetime.datetime.fromisoformat(text)
        # The same keyset condition as the incident list page (incidents/views/_common.py).
        qs = qs.filter(Q(opened_at__lte=at) & (Q(opened_at__lt=at) | Q(id__lt=int(pk))))
    rows = list(qs.values(*INCIDENT_COLUMNS)[: size + 1])
    has_next = len(rows) > size
    rows = rows[:size]
    services: dict[int, list[dict]] = {}
    links = (
        Incident.services.through.objects.filter(incident_id__in=[r["id"] for r in rows])
        .order_by("erpservice__name")
        .values("incident_id", "erpservice_id", "erpservice__name")
    )
    for link in links:
        services.setdefault(link["incident_id"], []).append(
            {"id": link["erpservice_id"], "name": link["erpservice__name"]}
        )
    for row in rows:
        row["services"] = services.get(row["id"], [])
    return JsonResponse({"has_next": has_next, "results": rows})


bare_patterns = [
    path("alert/", bare_alert, name="bare-alert"),
    path("alert-bulk/", bare_alert_bulk, name="bare-alert-bulk"),
    path("incidents/", bare_incidents, name="bare-incidents"),
]

urlpatterns = [
    path("bench/bare/", include(bare_patterns)),
    path("", include("erpcontinuity.urls")),
]
