"""Response statistics: time to acknowledge (TTA = acknowledged_at − opened_at) and time to recover
(TTR = resolved_at − detected_at, from when the problem was first seen), mean and median, by
severity, by service and by month, plus open/closed counts. Drill incidents are left out unless
asked for. Durations are seconds (float), None where nothing was acknowledged/resolved yet.

On PostgreSQL everything is aggregated in SQL (AVG and percentile_cont), so 100,000 incidents
cost three grouped queries. SQLite has no median aggregate: the embedded mode fetches one row of
durations per incident and aggregates in Python, which is fine at its scale."""

from __future__ import annotations

import datetime
import statistics
from collections import defaultdict

from django.conf import settings
from django.db import connection
from django.db.models import Count, DurationField, ExpressionWrapper, F, Q
from django.db.models.functions import TruncMonth

from plans.models import ERPService, Severity

from ..models import Incident
from ._common import is_postgres

DIMENSIONS = ("severity", "service", "month")
CLOSED = (Incident.Status.RESOLVED, Incident.Status.CLOSED)


def response_stats(
    *, since: datetime.datetime | None = None, until: datetime.datetime | None = None, include_drills: bool = False
) -> dict:
    base = Incident.objects.all()
    if not include_drills:
        base = base.filter(is_drill=False)
    if since is not None:
        base = base.filter(opened_at__gte=since)
    if until is not None:
        base = base.filter(opened_at__lt=until)
    counts = base.aggregate(
        total=Count("id"),
        open=Count("id", filter=Q(status__in=Incident.OPEN_STATUSES)),
        closed=Count("id", filter=Q(status__in=CLOSED)),
    )
    compute = _grouped_postgres if is_postgres() else _grouped_python
    rows = {dim: compute(dim, since, until, include_drills, base) for dim in DIMENSIONS}
    return {
        "counts": counts,
        "by_severity": _label_severity(rows["severity"]),
        "by_service": _label_service(rows["service"]),
        "by_month": sorted(({**r, "label": r["key"]} for r in rows["month"].values()), key=lambda r: r["key"]),
    }


def _row(key, count, tta_mean, tta_median, ttr_mean, ttr_median) -> dict:
    def num(value):
        return None if value is None else round(float(value), 1)

    return {
        "key": key,
        "count": count,
        "tta_mean": num(tta_mean),
        "tta_median": num(tta_median),
        "ttr_mean": num(ttr_mean),
        "ttr_median": num(ttr_median),
    }


def _label_severity(rows: dict) -> list[dict]:
    empty = _row(None, 0, None, None, None, None)
    return [{**(rows.get(sev) or empty), "key": sev, "label": sev.upper()} for sev in Severity.values]


def _label_service(rows: dict) -> list[dict]:
    services = ERPService.objects.filter(pk__in=list(rows)).order_by("criticality", "name").values_list("pk", "name")
    return [{**rows[pk], "label": name} for pk, name in services]


# --- PostgreSQL: aggregate in SQL ----------------------------------------------------------------

_TTA = "EXTRACT(EPOCH FROM (i.acknowledged_at - i.opened_at))"
_TTR = "EXTRACT(EPOCH FROM (i.resolved_at - i.detected_at))"


def _grouped_postgres(dimension, since, until, include_drills, base) -> dict:
    join = ""
    params: list = []
    if dimension == "severity":
        key = "i.severity"
    elif dimension == "service":
        key = "s.erpservice_id"
        join = f"JOIN {Incident.services.through._meta.db_table} s ON s.incident_id = i.id"
    else:
        key = "to_char(date_trunc('month', i.opened_at AT TIME ZONE %s), 'YYYY-MM')"
        params.append(settings.TIME_ZONE)
    where = ["TRUE"]
    if not include_drills:
        where.append("NOT i.is_drill")
    if since is not None:
        where.append("i.opened_at >= %s")
        params.append(since)
    if until is not None:
        where.append("i.opened_at < %s")
        params.append(until)
    sql = f"""
        SELECT {key} AS key, COUNT(*),
               AVG({_TTA}), percentile_cont(0.5) WITHIN GROUP (ORDER BY {_TTA}),
               AVG({_TTR}), percentile_cont(0.5) WITHIN GROUP (ORDER BY {_TTR})
        FROM {Incident._meta.db_table} i {join}
        WHERE {" AND ".join(where)}
        GROUP BY 1
    """  # noqa: S608 - only fixed fragments are interpolated; values are parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {r[0]: _row(*r) for r in cursor.fetchall()}


# --- SQLite: durations from SQL, aggregation in Python -------------------------------------------


def _grouped_python(dimension, since, until, include_drills, base) -> dict:
    key = {"severity": F("severity"), "service": F("services__id"), "month": TruncMonth("opened_at")}[dimension]
    qs = base.annotate(
        k=key,
        tta=ExpressionWrapper(F("acknowledged_at") - F("opened_at"), output_field=DurationField()),
        ttr=ExpressionWrapper(F("resolved_at") - F("detected_at"), output_field=DurationField()),
    )
    if dimension == "service":
        qs = qs.filter(k__isnull=False)  # on the annotation's own join: a second join would duplicate rows
    groups: dict = defaultdict(lambda: ([], [], [0]))
    for k, tta, ttr in qs.values_list("k", "tta", "ttr").iterator(chunk_size=5000):
        if dimension == "month":
            k = k.strftime("%Y-%m")
        tta_list, ttr_list, count = groups[k]
        count[0] += 1
        if tta is not None:
            tta_list.append(tta.total_seconds())
        if ttr is not None:
            ttr_list.append(ttr.total_seconds())

    def mean(values):
        return statistics.fmean(values) if values else None

    def median(values):
        return statistics.median(values) if values else None

    return {
        k: _row(k, count[0], mean(tta), median(tta), mean(ttr), median(ttr)) for k, (tta, ttr, count) in groups.items()
    }
