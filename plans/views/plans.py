"""Browser pages for emergency plans and their versions.

Who sees what:
- view_emergencyplan alone (business users): the plan list and each plan's *published* version.
- view_planversion: every version, drafts and the history, and the comparison page.
- change_planversion / add_planstep / ...: edit a draft; approve_planversion: publish it.

A published or superseded version is frozen. Every write goes through plans.services, which
refuses to change a frozen version; the views check first too, so a stale link to an edit page
answers with a message and a redirect instead of a form that can never be saved."""

from __future__ import annotations

import difflib
import itertools

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from .. import selectors, services
from ..forms.plans import (
    CommunicationForm,
    PlanCreateForm,
    PlanFilter,
    PlanForm,
    StepForm,
    VersionForm,
    attach_errors,
)
from ..models import CommunicationRule, EmergencyPlan, PlanStep, PlanVersion

PAGE_SIZE = 25


# --- Access helpers ------------------------------------------------------------------------------


def _get_plan(pk: int) -> EmergencyPlan:
    return get_object_or_404(EmergencyPlan.objects.select_related("owner"), pk=pk)


def _get_version(plan_pk: int, number: int) -> PlanVersion:
    return get_object_or_404(
        PlanVersion.objects.select_related("plan", "created_by", "approved_by"), plan_id=plan_pk, number=number
    )


def _frozen_redirect(request: HttpRequest, version: PlanVersion) -> HttpResponse:
    """The answer to any attempt to change a published or superseded version."""
    messages.error(
        request,
        _("Version %(n)d is %(status)s and cannot be changed. Start a new draft to change the plan.")
        % {"n": version.number, "status": version.get_status_display().lower()},
    )
    return redirect(version.get_absolute_url())


def _message_from(error: ValidationError) -> str:
    return " ".join(str(m) for m in error.messages)


def _with_current_versions(plans) -> None:
    """Set .published and .draft on each plan from its prefetched `ordered_versions`."""
    for plan in plans:
        versions = getattr(plan, "ordered_versions", None)
        if versions is None:
            versions = list(plan.versions.order_by("-number"))
        plan.published = next((v for v in versions if v.status == PlanVersion.Status.PUBLISHED), None)
        plan.draft = next((v for v in versions if v.status == PlanVersion.Status.DRAFT), None)


# --- Plans ---------------------------------------------------------------------------------------


