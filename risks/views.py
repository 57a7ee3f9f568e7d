"""Browser pages of the risk register. Thin: parse with a form or the FilterSet, call a service, render."""

from __future__ import annotations

import csv

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from erpcontinuity.csvsafe import csv_text

from . import selectors, services
from .filters import RiskFilter
from .forms import RiskForm, impact_label, likelihood_label
from .models import Level, Risk, level_for_score

PAGE_SIZE = 50

# (sort key of RiskFilter, column label); the first click sorts the "worst first" way.
SORTABLE = {"score": "-score", "residual": "-residual", "next_review": "next_review", "title": "title"}


def _filtered(request: HttpRequest) -> RiskFilter:
    return RiskFilter(request.GET or None, queryset=selectors.risk_list(), request=request)


def _sort_links(current: str) -> dict[str, dict]:
    """For each sortable column: the value its header link sets, and the current direction if sorted by it."""
    links = {}
    for key, first in SORTABLE.items():
        if current == key:
            links[key] = {"value": f"-{key}", "direction": "asc"}
        elif current == f"-{key}":
            links[key] = {"value": key, "direction": "desc"}
        else:
            links[key] = {"value": first, "direction": ""}
    return links


def _position_grid(risk: Risk) -> list[dict]:
    """A 5×5 grid (likelihood 5 at the top) marking the inherent and residual positions of one risk."""
    rows = []
    for likelihood in range(5, 0, -1):
        cells = [
            {
                "likelihood": likelihood,
                "impact": impact,
                "level": level_for_score(likelihood * impact),
                "inherent": (likelihood, impact) == (risk.likelihood, risk.impact),
                "residual": (likelihood, impact) == (risk.residual_likelihood, risk.residual_impact),
            }
            for impact in range(1, 6)
        ]
        rows.append({"likelihood": likelihood, "cells": cells})
    return rows


@login_required
@permission_required("risks.view_risk", raise_exception=True)
def risk_list(request: HttpRequest) -> HttpResponse:
    filterset = _filtered(request)
    risks = filterset.qs
    page = Paginator(risks, PAGE_SIZE).get_page(request.GET.get("page"))
    data = filterset.form.cleaned_data if filterset.is_bound else {}
    cell = {key: data.get(key) for key in ("likelihood", "impact", "residual_likelihood", "residual_impact")}
    context = {
        "filter": filterset,
        "page": page,
        "total": page.paginator.count,
        "heat_inherent": selectors.heat_map(risks),
        "heat_residual": selectors.heat_map(risks, residual=True),
        "cell": {k: v for k, v in cell.items() if v},
        "sort_links": _sort_links(request.GET.get("sort", "")),
        "filtered": any(v for k, v in data.items() if k != "sort") if data else False,
    }
    return render(request, "risks/risk_list.html", context)


@login_required
@permission_required("risks.view_risk", raise_exception=True)
def heatmap(request: HttpRequest) -> HttpResponse:
    residual = request.GET.get("view") == "residual"
    risks = Risk.objects.all()
    levels = selectors.level_counts(risks)
    total = sum(levels.values())
    per_category = dict(risks.order_by().values_list("category").annotate(n=Count("id")))
    categories = [
        {"value": value, "label": label, "count": per_category.get(value, 0)} for value, label in Risk.Category.choices
    ]
    widest = max([c["count"] for c in categories] + [1])

    def width(count: int, of: int) -> int:
        # A non-empty row keeps a visible sliver of bar; an empty row has none.
        return max(2, round(100 * count / of)) if count else 0

    context = {
        "heat_map": selectors.heat_map(risks, residual=residual),
        "residual": residual,
        "total": total,
        "levels": [
            {"value": value, "label": label, "count": levels[value], "width": width(levels[value], max(total, 1))}
            for value, label in reversed(Level.choices)
        ],
        "categories": [{**c, "width": width(c["count"], widest)} for c in categories],
        "today": timezone.localdate(),
    }
    return render(request, "risks/heatmap.html", context)


