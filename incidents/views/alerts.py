"""Alerts: what every automatic source raised, grouped into incidents or muted by silences."""

from __future__ import annotations

import json

from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from incidents import selectors
from incidents.forms import AlertFilterForm
from incidents.models import Alert

from ._common import KeyField, keyset_page, perm_required, query_with

ALERT_KEYS = (KeyField("last_seen", True, "datetime"), KeyField("id", True))


@perm_required("incidents.view_alert")
def alert_list(request: HttpRequest) -> HttpResponse:
    form = AlertFilterForm(request.GET or None)
    filters = form.selector_filters() if form.is_bound and form.is_valid() else {}
    alerts = selectors.alert_list(filters=filters)
    q = (form.cleaned_data.get("q") or "").strip() if form.is_bound and form.is_valid() else ""
    if q:
        alerts = alerts.filter(Q(summary__icontains=q) | Q(fingerprint__icontains=q))
    # Keyset pages: monitoring can raise many alerts, and a COUNT(*) over them helps nobody.
    page = keyset_page(alerts, ALERT_KEYS, request.GET.get("after"))
    return render(
        request,
        "incidents/alert_list.html",
        {
            "form": form,
            "page": page,
            "filtered": bool(filters or q),
            "next_query": query_with(request, after=page.next_cursor) if page.has_next else "",
            "first_query": query_with(request, after=None),
        },
    )


@perm_required("incidents.view_alert")
def alert_detail(request: HttpRequest, pk: int) -> HttpResponse:
    alert = get_object_or_404(Alert.objects.select_related("service", "incident", "silence"), pk=pk)
    return render(
        request,
        "incidents/alert_detail.html",
        {"alert": alert, "details": json.dumps(alert.details, indent=2, ensure_ascii=False, sort_keys=True)},
    )
