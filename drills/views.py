"""Browser pages of drills/.

Who sees what (erpcontinuity/roles.py DRILL_PERMISSIONS):
- managers plan drills and scenarios (add/change), read every drill and its report, and may run any;
- IT operations read every drill and run the ones they facilitate (run_drill);
- business users see only the drills they take part in (a participant role they hold), read-only.
A drill someone may not see answers 404 (its existence is not their business); one they see but
may not run answers 403 on every run action. Every write goes through drills/services.py.
"""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from . import feeds, selectors, services
from .forms import (
    ActionForm,
    CancelForm,
    CompleteForm,
    DrillForm,
    FindingForm,
    InjectLogForm,
    RestoredForm,
    RiskChangeForm,
    ScenarioForm,
    StepFinishForm,
    attach_errors,
)
from .models import Drill, FeedToken, Finding, Scenario

# --- Access helpers -------------------------------------------------------------------------------


def _visible_drill(request: HttpRequest, pk: int) -> Drill:
    drill = selectors.drill_for_page(pk).first()
    if drill is None or not services.can_view(request.user, drill):
        raise Http404
    return drill


def _runnable_drill(request: HttpRequest, pk: int) -> Drill:
    drill = _visible_drill(request, pk)
    if not services.can_run(request.user, drill):
        raise PermissionDenied(_("Only the drill's facilitator or a manager can do this."))
    return drill


def _errors(request: HttpRequest, error: ValidationError) -> None:
    for message in error.messages:
        messages.error(request, message)


def _form_errors(request: HttpRequest, form) -> None:
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        for error in errors:
            messages.error(request, f"{label}: {error}" if label else error)


def _back(request: HttpRequest, drill: Drill, default: str = "drills:drill-run") -> HttpResponse:
    target = request.POST.get("next", "")
    if target.startswith("/drills/"):
        return redirect(target)
    return redirect(reverse(default, args=[drill.pk]))


def _act(request: HttpRequest, drill: Drill, call, success: str = "") -> HttpResponse:
    try:
        call()
    except ValidationError as e:
        _errors(request, e)
    else:
        if success:
            messages.success(request, success)
    return _back(request, drill)


# --- Overview, list, calendar ---------------------------------------------------------------------


@login_required
@permission_required("drills.view_drill", raise_exception=True)
def drill_list(request: HttpRequest) -> HttpResponse:
    context = selectors.overview(request.user)
    context["upcoming"] = [d for d in context["drills"] if d.is_open]
    context["past"] = [d for d in reversed(context["drills"]) if not d.is_open]
    return render(request, "drills/drill_list.html", context)


