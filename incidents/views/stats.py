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


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 3600, 1)


def _short(label: str, size: int = 21) -> str:
    """Chart labels have a fixed width; the tables below carry the full names."""
    return label if len(label) <= size else label[: size - 1] + "…"


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

    by_severity = stats["by_severity"]
    by_service = stats["by_service"]
    by_month = stats["by_month"]
    severities = [r["label"] for r in by_severity]
    months = [r["label"] for r in by_month]
    # Acknowledging takes minutes and recovering hours: each gets its own charts and unit.
    metrics = [
        ("tta", _("Time to acknowledge"), _minutes, _(" min")),
        ("ttr", _("Time to recover"), _hours, _(" h")),
    ]
    chart_rows = []
    for key, title, scale, unit in metrics:
        mean, median = _("Mean"), _("Median")
        chart_rows.append(
            {
                "title": title,
                "severity": charts.columns(
                    severities,
                    [
                        charts.Series(mean, [scale(r[f"{key}_mean"]) for r in by_severity]),
                        charts.Series(median, [scale(r[f"{key}_median"]) for r in by_severity]),
                    ],
                    title=_("%(metric)s by severity") % {"metric": title},
                ),
                "month": charts.lines(
                    months,
                    [
                        charts.Series(mean, [scale(r[f"{key}_mean"]) for r in by_month]),
                        charts.Series(median, [scale(r[f"{key}_median"]) for r in by_month]),
                    ],
                    title=_("%(metric)s by month") % {"metric": title},
                ),
                "service": charts.hbar(
                    [(_short(r["label"]), scale(r[f"{key}_median"]) or 0) for r in by_service],
                    title=_("Median %(metric)s by service") % {"metric": title.lower()},
                    unit=unit,
                ),
            }
        )
    context = {
        "form": form,
        "counts": stats["counts"],
        "by_severity": _table(by_severity),
        "by_service": _table(by_service),
        "by_month": _table(by_month),
        "chart_rows": chart_rows,
        "chart_count": charts.columns(
            months,
            [charts.Series(_("Incidents opened"), [r["count"] for r in by_month])],
            title=_("Incidents opened by month"),
        ),
        "chart_count_severity": charts.hbar(
            [(r["label"], r["count"]) for r in by_severity], title=_("Incidents by severity")
        ),
    }
    return render(request, "incidents/stats.html", context)
