"""Monitoring pages: the check list (state, last value, last run) and a check page with its
settings (secrets masked), thresholds, a 24-hour chart and recent samples, with pause/resume and
run now. Thin: reads here, writes through services."""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from erpcontinuity import charts
from incidents.models import Alert
from plans.models import ERPService

from . import services
from .forms import KIND_FIELDS, CheckForm
from .models import Check, Sample

PAGE_SIZE = 50
RECENT_SAMPLES = 20
RECENT_ALERTS = 10
CHART_HOURS = 24
CHART_BUCKET_MINUTES = 15
BAND_COLOR = "#98a2b3"
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
    counts = dict(Check.objects.order_by().values_list("state").annotate(n=Count("id")))
    context = {
        "state_counts": [
            (value, label, counts.get(value, 0), STATE_BADGE[value]) for value, label in Check.State.choices
        ],
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
    if request.GET.get("partial") == "1":  # the auto-refresh fetches the summary and the table only
        return render(request, "monitoring/_check_table.html", context)
    return render(request, "monitoring/check_list.html", context)


def _chart(check: Check, now: datetime.datetime):
    """The last 24 h of samples, averaged per 15-minute bucket (a gap where there is none),
    with the critical threshold (else the warning one) as the dashed target line, and, for a check
    with a learned baseline, its normal band (mean ± sigma × deviation of that hour of day)."""
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
    series = [charts.Series(check.name, values)]
    band = services.baseline_by_hour(check, now) if check.use_baseline else {}
    if band:
        hours = [(start + bucket * (i + 1)).hour for i in range(count)]
        for label, sign in ((_("Baseline low"), -1), (_("Baseline high"), 1)):
            edge = [
                round(band[h][0] + sign * check.baseline_sigma * band[h][1], 3) if h in band else None for h in hours
            ]
            series.append(charts.Series(str(label), [max(v, 0) if v is not None else None for v in edge], BAND_COLOR))
    _comparison, warning, critical = services.thresholds(check)
    target, target_label = (
        (critical, _("Critical threshold")) if critical is not None else (warning, _("Warning threshold"))
    )
    return charts.lines(
        labels,
        series,
        title=_("Last 24 hours"),
        unit=f" {check.unit}" if check.unit else "",
        target=target,
        target_label=target_label if target is not None else "",
        # The chart spans the page: a wide canvas keeps its text at reading size.
        width=1100,
        height=260,
    )


def _settings_items(check: Check) -> list[tuple[str, object]]:
    """The check's settings (secrets masked) under the labels of the form that edits them, in
    the form's order; a key the form does not know keeps its own name."""
    masked = check.masked_settings
    items = []
    for field, key in KIND_FIELDS.get(check.kind, []):
        if key in masked:
            value = masked.pop(key)
            if isinstance(value, list):
                value = ", ".join(str(v) for v in value)
            items.append((CheckForm.base_fields[field].label, value))
    return items + sorted(masked.items())


@login_required
@permission_required("monitoring.view_check", raise_exception=True)
def check_detail(request: HttpRequest, pk: int) -> HttpResponse:
    check = get_object_or_404(Check.objects.select_related("service"), pk=pk)
    comparison, warning, critical = services.thresholds(check)
    context = {
        "check": check,
        "badge": STATE_BADGE.get(check.state, "bad"),
        "settings_items": _settings_items(check),
        "comparison_label": Check.Comparison(comparison).label,
        "warning": warning,
        "critical": critical,
        "chart": _chart(check, timezone.now()),
        "samples": Sample.objects.filter(monitor_check=check)[:RECENT_SAMPLES],
        "alerts": Alert.objects.filter(source=services.ALERT_SOURCE, fingerprint=services.fingerprint(check))
        .select_related("incident")
        .order_by("-first_seen", "-id")[:RECENT_ALERTS],
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
    services.request_run(check=check)
    messages.success(request, _("Run queued; the result appears here when the worker has run it."))
    return redirect("monitoring:check-detail", pk=check.pk)


def _edit(request: HttpRequest, check: Check | None) -> HttpResponse:
    form = CheckForm(request.POST or None, instance=check)
    if request.method == "POST" and form.is_valid():
        try:
            if check is None:
                saved = services.check_create(**form.service_fields())
            else:
                saved = services.check_update(check=check, **form.service_fields())
        except ValidationError as e:
            form.add_service_error(e)
        else:
            messages.success(request, _("Check saved."))
            return redirect("monitoring:check-detail", pk=saved.pk)
    return render(request, "monitoring/check_form.html", {"form": form, "check": check})


@login_required
@permission_required("monitoring.add_check", raise_exception=True)
def check_create(request: HttpRequest) -> HttpResponse:
    return _edit(request, None)


@login_required
@permission_required("monitoring.change_check", raise_exception=True)
def check_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _edit(request, get_object_or_404(Check.objects.select_related("service"), pk=pk))


@login_required
@permission_required("monitoring.delete_check", raise_exception=True)
def check_delete(request: HttpRequest, pk: int) -> HttpResponse:
    check = get_object_or_404(Check, pk=pk)
    if request.method == "POST":
        services.check_delete(check=check)
        messages.success(request, _("Check deleted."))
        return redirect("monitoring:check-list")
    return render(
        request,
        "incidents/confirm_delete.html",
        {
            "object": check,
            "cancel_url": check.get_absolute_url(),
            "warning": _("Its samples and history go with it. An alert it raised is resolved; incidents stay."),
        },
    )
