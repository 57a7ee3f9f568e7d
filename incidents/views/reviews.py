"""The post-incident review of a resolved or closed incident, and its action items."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from incidents import selectors, services
from incidents.forms import ReviewActionForm, ReviewForm, attach_service_error
from incidents.models import Incident, PostIncidentReview

from ._common import call_service, perm_required

REVIEWABLE = (Incident.Status.RESOLVED, Incident.Status.CLOSED)


def _review_url(incident: Incident, anchor: str = "") -> str:
    return f"{incident.get_absolute_url()}review/{'#' + anchor if anchor else ''}"


def _page(request, incident, review, *, form=None, action_form=None, complete_error=None, status=200) -> HttpResponse:
    can_write = request.user.has_perm(
        "incidents.change_postincidentreview" if review else "incidents.add_postincidentreview"
    )
    if form is None:
        # A copy for the form: a refused save must not change what the page shows as stored.
        stored = PostIncidentReview.objects.get(pk=review.pk) if review else None
        form = ReviewForm(instance=stored)
    return render(
        request,
        "incidents/review.html",
        {
            "incident": incident,
            "review": review,
            "form": form,
            "action_form": action_form or ReviewActionForm(),
            "action_items": list(selectors.review_action_items(review)) if review else [],
            "reviewable": incident.status in REVIEWABLE,
            "can_write": can_write and incident.status in REVIEWABLE,
            "can_add_actions": review is not None
            and request.user.has_perm("incidents.change_postincidentreview")
            and request.user.has_perm("plans.add_actionitem"),
            "complete_error": complete_error,
        },
        status=status,
    )


@perm_required("incidents.view_postincidentreview")
def review(request: HttpRequest, pk: int) -> HttpResponse:
    incident = get_object_or_404(Incident, pk=pk)
    current = selectors.incident_review(incident)
    if request.method != "POST":
        return _page(request, incident, current)
    perm = "incidents.change_postincidentreview" if current else "incidents.add_postincidentreview"
    if not request.user.has_perm(perm):
        raise PermissionDenied
    form = ReviewForm(request.POST, instance=PostIncidentReview.objects.get(pk=current.pk) if current else None)
    if form.is_valid():
        saved = call_service(form, services.review_save, incident=incident, user=request.user, **form.cleaned_data)
        if saved:
            messages.success(request, _("The review of %(ref)s was saved.") % {"ref": incident.reference})
            return redirect(_review_url(incident))
    return _page(request, incident, current, form=form)


@perm_required("incidents.change_postincidentreview")
@require_POST
def review_complete(request: HttpRequest, pk: int) -> HttpResponse:
    incident = get_object_or_404(Incident, pk=pk)
    current = selectors.incident_review(incident)
    if current is None:
        messages.error(request, _("Write the review first."))
        return redirect(_review_url(incident))
    try:
        services.review_complete(review=current, user=request.user)
    except ValidationError as exc:
        return _page(request, incident, current, complete_error=" ".join(exc.messages))
    messages.success(request, _("The review of %(ref)s is complete.") % {"ref": incident.reference})
    return redirect(_review_url(incident))


@perm_required("incidents.change_postincidentreview")
@require_POST
def review_add_action(request: HttpRequest, pk: int) -> HttpResponse:
    if not request.user.has_perm("plans.add_actionitem"):
        raise PermissionDenied
    incident = get_object_or_404(Incident, pk=pk)
    current = selectors.incident_review(incident)
    form = ReviewActionForm(request.POST)
    if current is None:
        form.is_valid()
        form.add_error(None, _("Write and save the review before adding action items."))
    elif form.is_valid():
        try:
            item = services.review_add_action_item(review=current, user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            attach_service_error(form, exc)
        else:
            messages.success(request, _("Action item added: %(title)s") % {"title": item.title})
            return redirect(_review_url(incident, "actions"))
    return _page(request, incident, current, action_form=form)