@login_required
@permission_required("plans.view_emergencyplan", raise_exception=True)
def plan_list(request: HttpRequest) -> HttpResponse:
    can_see_drafts = request.user.has_perm("plans.view_planversion")
    data = request.GET.copy()
    if not can_see_drafts:
        data.pop("status", None)  # whether a plan has a draft is not business users' concern
    plan_filter = PlanFilter(data, queryset=selectors.plan_list().order_by("title", "pk"))
    page = Paginator(plan_filter.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    _with_current_versions(page.object_list)
    filtered = any(data.get(name) for name in ("q", "scenario", "service", "status", "overdue"))
    return render(
        request,
        "plans/plan_list.html",
        {"page": page, "filter": plan_filter, "filtered": filtered, "can_see_drafts": can_see_drafts},
    )


@login_required
@permission_required("plans.add_emergencyplan", raise_exception=True)
def plan_create(request: HttpRequest) -> HttpResponse:
    form = PlanCreateForm(request.POST or None, initial={"owner": request.user.pk})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            plan = services.plan_create(
                title=data["title"],
                scenario=data["scenario"],
                services=data["services"],
                owner=data["owner"],
                review_date=data["review_date"],
                summary=data["summary"],
                user=request.user,
            )
        except ValidationError as e:
            attach_errors(form, e)
        else:
            messages.success(
                request, _("Plan created. Version 1 is a draft: add its steps, then ask a manager to publish it.")
            )
            return redirect("plans:version-detail", pk=plan.pk, number=1)
    return render(request, "plans/plan_form.html", {"form": form})


@login_required
@permission_required("plans.view_emergencyplan", raise_exception=True)
def plan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _get_plan(pk)
    can_see_drafts = request.user.has_perm("plans.view_planversion")
    versions = list(plan.versions.select_related("created_by", "approved_by").order_by("-number"))
    published = next((v for v in versions if v.status == PlanVersion.Status.PUBLISHED), None)
    draft = next((v for v in versions if v.status == PlanVersion.Status.DRAFT), None)
    for newer, older in itertools.pairwise(versions):
        newer.previous_number = older.number
    services_covered = list(plan.services.order_by("criticality", "name").prefetch_related("fallbacks"))
    context = {
        "plan": plan,
        "published": published,
        "outline": selectors.version_outline(published) if published else None,
        "services_covered": services_covered,
        "fallbacks": [f for s in services_covered for f in s.fallbacks.all()],
        "can_see_drafts": can_see_drafts,
        "draft": draft if can_see_drafts else None,
        "versions": versions if can_see_drafts else [],
    }
    return render(request, "plans/plan_detail.html", context)


@login_required
@permission_required("plans.change_emergencyplan", raise_exception=True)
def plan_edit(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _get_plan(pk)
    # The form works on its own copy: a failed validation must not rename the page's heading.
    form = PlanForm(request.POST or None, instance=_get_plan(pk))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.plan_update(
                plan=plan,
                services=data["services"],
                title=data["title"],
                scenario=data["scenario"],
                owner=data["owner"],
                review_date=data["review_date"],
            )
        except ValidationError as e:
            attach_errors(form, e)
        else:
            messages.success(request, _("Plan updated."))
            return redirect(plan.get_absolute_url())
    return render(request, "plans/plan_form.html", {"form": form, "plan": plan})


@login_required
@permission_required("plans.delete_emergencyplan", raise_exception=True)
def plan_delete(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _get_plan(pk)
    was_published = plan.versions.exclude(status=PlanVersion.Status.DRAFT).exists()
    if request.method == "POST":
        try:
            services.plan_delete(plan=plan)
        except ValidationError as e:
            messages.error(request, _message_from(e))
            return redirect(plan.get_absolute_url())
        messages.success(request, _("Plan “%(title)s” deleted.") % {"title": plan.title})
        return redirect("plans:plan-list")
    return render(request, "plans/plan_delete.html", {"plan": plan, "was_published": was_published})


@login_required
@permission_required(("plans.add_planversion", "plans.change_planversion"), raise_exception=True)
@require_POST
def plan_start_draft(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _get_plan(pk)
    had_draft = plan.versions.filter(status=PlanVersion.Status.DRAFT).exists()
    draft = services.plan_start_draft(plan=plan, user=request.user)
    if had_draft:
        messages.info(request, _("This plan already has a draft (version %(n)d); continue it.") % {"n": draft.number})
    else:
        messages.success(
            request, _("Draft version %(n)d opened, copied from the newest version.") % {"n": draft.number}
        )
    return redirect(draft.get_absolute_url())


# --- Versions ------------------------------------------------------------------------------------


@login_required
@permission_required("plans.view_planversion", raise_exception=True)
def version_detail(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    version = _get_version(pk, number)
    plan = version.plan
    current = plan.versions.filter(status=PlanVersion.Status.PUBLISHED).only("pk", "number", "plan_id").first()
    editable = not version.is_frozen and request.user.has_perm("plans.change_planversion")
    older = plan.versions.filter(number__lt=version.number).order_by("-number")
    context = {
        "plan": plan,
        "version": version,
        "outline": selectors.version_outline(version),
        "current": current,
        "editable": editable,
        "previous_number": older.values_list("number", flat=True).first(),
    }
    return render(request, "plans/version_detail.html", context)


@login_required
@permission_required("plans.change_planversion", raise_exception=True)
def version_edit(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    version = _get_version(pk, number)
    if version.is_frozen:
        return _frozen_redirect(request, version)
    form = VersionForm(request.POST or None, instance=_get_version(pk, number))
    if request.method == "POST" and form.is_valid():
        try:
            services.version_update(version=version, **form.cleaned_data)
        except ValidationError as e:
            attach_errors(form, e)
        else:
            messages.success(request, _("Version %(n)d updated.") % {"n": version.number})
            return redirect(version.get_absolute_url())
    return render(request, "plans/version_form.html", {"form": form, "plan": version.plan, "version": version})


@login_required
@permission_required("plans.approve_planversion", raise_exception=True)
@require_POST
def version_publish(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    version = _get_version(pk, number)
    try:
        services.version_publish(version=version, user=request.user)
    except ValidationError as e:
        messages.error(request, _message_from(e))
        return redirect(version.get_absolute_url())
    messages.success(
        request,
        _("Version %(n)d approved and published. Earlier versions stay readable in the history.")
        % {"n": version.number},
    )
    return redirect(version.plan.get_absolute_url())


@login_required
@permission_required("plans.delete_planversion", raise_exception=True)
@require_POST
def version_discard(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    version = _get_version(pk, number)
    if version.is_frozen:
        return _frozen_redirect(request, version)
    try:
        services.version_discard(version=version)
    except ValidationError as e:
        messages.error(request, _message_from(e))
        return redirect(version.get_absolute_url())
    messages.success(request, _("Draft version %(n)d discarded.") % {"n": version.number})
    return redirect(version.plan.get_absolute_url())


def _version_item_form(
    request: HttpRequest, *, version: PlanVersion, form, save, heading: str, success: str, item=None
) -> HttpResponse:
    """Shared flow of the step and communication-rule forms: validate, call the service, redirect."""
    if request.method == "POST" and form.is_valid():
        try:
            save(form.cleaned_data)
        except ValidationError as e:
            attach_errors(form, e)
        else:
            messages.success(request, success)
            return redirect(version.get_absolute_url())
    context = {"form": form, "plan": version.plan, "version": version, "heading": heading, "item": item}
    return render(request, "plans/version_item_form.html", context)


@login_required
@permission_required("plans.add_planstep", raise_exception=True)
def step_create(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    version = _get_version(pk, number)
    if version.is_frozen:
        return _frozen_redirect(request, version)
    next_order = (max((s.order for s in version.steps.all()), default=0)) + 1
    phase = request.GET.get("phase", "")
    form = StepForm(request.POST or None, initial={"order": next_order, "phase": phase})
    return _version_item_form(
        request,
        version=version,
        form=form,
        heading=_("New step"),
        success=_("Step added."),
        save=lambda data: services.step_create(version=version, **data),
    )


def _get_step(pk: int) -> PlanStep:
    return get_object_or_404(PlanStep.objects.select_related("version__plan", "role"), pk=pk)


@login_required
@permission_required("plans.change_planstep", raise_exception=True)
def step_edit(request: HttpRequest, pk: int) -> HttpResponse:
    step = _get_step(pk)
    if step.version.is_frozen:
        return _frozen_redirect(request, step.version)
    form = StepForm(request.POST or None, instance=_get_step(pk))
    return _version_item_form(
        request,
        version=step.version,
        form=form,
        item=step,
        heading=_("Edit step “%(title)s”") % {"title": step.title},
        success=_("Step updated."),
        save=lambda data: services.step_update(step=step, **data),
    )


@login_required
@permission_required("plans.delete_planstep", raise_exception=True)
@require_POST
def step_delete(request: HttpRequest, pk: int) -> HttpResponse:
    step = _get_step(pk)
    if step.version.is_frozen:
        return _frozen_redirect(request, step.version)
    try:
        services.step_delete(step=step)
    except ValidationError as e:
        messages.error(request, _message_from(e))
    else:
        messages.success(request, _("Step “%(title)s” deleted.") % {"title": step.title})
    return redirect(step.version.get_absolute_url())


@login_required
@permission_required("plans.add_communicationrule", raise_exception=True)
def comm_create(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    version = _get_version(pk, number)
    if version.is_frozen:
        return _frozen_redirect(request, version)
    form = CommunicationForm(request.POST or None)
    return _version_item_form(
        request,
        version=version,
        form=form,
        heading=_("New communication rule"),
        success=_("Communication rule added."),
        save=lambda data: services.communication_create(version=version, **data),
    )


def _get_rule(pk: int) -> CommunicationRule:
    return get_object_or_404(CommunicationRule.objects.select_related("version__plan"), pk=pk)


@login_required
@permission_required("plans.change_communicationrule", raise_exception=True)
def comm_edit(request: HttpRequest, pk: int) -> HttpResponse:
    rule = _get_rule(pk)
    if rule.version.is_frozen:
        return _frozen_redirect(request, rule.version)
    form = CommunicationForm(request.POST or None, instance=_get_rule(pk))
    return _version_item_form(
        request,
        version=rule.version,
        form=form,
        item=rule,
        heading=_("Edit communication rule"),
        success=_("Communication rule updated."),
        save=lambda data: services.communication_update(rule=rule, **data),
    )


@login_required
@permission_required("plans.delete_communicationrule", raise_exception=True)
@require_POST
def comm_delete(request: HttpRequest, pk: int) -> HttpResponse:
    rule = _get_rule(pk)
    if rule.version.is_frozen:
        return _frozen_redirect(request, rule.version)
    try:
        services.communication_delete(rule=rule)
    except ValidationError as e:
        messages.error(request, _message_from(e))
    else:
        messages.success(request, _("Communication rule deleted."))
    return redirect(rule.version.get_absolute_url())


# --- Comparing two versions ----------------------------------------------------------------------


def _diff_lines(a: PlanVersion, b: PlanVersion) -> list[dict]:
    lines = difflib.unified_diff(
        services.version_text(a),
        services.version_text(b),
        fromfile=f"v{a.number}",
        tofile=f"v{b.number}",
        lineterm="",
        n=3,
    )
    rows = []
    for line in lines:
        if line.startswith(("---", "+++", "@@")):
            kind = "hdr"
        elif line.startswith("+"):
            kind = "add"
        elif line.startswith("-"):
            kind = "del"
        else:
            kind = "ctx"
        rows.append({"kind": kind, "text": line})
    return rows


def _pick(versions: dict[int, PlanVersion], raw: str | None) -> PlanVersion | None:
    try:
        return versions.get(int(raw)) if raw not in (None, "") else None
    except (TypeError, ValueError):
        return None


@login_required
@permission_required("plans.view_planversion", raise_exception=True)
def version_compare(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _get_plan(pk)
    ordered = list(plan.versions.order_by("number"))
    by_number = {v.number: v for v in ordered}
    # Default: the version before the newest against the newest (the change awaiting approval).
    default_b = ordered[-1] if ordered else None
    default_a = ordered[-2] if len(ordered) > 1 else default_b
    raw_a, raw_b = request.GET.get("a"), request.GET.get("b")
    a, b = _pick(by_number, raw_a), _pick(by_number, raw_b)
    invalid = (raw_a not in (None, "") and a is None) or (raw_b not in (None, "") and b is None)
    a, b = a or default_a, b or default_b
    diff = _diff_lines(a, b) if a and b else []
    context = {
        "plan": plan,
        "versions": ordered,
        "a": a,
        "b": b,
        "diff": diff,
        "invalid": invalid,
        "added": sum(1 for row in diff if row["kind"] == "add"),
        "removed": sum(1 for row in diff if row["kind"] == "del"),
    }
    return render(request, "plans/version_compare.html", context)
