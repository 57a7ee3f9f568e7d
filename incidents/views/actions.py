"""What the forms of the incident page post to. Each one validates its form, calls one service, and
returns to the incident page at the right place; a refusal (an illegal move, a stale version, an
empty note) shows the incident page again with the reason, never a 500."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from incidents import services
from incidents.forms import (
    AttachPlanForm,
    ChecklistDoneForm,
    CommanderForm,
    NoteForm,
    PublicUpdateForm,
    ReopenForm,
    SeverityForm,
    TransitionForm,
)
from incidents.models import ChecklistItem, Incident

from ._common import call_service, perm_required
from .incidents import render_detail_with_error

STATUS_DONE = {
    Incident.Status.ACKNOWLEDGED: gettext_lazy("You acknowledged %(ref)s: escalation stopped."),
    Incident.Status.INVESTIGATING: gettext_lazy("%(ref)s is being investigated."),
    Incident.Status.MITIGATED: gettext_lazy("%(ref)s is mitigated."),
    Incident.Status.RESOLVED: gettext_lazy("%(ref)s is resolved. Write the post-incident review while it is fresh."),
    Incident.Status.CLOSED: gettext_lazy("%(ref)s is closed."),
}


def _back(incident: Incident, anchor: str = "") -> HttpResponse:
    return redirect(f"{incident.get_absolute_url()}{'#' + anchor if anchor else ''}")


def _act(request: HttpRequest, pk: int, form_class, slot: str, action: Callable, *, anchor: str = "", done: Callable):
    """Validate `form_class` from the POST, run `action(incident, data)`, say `done(result)`."""
    incident = get_object_or_404(Incident, pk=pk)
    form = form_class(request.POST)
    if form.is_valid():
        result = call_service(form, action, incident=incident, data=form.cleaned_data)
        if result is not None:
            messages.success(request, done(result))
            return _back(incident, anchor)
    return render_detail_with_error(request, pk, {slot: form})


def _version(data: dict):
    return data.get("expected_version")


@perm_required("incidents.change_incident")
@require_POST
def transition(request: HttpRequest, pk: int) -> HttpResponse:
    def action(*, incident, data):
        return services.incident_transition(
            incident=incident, to=data["to"], user=request.user, note=data["note"], expected_version=_version(data)
        )

    return _act(
        request, pk, TransitionForm, "transition_form", action,
        done=lambda i: (STATUS_DONE.get(i.status, _("%(ref)s was updated.")) % {"ref": i.reference}),
    )  # fmt: skip


@perm_required("incidents.change_incident")
@require_POST
def reopen(request: HttpRequest, pk: int) -> HttpResponse:
    def action(*, incident, data):
        return services.incident_reopen(
            incident=incident, user=request.user, reason=data["reason"], expected_version=_version(data)
        )

    return _act(
        request, pk, ReopenForm, "reopen_form", action,
        done=lambda i: _("%(ref)s is reopened and under investigation again.") % {"ref": i.reference},
    )  # fmt: skip


@perm_required("incidents.change_incident")
@require_POST
def change_severity(request: HttpRequest, pk: int) -> HttpResponse:
    def action(*, incident, data):
        return services.incident_change_severity(
            incident=incident, user=request.user, severity=data["severity"], expected_version=_version(data)
        )

    return _act(
        request, pk, SeverityForm, "severity_form", action,
        done=lambda i: _("%(ref)s is now %(sev)s.") % {"ref": i.reference, "sev": i.severity.upper()},
    )  # fmt: skip


@perm_required("incidents.change_incident")
@require_POST
def assign_commander(request: HttpRequest, pk: int) -> HttpResponse:
    def action(*, incident, data):
        return services.incident_assign_commander(
            incident=incident, user=request.user, commander=data["commander"], expected_version=_version(data)
        )

    def done(i):
        if i.commander is None:
            return _("%(ref)s has no commander now.") % {"ref": i.reference}
        name = i.commander.get_full_name() or i.commander.get_username()
        return _("%(name)s commands %(ref)s.") % {"name": name, "ref": i.reference}

    return _act(request, pk, CommanderForm, "commander_form", action, done=done)


@perm_required("incidents.add_timelineentry")
@require_POST
def add_note(request: HttpRequest, pk: int) -> HttpResponse:
    def action(*, incident, data):
        return services.incident_add_note(incident=incident, user=request.user, message=data["message"])

    return _act(request, pk, NoteForm, "note_form", action, anchor="timeline", done=lambda e: _("Note added."))


@perm_required("incidents.change_incident")
@require_POST
def publish_update(request: HttpRequest, pk: int) -> HttpResponse:
    def action(*, incident, data):
        return services.incident_publish_update(incident=incident, user=request.user, message=data["message"])

    return _act(
        request, pk, PublicUpdateForm, "public_form", action, anchor="public-update",
        done=lambda i: _("The update is on the status page."),
    )  # fmt: skip


@perm_required("incidents.change_incident")
@require_POST
def attach_plan(request: HttpRequest, pk: int) -> HttpResponse:
    def action(*, incident, data):
        return services.incident_attach_plan(incident=incident, user=request.user, plan=data["plan"])

    return _act(
        request, pk, AttachPlanForm, "attach_form", action, anchor="checklist",
        done=lambda items: _("Plan attached: %(n)d steps to follow.") % {"n": len(items)},
    )  # fmt: skip


def _checklist_action(request: HttpRequest, pk: int, item_pk: int, action: Callable, done: str) -> HttpResponse:
    item = get_object_or_404(ChecklistItem.objects.select_related("incident"), pk=item_pk, incident_id=pk)
    form = ChecklistDoneForm(request.POST)
    if form.is_valid():
        result = call_service(form, action, item=item, data=form.cleaned_data)
        if result is not None:
            messages.success(request, done % {"title": result.title})
            return _back(item.incident, f"item-{item.pk}")
    return render_detail_with_error(request, pk, {"checklist_form": form})


@perm_required("incidents.change_checklistitem")
@require_POST
def checklist_done(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    def action(*, item, data):
        return services.checklist_item_done(item=item, user=request.user, note=data["note"])

    return _checklist_action(request, pk, item_pk, action, _("Done: %(title)s"))


@perm_required("incidents.change_checklistitem")
@require_POST
def checklist_undo(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    def action(*, item, data):
        return services.checklist_item_undo(item=item, user=request.user)

    return _checklist_action(request, pk, item_pk, action, _("Marked not done: %(title)s"))
