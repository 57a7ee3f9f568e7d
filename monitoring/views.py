"""Monitoring pages: the check list (state, last value, last run) and a check page with its
settings (secrets masked), thresholds, a 24-hour chart and recent samples, with pause/resume and
run now. Thin: reads here, writes through services."""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from erpcontinuity import charts
from plans.models import ERPService

from . import services
from .models import Check, Sample

PAGE_SIZE = 50
RECENT_SAMPLES = 20
CHART_HOURS = 24
CHART_BUCKET_MINUTES = 15
STATE_BADGE = {
    Check.State.OK: "ok",
    Check.State.WARNING: "warn",
    Check.State.CRITICAL: "bad",
    Check.State.UNKNOWN: "bad",
}


@login_required
@permission_required("monitoring.view_check", raise_exception=True)
def check_list(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()
    state = request.GET.get("state", "")
    kind = request.GET.get("kind", "")
    service = request.GET.get("service", "")
    checks = Check.objects.select_related("service")
    if q:
        checks = checks.filter(Q(name__icontains=q) | Q(service__name__icontains=q) | Q(service__code__icontains=q))
    if state in Check.State.values:
        checks = checks.filter(state=state)
    if kind in Check.Kind.values:
        checks = checks.filter(kind=kind)
    if service.isdigit():
        checks = checks.filter(service_id=int(service))
    page = Paginator(checks, PAGE_SIZE).get_page(request.GET.get("page"))
    for check in page.object_list:
        check.badge = STATE_BADGE.get(check.state, "bad")
    context = {
        "page": page,
        "checks": page.object_list,
        "q": q,
        "state": state,
        "kind": kind,
        "service": service,
        "states": Check.State.choices,
        "kinds": Check.Kind.choices,
        "services": ERPService.objects.filter(checks__isnull=False)
        .distinct()
        .order_by("name")
        .values_list("pk", "name"),
    }
    return render(request, "monitoring/check_list.html", context)


def _chart(check: Check, now: datetime.datetime):
    """The last 24 h of samples, averaged per 15-minute bucket (a gap where there is none),
    with the critical threshold (else the warning one) as the dashed target line."""
    since = now - datetime.timedelta(hours=CHART_HOURS)
    rows = Sample.objects.filter(monitor_check=check, at__gte=since, value__isnull=False).values_list("at", "value")
    bucket = datetime.timedelta(minutes=CHART_BUCKET_MINUTES)
    count = CHART_HOURS * 60 // CHART_BUCKET_MINUTES
    sums, counts = [0.0] * count, [0] * count
    for at, value in rows:
        i = min(count - 1, int((at - since) / bucket))
        sums[i] += value
        counts[i] += 1
    if not any(counts):
        return None
    start = timezone.localtime(since)
    labels = [(start + bucket * (i + 1)).strftime("%H:%M") for i in range(count)]
    values = [round(s / n, 3) if n else None for s, n in zip(sums, counts, strict=True)]
    _comparison, warning, critical = services.thresholds(check)
    target, target_label = (
        (critical, _("Critical threshold")) if critical is not None else (warning, _("Warning threshold"))
    )
    return charts.lines(
        labels,
        [charts.Series(check.name, values)],
        title=_("Last 24 hours"),
        target=target,
        target_label=target_label if target is not None else "",
    )


@login_required
@permission_required("monitoring.view_check", raise_exception=True)
def check_detail(request: HttpRequest, pk: int) -> HttpResponse:
    check = get_object_or_404(Check.objects.select_related("service"), pk=pk)
    comparison, warning, critical = services.thresholds(check)
    context = {
        "check": check,
        "badge": STATE_BADGE.get(check.state, "bad"),
        "settings_items": sorted(check.masked_settings.items()),
        "comparison_label": Check.Comparison(comparison).label,
        "warning": warning,
        "critical": critical,
        "chart": _chart(check, timezone.now()),
        "samples": Sample.objects.filter(monitor_check=check)[:RECENT_SAMPLES],
        "polled": check.kind in Check.POLLED_KINDS,
    }
    return render(request, "monitoring/check_detail.html", context)


@login_required
@permission_required("monitoring.change_check", raise_exception=True)
@require_POST
def check_pause(request: HttpRequest, pk: int) -> HttpResponse:
    check = get_object_or_404(Check, pk=pk)
    paused = request.POST.get("paused", "1") != "0"
    services.check_set_paused(check=check, paused=paused)
    messages.success(request, _("Check paused.") if paused else _("Check resumed."))
    return redirect("monitoring:check-detail", pk=check.pk)


@login_required
@permission_required("monitoring.change_check", raise_exception=True)
@require_POST
def check_run(request: HttpRequest, pk: int) -> HttpResponse:
    check = get_object_or_404(Check, pk=pk)
    if check.kind not in Check.POLLED_KINDS:
        messages.error(request, _("This kind of check is pushed to ERP Continuity; it cannot be run from here."))
    else:
        services.request_run(check=check)
        messages.success(request, _("Run queued; the result appears here when the worker has run it."))
    return redirect("monitoring:check-detail", pk=check.pk)
