"""Response statistics for managers: time to acknowledge and to recover, by severity, service and month."""

from __future__ import annotations

import datetime

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from erpcontinuity import charts
from incidents import services
from incidents.forms import StatsFilterForm

from ._common import duration, perm_required

METRICS = ("tta_mean", "tta_median", "ttr_mean", "ttr_median")


def _minutes(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 60, 1)


def _table(rows: list[dict]) -> list[dict]:
    """Rows with their durations written for people ("1 h 20 min")."""
    return [{**row, **{f"{m}_text": duration(row[m]) for m in METRICS}} for row in rows]


def _start_of_day(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


@perm_required("incidents.view_incident")
def stats_page(request: HttpRequest) -> HttpResponse:
    form = StatsFilterForm(request.GET or None)
    since = until = None
    include_drills = False
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        since = _start_of_day(data["since"]) if data.get("since") else None
        # "to" is inclusive: up to the start of the next day.
        until = _start_of_day(data["until"] + datetime.timedelta(days=1)) if data.get("until") else None
        include_drills = data.get("include_drills") or False
    stats = services.response_stats(since=since, until=until, include_drills=include_drills)

    by_severity = [r for r in stats["by_severity"]]
    by_service = stats["by_service"]
    by_month = stats["by_month"]
    months = [r["label"] for r in by_month]
    unit = _(" min")
    context = {
        "form": form,
        "counts": stats["counts"],
        "by_severity": _table(by_severity),
        "by_service": _table(by_service),
        "by_month": _table(by_month),
        "chart_severity": charts.columns(
            [r["label"] for r in by_severity],
            [
                charts.Series(_("Median time to acknowledge"), [_minutes(r["tta_median"]) for r in by_severity]),
                charts.Series(_("Median time to recover"), [_minutes(r["ttr_median"]) for r in by_severity]),
            ],
            title=_("Median response times by severity (minutes)"),
            unit=unit,
        ),
        "chart_service": charts.hbar(
            [(r["label"], _minutes(r["ttr_median"]) or 0) for r in by_service],
            title=_("Median time to recover by service (minutes)"),
            unit=unit,
        ),
        "chart_month": charts.lines(
            months,
            [
                charts.Series(_("Median time to acknowledge"), [_minutes(r["tta_median"]) for r in by_month]),
                charts.Series(_("Median time to recover"), [_minutes(r["ttr_median"]) for r in by_month]),
            ],
            title=_("Median response times by month (minutes)"),
            unit=unit,
        ),
        "chart_count": charts.columns(
            months,
            [charts.Series(_("Incidents opened"), [r["count"] for r in by_month])],
            title=_("Incidents opened by month"),
        ),
    }
    return render(request, "incidents/stats.html", context)