@login_required
@permission_required("drills.view_drill", raise_exception=True)
def drill_calendar(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    try:
        year, month = (int(x) for x in request.GET.get("month", "").split("-"))
        first = datetime.date(year, month, 1)
    except ValueError:
        first = today.replace(day=1)
    prev_month = (first - datetime.timedelta(days=1)).replace(day=1)
    next_month = (first + datetime.timedelta(days=32)).replace(day=1)
    return render(
        request,
        "drills/calendar.html",
        {
            "weeks": selectors.month_grid(request.user, first.year, first.month),
            "first": first,
            "prev_month": prev_month,
            "next_month": next_month,
            "this_month": today.replace(day=1),
            "today": today,
        },
    )


@login_required
@permission_required("drills.view_drill", raise_exception=True)
def feed_settings(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        services.feed_token_revoke(user=request.user)
        messages.success(request, _("A new calendar link was made; the old one no longer works."))
        return redirect("drills:feed-settings")
    token = services.feed_token_for(user=request.user)
    url = request.build_absolute_uri(reverse("drills:feed", args=[token.token]))
    return render(
        request, "drills/feed_settings.html", {"feed_url": url, "webcal_url": url.replace("http", "webcal", 1)}
    )


def feed(request: HttpRequest, token: str) -> HttpResponse:
    """The iCalendar feed: no session (calendar clients cannot log in); the secret is the token."""
    row = FeedToken.objects.select_related("user").filter(token=token, user__is_active=True).first()
    if row is None or not row.user.has_perm("drills.view_drill"):
        raise Http404
    body = feeds.calendar_for(row.user, base_url=request.build_absolute_uri("/")[:-1])
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="drills.ics"'
    return response


# --- Scenarios ------------------------------------------------------------------------------------


@login_required
@permission_required("drills.view_scenario", raise_exception=True)
def scenario_list(request: HttpRequest) -> HttpResponse:
    scenarios = Scenario.objects.prefetch_related("injects").order_by("title")
    return render(request, "drills/scenario_list.html", {"scenarios": scenarios})


@login_required
@permission_required("drills.view_scenario", raise_exception=True)
def scenario_detail(request: HttpRequest, pk: int) -> HttpResponse:
    scenario = get_object_or_404(Scenario, pk=pk)
    return render(request, "drills/scenario_detail.html", {"scenario": scenario, "injects": scenario.injects.all()})


def _save_form(request: HttpRequest, form, save, title: str, obj, success: str) -> HttpResponse:
    """The one shape of the planning forms: valid input goes to a service, whose refusals land
    on the form's fields."""
    if request.method == "POST" and form.is_valid():
        try:
            saved = save(dict(form.cleaned_data))
        except ValidationError as e:
            attach_errors(form, e)
        else:
            messages.success(request, success)
            return redirect(saved)
    return render(request, "drills/form.html", {"form": form, "title": title, "object": obj})


def _scenario_form(request: HttpRequest, scenario: Scenario | None) -> HttpResponse:
    def save(data):
        if scenario is None:
            return services.scenario_create(**data)
        return services.scenario_update(scenario=scenario, **data)

    form = ScenarioForm(request.POST or None, instance=scenario)
    return _save_form(request, form, save, _("scenario"), scenario, _("Scenario saved."))


@login_required
@permission_required("drills.add_scenario", raise_exception=True)
def scenario_create(request: HttpRequest) -> HttpResponse:
    return _scenario_form(request, None)


@login_required
@permission_required("drills.change_scenario", raise_exception=True)
def scenario_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _scenario_form(request, get_object_or_404(Scenario, pk=pk))


# --- Drills: planning -----------------------------------------------------------------------------


def _drill_form(request: HttpRequest, drill: Drill | None) -> HttpResponse:
    def save(data):
        if drill is None:
            return services.drill_create(**data)
        return services.drill_update(drill=drill, user=request.user, **data)

    initial = {"facilitator": request.user.pk} if drill is None else {}
    if drill is None and request.GET.get("scenario"):
        initial["scenario"] = request.GET["scenario"]
    if drill is None and (day := parse_date(request.GET.get("date", "") or "")):
        # From a day of the calendar: that day, in the morning (a bad date is simply ignored).
        initial["scheduled_start"] = datetime.datetime.combine(day, datetime.time(9, 30))
    form = DrillForm(request.POST or None, instance=drill, initial=initial)
    return _save_form(request, form, save, _("drill"), drill, _("Drill saved. It is on the calendar."))


@login_required
@permission_required("drills.add_drill", raise_exception=True)
def drill_create(request: HttpRequest) -> HttpResponse:
    return _drill_form(request, None)


@login_required
@permission_required("drills.change_drill", raise_exception=True)
def drill_edit(request: HttpRequest, pk: int) -> HttpResponse:
    drill = _visible_drill(request, pk)
    if drill.status != Drill.Status.PLANNED:
        messages.error(request, _("Only a planned drill can be changed."))
        return redirect(drill)
    return _drill_form(request, drill)


@login_required
@permission_required("drills.view_drill", raise_exception=True)
def drill_detail(request: HttpRequest, pk: int) -> HttpResponse:
    drill = _visible_drill(request, pk)
    roles = selectors.participant_roles(drill)
    return render(
        request,
        "drills/drill_detail.html",
        {
            "drill": drill,
            "roles": roles,
            "results": selectors.service_results(drill),
            "findings": selectors.findings(drill),
            "readiness": selectors.readiness_rows(drill, roles),
            "can_run": services.can_run(request.user, drill),
            "complete_form": CompleteForm(),
            "cancel_form": CancelForm(),
            "finding_form": FindingForm(),
            "action_form": ActionForm(initial={"due_date": timezone.localdate() + datetime.timedelta(days=30)}),
            "risk_form": RiskChangeForm(),
        },
    )


@login_required
@require_POST
def drill_transition(request: HttpRequest, pk: int, to: str) -> HttpResponse:
    drill = _runnable_drill(request, pk)
    kwargs: dict = {}
    if to == Drill.Status.COMPLETED:
        form = CompleteForm(request.POST)
        if not form.is_valid():
            _form_errors(request, form)
            return _back(request, drill, "drills:drill-detail")
        kwargs = dict(form.cleaned_data)
    elif to == Drill.Status.CANCELLED:
        kwargs["reason"] = request.POST.get("reason", "")
    elif to == Drill.Status.REPORTED:
        kwargs["summary"] = request.POST.get("summary", "")
    try:
        drill = services.drill_transition(drill=drill, to=to, user=request.user, **kwargs)
    except ValidationError as e:
        _errors(request, e)
        return redirect(drill)
    messages.success(request, _("The drill is now %(status)s.") % {"status": drill.get_status_display().lower()})
    if to == Drill.Status.RUNNING:
        return redirect("drills:drill-run", pk=drill.pk)
    if to == Drill.Status.REPORTED:
        return redirect("drills:drill-report", pk=drill.pk)
    return redirect(drill)


# --- Drills: the live run page --------------------------------------------------------------------


@login_required
def drill_run(request: HttpRequest, pk: int) -> HttpResponse:
    drill = _runnable_drill(request, pk)
    logged = set(drill.inject_logs.exclude(inject=None).values_list("inject_id", flat=True))
    return render(
        request,
        "drills/run.html",
        {
            "drill": drill,
            "step_rows": selectors.step_rows(drill),
            "results": selectors.service_results(drill),
            "injects": [(i, i.pk in logged) for i in drill.scenario.injects.all()],
            "inject_logs": list(drill.inject_logs.all()),
            "findings": selectors.findings(drill),
            "outcomes": StepFinishForm.base_fields["outcome"].choices,
            "finding_form": FindingForm(),
            "complete_form": CompleteForm(),
        },
    )


@login_required
@require_POST
def run_step(request: HttpRequest, pk: int, step_id: int, action: str) -> HttpResponse:
    if action not in ("start", "finish"):
        raise Http404
    drill = _runnable_drill(request, pk)
    if action == "start":
        return _act(request, drill, lambda: services.step_start(drill=drill, step_id=step_id, user=request.user))
    form = StepFinishForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose an outcome for the step."))
        return _back(request, drill)
    return _act(
        request,
        drill,
        lambda: services.step_finish(drill=drill, step_id=step_id, user=request.user, **form.cleaned_data),
    )


@login_required
@require_POST
def run_inject(request: HttpRequest, pk: int) -> HttpResponse:
    drill = _runnable_drill(request, pk)
    form = InjectLogForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say what was announced or done."))
        return _back(request, drill)
    data = form.cleaned_data
    return _act(
        request,
        drill,
        lambda: services.inject_log(drill=drill, inject_id=data["inject"], text=data["text"], user=request.user),
    )


@login_required
@require_POST
def run_service(request: HttpRequest, pk: int, service_id: int, action: str) -> HttpResponse:
    if action not in ("disrupted", "restored"):
        raise Http404
    drill = _runnable_drill(request, pk)
    if action == "disrupted":
        return _act(
            request, drill, lambda: services.service_disrupted(drill=drill, service_id=service_id, user=request.user)
        )
    form = RestoredForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the data lost in minutes (0 if none)."))
        return _back(request, drill)
    return _act(
        request,
        drill,
        lambda: services.service_restored(
            drill=drill,
            service_id=service_id,
            user=request.user,
            data_loss_minutes=form.cleaned_data["data_loss_minutes"],
        ),
    )


@login_required
@require_POST
def run_alert(request: HttpRequest, pk: int) -> HttpResponse:
    drill = _runnable_drill(request, pk)
    return _act(
        request,
        drill,
        lambda: services.drill_raise_alert(drill=drill, user=request.user),
        _("Drill alert raised. The participants were paged; the time to acknowledge is being measured."),
    )


# --- Findings -------------------------------------------------------------------------------------


@login_required
@require_POST
def finding_create(request: HttpRequest, pk: int) -> HttpResponse:
    drill = _runnable_drill(request, pk)
    form = FindingForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return _back(request, drill)
    return _act(
        request, drill, lambda: services.finding_create(drill=drill, user=request.user, **form.cleaned_data),
        _("Finding recorded."),
    )  # fmt: skip


def _finding(request: HttpRequest, pk: int) -> Finding:
    finding = get_object_or_404(Finding.objects.select_related("drill"), pk=pk)
    _runnable_drill(request, finding.drill_id)
    return finding


@login_required
@require_POST
def finding_action(request: HttpRequest, pk: int) -> HttpResponse:
    finding = _finding(request, pk)
    form = ActionForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return _back(request, finding.drill, "drills:drill-detail")
    return _act(
        request, finding.drill, lambda: services.finding_add_action(finding=finding, user=request.user, **form.cleaned_data),
        _("Action item created."),
    )  # fmt: skip


@login_required
@require_POST
def finding_plan_change(request: HttpRequest, pk: int) -> HttpResponse:
    finding = _finding(request, pk)
    try:
        draft = services.finding_propose_plan_change(finding=finding, user=request.user)
    except ValidationError as e:
        _errors(request, e)
        return redirect(finding.drill)
    messages.success(request, _("Draft version %(n)d of the plan is open for the change.") % {"n": draft.number})
    return redirect(draft)


@login_required
@require_POST
def finding_risk_change(request: HttpRequest, pk: int) -> HttpResponse:
    finding = _finding(request, pk)
    if request.POST.get("apply"):
        return _act(
            request, finding.drill, lambda: services.finding_apply_risk_change(finding=finding, user=request.user),
            _("The risk's residual score is updated."),
        )  # fmt: skip
    form = RiskChangeForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return _back(request, finding.drill, "drills:drill-detail")
    return _act(
        request, finding.drill,
        lambda: services.finding_propose_risk_change(finding=finding, user=request.user, **form.cleaned_data),
        _("Risk change proposed."),
    )  # fmt: skip


# --- Report ---------------------------------------------------------------------------------------


@login_required
@permission_required("drills.view_drill", raise_exception=True)
def drill_report(request: HttpRequest, pk: int) -> HttpResponse:
    drill = _visible_drill(request, pk)
    return render(request, "drills/report.html", selectors.report_context(drill))


@login_required
@permission_required("drills.view_drill", raise_exception=True)
def drill_report_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    from weasyprint import HTML

    drill = _visible_drill(request, pk)
    context = selectors.report_context(drill)
    html = render_to_string("drills/report_pdf.html", context, request=request)
    pdf = HTML(string=html, base_url=request.build_absolute_uri("/")).write_pdf()
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="drill-{drill.pk}-report.pdf"'
    return response
