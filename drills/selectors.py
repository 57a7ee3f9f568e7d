"""Read side of drills/: querysets already shaped for the pages, and the report and overview data."""

from __future__ import annotations

import calendar
import datetime
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from erpcontinuity import charts
from plans.models import ResponseRole, TeamMember

from .models import Drill, DrillService, Finding, StepRecord

try:  # Readiness comes from training/ (issue 7); the drill page works without it.
    from training.readiness import plan_readiness
except ImportError:  # pragma: no cover - depends on whether training/ is built
    plan_readiness = None


def drill_list(user) -> QuerySet[Drill]:
    return Drill.objects.visible_to(user).select_related("scenario", "plan_version__plan", "facilitator")


def drill_for_page(pk: int) -> QuerySet[Drill]:
    return Drill.objects.filter(pk=pk).select_related(
        "scenario", "plan_version__plan", "facilitator", "alert__incident"
    )


def participant_roles(drill: Drill) -> list[ResponseRole]:
    members = TeamMember.objects.select_related("user").order_by("rank")
    return list(drill.participant_roles.prefetch_related(Prefetch("members", queryset=members)))


def readiness_rows(drill: Drill, roles: list[ResponseRole]) -> list | None:
    """Who among the participants is ready (trained, acknowledged) for the plan; None without training/."""
    if plan_readiness is None:
        return None
    users = list(dict.fromkeys(m.user for role in roles for m in role.members.all() if m.user_id))
    try:
        return list(plan_readiness(plan=drill.plan_version.plan, users=users))
    except Exception:  # noqa: BLE001 - another app's panel must never break the drill page
        return None


@dataclass
class StepRow:
    step: object
    record: StepRecord | None

    @property
    def state(self) -> str:
        if self.record is None or self.record.started_at is None:
            return "todo"
        return "done" if self.record.finished_at else "running"


def step_rows(drill: Drill) -> list[StepRow]:
    records = {r.step_id: r for r in drill.step_records.all()}
    steps = drill.plan_version.steps.select_related("role").order_by("order", "id")
    return [StepRow(step=s, record=records.get(s.pk)) for s in steps]


def service_results(drill: Drill) -> list[DrillService]:
    return list(drill.service_results.select_related("service"))


def findings(drill: Drill) -> list[Finding]:
    return list(drill.findings.select_related("action_item__owner", "proposed_version", "risk").order_by("kind", "id"))


def steps_chart(rows: list[StepRow]):
    items = [
        (f"{r.step.order}. {r.step.title}", r.step.expected_minutes, r.record.actual_minutes if r.record else None)
        for r in rows
    ]
    return charts.paired_hbar(
        items, labels=(_("Planned"), _("Actual")), title=_("Steps: planned vs actual minutes"), unit=" " + _("min")
    )


def report_context(drill: Drill) -> dict:
    """Everything the report page (and its PDF) shows, in a fixed number of queries."""
    rows = step_rows(drill)
    results = service_results(drill)
    found = findings(drill)
    roles = participant_roles(drill)
    return {
        "drill": drill,
        "roles": roles,
        "step_rows": rows,
        "steps_chart": steps_chart(rows),
        "results": results,
        "findings": found,
        "action_items": [f.action_item for f in found if f.action_item_id],
        "inject_logs": list(drill.inject_logs.all()),
        "injects": list(drill.scenario.injects.all()),
    }


# --- Calendar -------------------------------------------------------------------------------------


def month_grid(user, year: int, month: int) -> list[list[dict]]:
    """Weeks of the month (Monday first), each day with the drills that start on it."""
    tz = timezone.get_current_timezone()
    first = datetime.date(year, month, 1)
    weeks = calendar.Calendar(firstweekday=0).monthdatescalendar(year, month)
    start = datetime.datetime.combine(weeks[0][0], datetime.time.min, tzinfo=tz)
    end = datetime.datetime.combine(weeks[-1][-1] + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz)
    by_day = defaultdict(list)
    for drill in (
        drill_list(user).filter(scheduled_start__gte=start, scheduled_start__lt=end).order_by("scheduled_start")
    ):
        by_day[timezone.localtime(drill.scheduled_start, tz).date()].append(drill)
    today = timezone.localdate()
    return [
        [
            {"date": d, "in_month": d.month == first.month, "today": d == today, "drills": by_day.get(d, [])}
            for d in week
        ]
        for week in weeks
    ]


# --- Overview -------------------------------------------------------------------------------------


def _quarter(d: datetime.datetime) -> str:
    local = timezone.localtime(d)
    return _("%(year)d Q%(quarter)d") % {"year": local.year, "quarter": (local.month - 1) // 3 + 1}


def overview(user) -> dict:
    drills = list(drill_list(user).order_by("scheduled_start", "id"))
    done = [d for d in drills if d.status in (Drill.Status.COMPLETED, Drill.Status.REPORTED)]
    passed = sum(1 for d in done if d.passed)
    quarters = sorted({_quarter(d.scheduled_start) for d in drills})
    per_quarter = {q: {"planned": 0, "done": 0, "passed": 0} for q in quarters}
    for d in drills:
        q = per_quarter[_quarter(d.scheduled_start)]
        if d.status in (Drill.Status.PLANNED, Drill.Status.RUNNING):
            q["planned"] += 1
        elif d in done:
            q["done"] += 1
            q["passed"] += 1 if d.passed else 0
    quarter_chart = charts.columns(
        quarters,
        [
            charts.Series(_("Planned"), [per_quarter[q]["planned"] for q in quarters], charts.PALETTE[7]),
            charts.Series(_("Done"), [per_quarter[q]["done"] for q in quarters], charts.PALETTE[0]),
            charts.Series(_("Passed"), [per_quarter[q]["passed"] for q in quarters], charts.PALETTE[2]),
        ],
        title=_("Drills per quarter"),
    )
    # Trend of the achieved recovery time per service, one point per completed drill.
    results = list(
        DrillService.objects.filter(drill__in=[d.pk for d in done], restored_at__isnull=False)
        .select_related("service")
        .order_by("drill__completed_at", "drill_id")
    )
    done_ids = [d.pk for d in done if any(r.drill_id == d.pk for r in results)]
    labels = [timezone.localtime(d.scheduled_start).strftime("%Y-%m-%d") for d in done if d.pk in done_ids]
    per_service: dict = defaultdict(dict)
    for r in results:
        per_service[r.service][r.drill_id] = r.achieved_rto_minutes
    trend = [charts.Series(s.name, [values.get(pk) for pk in done_ids]) for s, values in per_service.items()]
    trend_chart = (
        charts.lines(labels, trend, title=_("Achieved recovery time per service"), unit=" " + _("min"))
        if trend
        else None
    )
    return {
        "drills": drills,
        "done_count": len(done),
        "pass_count": passed,
        "pass_rate": round(100 * passed / len(done)) if done else None,
        "per_quarter": [(q, per_quarter[q]) for q in quarters],
        "quarter_chart": quarter_chart if quarters else None,
        "trend_chart": trend_chart,
        "trend_rows": [(s, [values.get(pk) for pk in done_ids]) for s, values in per_service.items()],
        "trend_labels": labels,
    }
