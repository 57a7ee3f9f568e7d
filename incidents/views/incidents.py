"""The incident list, opening an incident, editing it, and the incident page.

The incident page is read by people under stress: everything at a glance, and only the legal
next steps as buttons. Its forms post to the small action views in actions.py."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from incidents import selectors, services
from incidents.forms import (
    CommanderForm,
    IncidentEditForm,
    IncidentFilterForm,
    IncidentOpenForm,
    NoteForm,
    PublicUpdateForm,
    ReopenForm,
    SeverityForm,
    TransitionForm,
)
from incidents.models import ChecklistItem, Incident
from plans.models import PHASE_ORDER, Phase

from ._common import KeyField, call_service, duration, keyset_page, perm_required, query_with

# Keyset orders of the list: each ends with the primary key so the order is total.
SORT_KEYS = {
    "newest": (KeyField("opened_at", True, "datetime"), KeyField("id", True)),
    "oldest": (KeyField("opened_at", False, "datetime"), KeyField("id", False)),
    "severity": (KeyField("severity", False, "str"), KeyField("opened_at", True, "datetime"), KeyField("id", True)),
}


@perm_required("incidents.view_incident")
def incident_list(request: HttpRequest) -> HttpResponse:
    form = IncidentFilterForm(request.GET or None)
    if form.is_bound:
        form.is_valid()  # invalid filters are dropped and shown with their error; valid ones apply
    filters = form.selector_filters() if form.is_bound else {}
    sort = form.sort_value if form.is_bound else "newest"
    page = keyset_page(selectors.incident_list(filters=filters), SORT_KEYS[sort], request.GET.get("after"))
    return render(
        request,
        "incidents/incident_list.html",
        {
            "form": form,
            "page": page,
            "filtered": bool(filters),
            "next_query": query_with(request, after=page.next_cursor) if page.has_next else "",
            "first_query": query_with(request, after=None),
            "now": timezone.now(),
        },
    )


@perm_required("incidents.add_incident")
def incident_create(request: HttpRequest) -> HttpResponse:
    form = IncidentOpenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        incident = call_service(
            form,
            services.incident_open,
            title=data["title"],
            severity=data["severity"],
            user=request.user,
            description=data["description"],
            services=data["services"],
            business_impact=data["business_impact"],
            commander=data["commander"],
            detected_at=data["detected_at"],
        )
        if incident:
            messages.success(
                request, _("%(ref)s is open. Acknowledge it when someone is on it.") % {"ref": incident.reference}
            )
            return redirect(incident)
    return render(request, "incidents/incident_form.html", {"form": form})


def _get_incident(pk: int) -> Incident:
    try:
        return selectors.incident_detail(pk=pk)
    except Incident.DoesNotExist:
        raise Http404(_("No such incident."))


@perm_required("incidents.change_incident")
def incident_edit(request: HttpRequest, pk: int) -> HttpResponse:
    incident = _get_incident(pk)
    form = IncidentEditForm.for_incident(incident, request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        saved = call_service(form, services.incident_update, incident=incident, user=request.user, **data)
        if saved:
            messages.success(request, _("%(ref)s was saved.") % {"ref": saved.reference})
            return redirect(saved)
    return render(request, "incidents/incident_edit.html", {"form": form, "incident": incident})


# --- The incident page -----------------------------------------------------------------------------

# The button of each legal status change: label, access key.
TRANSITION_BUTTONS = {
    Incident.Status.ACKNOWLEDGED: (gettext_lazy("Acknowledge"), "k"),
    Incident.Status.INVESTIGATING: (gettext_lazy("Start investigating"), None),
    Incident.Status.MITIGATED: (gettext_lazy("Mitigated"), None),
    Incident.Status.RESOLVED: (gettext_lazy("Resolve"), None),
    Incident.Status.CLOSED: (gettext_lazy("Close"), None),
}


# A symbol per kind of timeline entry, so the eye finds status changes and notes quickly.
KIND_ICONS = {
    "opened": "⚑", "status": "➜", "note": "✎", "assignment": "☺", "severity": "⚠", "alert_attached": "⚡",
    "alert_resolved": "✓", "notification": "✉", "plan_attached": "☰", "plan_step": "☑", "escalation": "⇧",
    "edit": "✐", "public_update": "☎", "review": "✍",
}  # fmt: skip


def _checklist_by_phase(items: list[ChecklistItem]) -> list[dict]:
    phases: dict[str, list[ChecklistItem]] = {}
    for item in items:
        phases.setdefault(item.phase, []).append(item)
    return [
        {
            "value": phase,
            "label": Phase(phase).label if phase in Phase.values else phase,
            "items": phase_items,
            "done": sum(1 for i in phase_items if i.is_done),
        }
        for phase, phase_items in sorted(phases.items(), key=lambda kv: PHASE_ORDER.get(kv[0], 99))
    ]


def detail_context(request: HttpRequest, incident: Incident, *, failed: dict | None = None) -> dict:
    """Everything the incident page shows, in a fixed number of queries whatever the length of
    the timeline or the number of alerts. `failed` holds a bound form that a service refused,
    shown with its errors in its place (its version refreshed: the page shows the incident as it is now)."""
    now = timezone.now()
    version = incident.version
    initial = {"expected_version": version}
    forms = {
        "transition_form": TransitionForm(initial=initial),
        "reopen_form": ReopenForm(initial=initial),
        "severity_form": SeverityForm(initial={**initial, "severity": incident.severity}),
        "commander_form": CommanderForm(initial={**initial, "commander": incident.commander_id}),
        "note_form": NoteForm(),
        "public_form": PublicUpdateForm(),
    }
    errors: list[str] = []
    for name, form in (failed or {}).items():
        if "expected_version" in form.fields:
            form.data = form.data.copy()
            form.data["expected_version"] = str(version)
        forms[name] = form
        # Every reason at the top of the page, where the eye lands after the reload.
        for field, field_errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else None
            errors.extend(f"{label}: {e}" if label else str(e) for e in field_errors)

    checklist = list(incident.checklist.all())
    attached_plan_ids = set(
        ChecklistItem.objects.filter(incident=incident)
        .order_by()
        .values_list("plan_version__plan_id", flat=True)
        .distinct()
    )
    # Business services hit by this incident, directly or through a dependency, with their state.
    states = services.service_states()
    state_by_service = {row["service"].pk: row["state"] for row in states}
    named = {s.pk for s in incident.services.all()}
    # Business services hit through a dependency (the database is down: sales is down too).
    hit = [
        row for row in states if row["service"].pk not in named and any(i.pk == incident.pk for i in row["incidents"])
    ]
    affected = [{"service": s, "state": state_by_service.get(s.pk)} for s in incident.services.all()]

    transitions = [
        {"to": to, "label": TRANSITION_BUTTONS[to][0], "accesskey": TRANSITION_BUTTONS[to][1]}
        for to in incident.allowed_transitions
        if to in TRANSITION_BUTTONS
    ]
    alerts = list(incident.alerts.all())
    return {
        "incident": incident,
        **forms,
        "action_errors": errors,
        "transitions": transitions,
        "can_reopen": "reopen" in incident.allowed_transitions,
        "open_for": duration((incident.resolved_at or now) - incident.opened_at),
        "tta": duration(incident.time_to_acknowledge) if incident.acknowledged_at else None,
        "waiting_for": duration(now - incident.opened_at) if not incident.acknowledged_at else None,
        "ttr": duration(incident.time_to_recover) if incident.resolved_at else None,
        "affected": affected,
        "hit": hit,
        "proposed_plans": [p for p in selectors.propose_plans(incident=incident) if p.pk not in attached_plan_ids],
        "attached_plan_ids": attached_plan_ids,
        "checklist_phases": _checklist_by_phase(checklist),
        "checklist_total": len(checklist),
        "checklist_done": sum(1 for i in checklist if i.is_done),
        "fallbacks": selectors.fallbacks_for_incident(incident=incident),
        "alerts": alerts[:50],
        "alert_count": len(alerts),
        # Newest first: under stress the latest news matters most. The selector reads it oldest first.
        "timeline": [{"entry": e, "icon": KIND_ICONS.get(e.kind, "•")} for e in reversed(incident.timeline.all())],
        "review": selectors.incident_review(incident),
        "now": now,
    }


@perm_required("incidents.view_incident")
def incident_detail(request: HttpRequest, pk: int) -> HttpResponse:
    incident = _get_incident(pk)
    return render(request, "incidents/incident_detail.html", detail_context(request, incident))


def render_detail_with_error(request: HttpRequest, pk: int, failed: dict) -> HttpResponse:
    """The incident page again, as it is now, with the refused form and its reason."""
    incident = _get_incident(pk)
    return render(request, "incidents/incident_detail.html", detail_context(request, incident, failed=failed))
