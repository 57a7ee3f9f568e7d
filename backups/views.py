"""Backup pages: the overview (3-2-1 compliance, newest backup age vs RPO, last restore vs RTO)
and a policy page with runs, verifications and charts. Thin: selectors read, services write."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from erpcontinuity import charts

from . import selectors, services
from .models import BackupPolicy, Verification

PAGE_SIZE = 50


@login_required
@permission_required("backups.view_backuppolicy", raise_exception=True)
def overview(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()
    state = request.GET.get("state", "")
    # A policy per service and store: few rows, so the state (computed, not stored) filters before paging.
    rows = selectors.overview_rows(selectors.policy_list(q=q))
    if state in (selectors.GREEN, selectors.AMBER, selectors.RED):
        rows = [row for row in rows if row.state == state]
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    states = [
        (selectors.GREEN, _("Compliant")),
        (selectors.AMBER, _("Needs attention")),
        (selectors.RED, _("Failing")),
    ]
    return render(
        request,
        "backups/overview.html",
        {"page": page, "rows": page.object_list, "q": q, "state": state, "states": states},
    )


def _charts(policy: BackupPolicy, runs, verifications):
    # One point per backup set (its copies in several locations have the same size).
    by_set = {}
    for run in reversed(list(runs)):
        if run.size_bytes is not None:
            by_set.setdefault(run.backup_set or run.pk, run)
    sized = list(by_set.values())[-30:]
    restores = [v for v in reversed(list(verifications)) if v.kind == Verification.Kind.RESTORE][-30:]
    size_chart = (
        charts.lines(
            [r.started_at.strftime("%m-%d") for r in sized],
            [charts.Series(_("Size (MB)"), [round(r.size_bytes / 1e6, 2) for r in sized])],
            title=_("Backup sizes"),
            unit="MB",
        )
        if sized
        else None
    )
    restore_chart = (
        charts.lines(
            [v.started_at.strftime("%m-%d") for v in restores],
            [charts.Series(_("Restore (s)"), [round(v.duration_seconds, 1) for v in restores])],
            title=_("Restore test durations"),
            unit="s",
            target=policy.service.rto_minutes * 60,
            target_label=_("RTO"),
        )
        if restores
        else None
    )
    return size_chart, restore_chart


@login_required
@permission_required("backups.view_backuppolicy", raise_exception=True)
def policy_detail(request: HttpRequest, pk: int) -> HttpResponse:
    policy = get_object_or_404(selectors.policy_list(), pk=pk)
    row = selectors.overview_rows([policy])[0]
    runs = list(selectors.policy_runs(policy))
    verifications = list(selectors.policy_verifications(policy))
    size_chart, restore_chart = _charts(policy, runs, verifications)
    context = {
        "policy": policy,
        "row": row,
        "locations": policy.locations.all(),
        "runs": runs,
        "verifications": verifications,
        "size_chart": size_chart,
        "restore_chart": restore_chart,
    }
    return render(request, "backups/policy_detail.html", context)


@login_required
@permission_required("backups.change_backuppolicy", raise_exception=True)
@require_POST
def verify_now(request: HttpRequest, pk: int) -> HttpResponse:
    policy = get_object_or_404(BackupPolicy, pk=pk)
    services.request_verification(policy=policy, kinds=list(Verification.Kind.values))
    messages.success(request, _("Verification queued; results appear here when the worker has run it."))
    return redirect("backups:policy-detail", pk=policy.pk)
