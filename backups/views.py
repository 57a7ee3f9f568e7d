"""Backup pages: the overview (3-2-1 compliance, newest backup age vs RPO, last restore vs RTO)
and a policy page with runs, verifications and charts. Thin: selectors read, services write."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from erpcontinuity import charts
from incidents.views._common import call_service, perm_required

from . import selectors, services
from .forms import LocationForm, PolicyForm
from .models import BackupLocation, BackupPolicy, RestoreProgress, Verification

PAGE_SIZE = 50
# While a restore test runs, the policy page reloads itself (a meta refresh: no JavaScript needed).
REFRESH_SECONDS = 5


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


def _size_unit(largest: int) -> tuple[float, str]:
    """The unit a size axis reads best in: the largest backup is at least 1 of it."""
    for divisor, unit in ((1e9, " GB"), (1e6, " MB"), (1e3, " KB")):
        if largest >= divisor:
            return divisor, unit
    return 1, " B"


def _charts(policy: BackupPolicy, runs, verifications):
    # One point per backup set (its copies in several locations have the same size).
    by_set = {}
    for run in reversed(list(runs)):
        if run.size_bytes is not None:
            by_set.setdefault(run.backup_set or run.pk, run)
    sized = list(by_set.values())[-30:]
    restores = [v for v in reversed(list(verifications)) if v.kind == Verification.Kind.RESTORE][-30:]
    size_chart = None
    if sized:
        divisor, unit = _size_unit(max(r.size_bytes for r in sized))
        size_chart = charts.lines(
            [r.started_at.strftime("%m-%d") for r in sized],
            [charts.Series(_("Size"), [round(r.size_bytes / divisor, 2) for r in sized])],
            title=_("Backup sizes"),
            unit=unit,
        )
    # Minutes, like the RTO they are held against.
    restore_chart = (
        charts.lines(
            [v.started_at.strftime("%m-%d") for v in restores],
            [charts.Series(_("Restore test"), [round(v.duration_seconds / 60, 1) for v in restores])],
            title=_("Restore test durations"),
            unit=" min",
            target=policy.service.rto_minutes,
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
    progress = RestoreProgress.objects.select_related("run").filter(policy=policy).first()
    context = {
        "progress": progress if progress and progress.running else None,
        "progress_stalled": bool(progress and progress.stalled(timezone.now())),
        "refresh_seconds": REFRESH_SECONDS,
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


# --- Policies and locations: create, edit, delete ------------------------------------------------


@perm_required("backups.add_backuppolicy")
def policy_create(request: HttpRequest) -> HttpResponse:
    form = PolicyForm(request.POST or None, initial={"service": request.GET.get("service")})
    if request.method == "POST" and form.is_valid():
        policy = call_service(form, services.policy_create, **form.cleaned_data)
        if policy:
            messages.success(
                request, _("Backup policy “%(name)s” was created. Now add its locations.") % {"name": policy.name}
            )
            return redirect("backups:policy-detail", pk=policy.pk)
    return render(request, "backups/policy_form.html", {"form": form})


@perm_required("backups.change_backuppolicy")
def policy_edit(request: HttpRequest, pk: int) -> HttpResponse:
    policy = get_object_or_404(BackupPolicy.objects.select_related("service"), pk=pk)
    # The form writes its input onto its instance while validating: give it its own copy so the
    # page keeps the stored name and the service gets the unmodified row.
    form = PolicyForm(request.POST or None, instance=BackupPolicy.objects.get(pk=pk))
    if request.method == "POST" and form.is_valid():
        saved = call_service(form, services.policy_update, policy=policy, **form.cleaned_data)
        if saved:
            messages.success(request, _("Backup policy “%(name)s” was saved.") % {"name": saved.name})
            return redirect("backups:policy-detail", pk=saved.pk)
    return render(request, "backups/policy_form.html", {"form": form, "policy": policy})


def _confirm_delete(request: HttpRequest, obj, action: Callable, *, success_url: str, context: dict) -> HttpResponse:
    if request.method == "POST":
        name = str(obj)
        action()
        messages.success(request, _("“%(name)s” was deleted.") % {"name": name})
        return redirect(success_url)
    return render(request, "incidents/confirm_delete.html", {**context, "object": obj})


@perm_required("backups.delete_backuppolicy")
def policy_delete(request: HttpRequest, pk: int) -> HttpResponse:
    policy = get_object_or_404(BackupPolicy.objects.select_related("service"), pk=pk)
    return _confirm_delete(
        request,
        policy,
        lambda: services.policy_delete(policy=policy),
        success_url=reverse("backups:overview"),
        context={
            "policy": policy,
            "cancel_url": reverse("backups:policy-detail", args=[policy.pk]),
            "warning": _(
                "Its %(locations)s locations, %(runs)s backup runs and %(verifications)s verifications are "
                "deleted with it, and its open alerts are resolved. Backup files are not touched."
            )
            % {
                "locations": policy.locations.count(),
                "runs": policy.runs.count(),
                "verifications": policy.verifications.count(),
            },
        },
    )


@perm_required("backups.add_backuplocation")
def location_create(request: HttpRequest, pk: int) -> HttpResponse:
    policy = get_object_or_404(BackupPolicy.objects.select_related("service"), pk=pk)
    form = LocationForm(request.POST or None, instance=BackupLocation(policy=policy))
    if request.method == "POST" and form.is_valid():
        location = call_service(form, services.location_create, policy=policy, **form.cleaned_data)
        if location:
            messages.success(request, _("Location “%(name)s” was added.") % {"name": location.name})
            return redirect("backups:policy-detail", pk=policy.pk)
    return render(request, "backups/location_form.html", {"form": form, "policy": policy})


@perm_required("backups.change_backuplocation")
def location_edit(request: HttpRequest, pk: int) -> HttpResponse:
    location = get_object_or_404(BackupLocation.objects.select_related("policy__service"), pk=pk)
    form = LocationForm(request.POST or None, instance=BackupLocation.objects.get(pk=pk))
    if request.method == "POST" and form.is_valid():
        saved = call_service(form, services.location_update, location=location, **form.cleaned_data)
        if saved:
            messages.success(request, _("Location “%(name)s” was saved.") % {"name": saved.name})
            return redirect("backups:policy-detail", pk=location.policy_id)
    return render(
        request, "backups/location_form.html", {"form": form, "policy": location.policy, "location": location}
    )


@perm_required("backups.delete_backuplocation")
def location_delete(request: HttpRequest, pk: int) -> HttpResponse:
    location = get_object_or_404(BackupLocation.objects.select_related("policy__service"), pk=pk)
    policy_url = reverse("backups:policy-detail", args=[location.policy_id])
    return _confirm_delete(
        request,
        location,
        lambda: services.location_delete(location=location),
        success_url=policy_url,
        context={
            "policy": location.policy,
            "cancel_url": policy_url,
            "warning": _(
                "Its %(runs)s backup runs are deleted with it; the copies of the policy's backups are counted "
                "again without it. Backup files are not touched."
            )
            % {"runs": location.runs.count()},
        },
    )