@login_required
@permission_required("risks.view_risk", raise_exception=True)
def risk_export(request: HttpRequest) -> HttpResponse:
    risks = _filtered(request).qs.prefetch_related("plans")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="risks-{timezone.localdate():%Y-%m-%d}.csv"'
    # The byte order mark tells Excel the file is UTF-8, so Chinese text opens correctly.
    response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerow(
        [
            _("ID"),
            _("Title"),
            _("Category"),
            _("Services"),
            _("Likelihood"),
            _("Impact"),
            _("Inherent score"),
            _("Inherent level"),
            _("Residual likelihood"),
            _("Residual impact"),
            _("Residual score"),
            _("Level"),
            _("Owner"),
            _("Treatment"),
            _("Treatment plan"),
            _("Controls"),
            _("Answering plans"),
            _("Last reviewed"),
            _("Next review"),
            _("Review overdue"),
            _("Description"),
        ]
    )
    for risk in risks:
        writer.writerow(
            [
                risk.pk,
                csv_text(risk.title),
                risk.get_category_display(),
                csv_text("; ".join(s.name for s in risk.services.all())),
                risk.likelihood,
                risk.impact,
                risk.inherent_score,
                risk.get_inherent_level_display(),
                risk.residual_likelihood,
                risk.residual_impact,
                risk.residual_score,
                risk.get_level_display(),
                csv_text(risk.owner.get_full_name() or risk.owner.username),
                risk.get_treatment_display(),
                csv_text(risk.treatment_plan),
                csv_text(risk.controls),
                csv_text("; ".join(p.title for p in risk.plans.all())),
                risk.last_reviewed_on.isoformat() if risk.last_reviewed_on else "",
                risk.next_review_date.isoformat() if risk.next_review_date else "",
                _("yes") if risk.review_overdue else _("no"),
                csv_text(risk.description),
            ]
        )
    return response


@login_required
@permission_required("risks.view_risk", raise_exception=True)
def risk_detail(request: HttpRequest, pk: int) -> HttpResponse:
    risk = get_object_or_404(Risk.objects.select_related("owner").prefetch_related("services", "plans"), pk=pk)
    context = {
        "risk": risk,
        "grid": _position_grid(risk),
        "likelihood_label": likelihood_label(risk.likelihood),
        "impact_label": impact_label(risk.impact),
        "residual_likelihood_label": likelihood_label(risk.residual_likelihood),
        "residual_impact_label": impact_label(risk.residual_impact),
    }
    if request.user.has_perm("auditlog.view_logentry"):
        from auditlog.models import LogEntry

        context["history"] = LogEntry.objects.get_for_object(risk).select_related("actor").order_by("-timestamp")[:10]
    return render(request, "risks/risk_detail.html", context)


def _save(form: RiskForm, risk: Risk | None) -> Risk | None:
    """Hand a valid form to the service; a refusal becomes a form error instead of a 500."""
    data = dict(form.cleaned_data)
    try:
        if risk is None:
            return services.risk_create(**data)
        return services.risk_update(risk=risk, **data)
    except ValidationError as error:
        form.add_error(None, error)
        return None


@login_required
@permission_required("risks.add_risk", raise_exception=True)
def risk_create(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = RiskForm(request.POST)
        if form.is_valid() and (risk := _save(form, None)):
            messages.success(request, _("Risk “%(title)s” added.") % {"title": risk.title})
            return redirect(risk)
    else:
        initial = {"owner": request.user.pk} if request.user.is_active else {}
        form = RiskForm(initial=initial)
    return render(request, "risks/risk_form.html", {"form": form, "risk": None})


@login_required
@permission_required("risks.change_risk", raise_exception=True)
def risk_edit(request: HttpRequest, pk: int) -> HttpResponse:
    risk = get_object_or_404(Risk, pk=pk)
    # The form writes the input onto its instance while validating; the page keeps the stored title.
    title = risk.title
    if request.method == "POST":
        form = RiskForm(request.POST, instance=risk)
        if form.is_valid() and (saved := _save(form, risk)):
            messages.success(request, _("Risk “%(title)s” saved.") % {"title": saved.title})
            return redirect(saved)
    else:
        form = RiskForm(instance=risk)
    return render(request, "risks/risk_form.html", {"form": form, "risk": risk, "title": title})


@login_required
@permission_required("risks.delete_risk", raise_exception=True)
def risk_delete(request: HttpRequest, pk: int) -> HttpResponse:
    risk = get_object_or_404(Risk.objects.select_related("owner"), pk=pk)
    if request.method == "POST":
        title = risk.title
        services.risk_delete(risk=risk)
        messages.success(request, _("Risk “%(title)s” deleted.") % {"title": title})
        return redirect("risks:risk-list")
    return render(request, "risks/risk_confirm_delete.html", {"risk": risk})


@login_required
@permission_required("risks.change_risk", raise_exception=True)
@require_POST
def risk_review(request: HttpRequest, pk: int) -> HttpResponse:
    risk = get_object_or_404(Risk, pk=pk)
    risk = services.risk_mark_reviewed(risk=risk)
    messages.success(
        request,
        _("Review recorded. Next review: %(date)s.") % {"date": risk.next_review_date.isoformat()},
    )
    return redirect(risk)
