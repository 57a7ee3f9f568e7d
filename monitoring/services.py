"""Monitoring services: create/update checks, run a check (probe → sample → evaluate → alert),
the beat tick that claims due checks, pushed metrics and heartbeats, and sample retention.

Evaluation
- A value is graded against the thresholds with the check's comparison (critical first, then
  warning); a probe error grades as "unknown".
- Baseline (use_baseline): the mean and standard deviation of the check's samples taken at the
  same hour of day over the last BASELINE_DAYS days; a value with |value - mean| > sigma × sd is a
  warning breach. It needs at least BASELINE_MIN_SAMPLES samples, else the baseline says nothing.
- A check changes to a bad state only after `breaches_to_fire` consecutive bad results (like
  Prometheus `for:`), and back to OK only after `recoveries_to_clear` consecutive good results (no
  flapping). Firing raises an alert (source "monitoring", fingerprint "check-<id>", sev2 for
  critical, sev3 for warning and unknown); recovery resolves it.
"""

from __future__ import annotations

import datetime
import math
import operator

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from incidents.services import raise_alert, resolve_alert
from plans.models import Severity

from .models import Check, HourlyAggregate, Sample

ALERT_SOURCE = "monitoring"
BASELINE_DAYS = 14
BASELINE_MIN_SAMPLES = 5
RAW_RETENTION_DAYS = 7
AGGREGATE_RETENTION_DAYS = 400
COMPARE = {"gt": operator.gt, "ge": operator.ge, "lt": operator.lt, "le": operator.le}
SEVERITY_FOR_STATE = {
    Check.State.CRITICAL: Severity.SEV2,
    Check.State.WARNING: Severity.SEV3,
    Check.State.UNKNOWN: Severity.SEV3,
}


def fingerprint(check: Check) -> str:
    return f"check-{check.pk}"


# --- Checks --------------------------------------------------------------------------------------


CHECK_FIELDS = {
    "service", "name", "kind", "settings", "interval_seconds", "timeout_seconds", "comparison",
    "warning_threshold", "critical_threshold", "breaches_to_fire", "recoveries_to_clear", "use_baseline",
    "baseline_sigma", "paused",
}  # fmt: skip


@transaction.atomic
def check_create(**fields) -> Check:
    unknown = set(fields) - CHECK_FIELDS
    if unknown:
        raise ValidationError({k: _("Not a check field.") for k in unknown})
    check = Check(**fields)
    check.next_run_at = timezone.now()
    check.full_clean()
    check.save()
    return check


@transaction.atomic
def check_update(*, check: Check, **fields) -> Check:
    unknown = set(fields) - CHECK_FIELDS
    if unknown:
        raise ValidationError({k: _("Not a check field.") for k in unknown})
    for key, value in fields.items():
        setattr(check, key, value)
    check.full_clean()
    check.save()
    return check


@transaction.atomic
def check_set_paused(*, check: Check, paused: bool) -> Check:
    check.paused = paused
    if not paused:
        check.next_run_at = timezone.now()
    check.save(update_fields=["paused", "next_run_at"])
    return check


def request_run(*, check: Check) -> None:
    """ "Run now": enqueue a run of the check once the caller's transaction commits."""
    from . import tasks

    transaction.on_commit(lambda: tasks.run_check.delay(check.pk))


# --- Evaluation ----------------------------------------------------------------------------------


def thresholds(check: Check) -> tuple[str, float | None, float | None]:
    """(comparison, warning, critical); a heartbeat is critical once older than every + grace."""
    if check.kind == Check.Kind.HEARTBEAT:
        s = check.settings or {}
        limit = float(s.get("every_minutes", 0)) + float(s.get("grace_minutes", 0) or 0)
        return "gt", check.warning_threshold, limit
    return check.comparison, check.warning_threshold, check.critical_threshold


def baseline(check: Check, at: datetime.datetime) -> tuple[float, float, int] | None:
    """(mean, standard deviation, n) of the samples at the same hour of day (in the current time
    zone) over the last BASELINE_DAYS days, or None with fewer than BASELINE_MIN_SAMPLES."""
    local = timezone.localtime(at)
    values = [
        v
        for v, t in Sample.objects.filter(
            monitor_check=check,
            at__gte=at - datetime.timedelta(days=BASELINE_DAYS),
            at__lt=at,
            value__isnull=False,
        ).values_list("value", "at")
        if timezone.localtime(t).hour == local.hour
    ]
    if len(values) < BASELINE_MIN_SAMPLES:
        return None
    mean = sum(values) / len(values)
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))
    return mean, sd, len(values)


def grade(check: Check, value: float | None, error: str = "", at=None) -> str:
    """The state one result points to, before breach counting."""
    if error or value is None:
        return Check.State.UNKNOWN
    comparison, warning, critical = thresholds(check)
    compare = COMPARE[comparison]
    if critical is not None and compare(value, critical):
        return Check.State.CRITICAL
    if warning is not None and compare(value, warning):
        return Check.State.WARNING
    if check.use_baseline:
        stats = baseline(check, at or timezone.now())
        if stats:
            mean, sd, _n = stats
            if abs(value - mean) > check.baseline_sigma * sd:
                return Check.State.WARNING
    return Check.State.OK


def evaluate(*, check: Check, value: float | None, error: str = "", at=None) -> Check:
    """Apply one result to the check (breach counting, recovery hysteresis), raise or resolve
    its alert, and save it. The caller holds the check's row lock."""
    at = at or timezone.now()
    graded = grade(check, value, error, at)
    previous = check.state
    if graded == Check.State.OK:
        check.consecutive_ok += 1
        check.consecutive_breaches = 0
        if previous != Check.State.OK and (
            previous == Check.State.UNKNOWN
            and check.last_run_at is None
            or check.consecutive_ok >= check.recoveries_to_clear
        ):
            check.state = Check.State.OK
    else:
        check.consecutive_breaches += 1
        check.consecutive_ok = 0
        if check.consecutive_breaches >= check.breaches_to_fire:
            check.state = graded
    check.last_value, check.last_error, check.last_run_at = value, error[:2000], at
    check.save(
        update_fields=["state", "consecutive_breaches", "consecutive_ok", "last_value", "last_error", "last_run_at"]
    )
    firing = check.state != Check.State.OK and check.consecutive_breaches >= check.breaches_to_fire
    if firing and (check.state != previous or check.consecutive_breaches == check.breaches_to_fire):
        _raise(check, value, error, at)
    elif check.state == Check.State.OK and previous != Check.State.OK:
        resolve_alert(source=ALERT_SOURCE, fingerprint=fingerprint(check), at=at)
    return check


def _raise(check: Check, value, error: str, at) -> None:
    state_label = Check.State(check.state).label
    if error:
        summary = _("%(check)s is %(state)s: %(error)s") % {"check": check.name, "state": state_label, "error": error}
    else:
        summary = _("%(check)s is %(state)s: value %(value)s") % {
            "check": check.name,
            "state": state_label,
            "value": f"{value:g}",
        }
    raise_alert(
        source=ALERT_SOURCE,
        fingerprint=fingerprint(check),
        severity=SEVERITY_FOR_STATE[check.state],
        summary=str(summary)[:255],
        service=check.service,
        details={"check": check.pk, "state": check.state, "value": value, "error": error, "kind": check.kind},
        at=at,
    )


def record(*, check: Check, value: float | None, error: str = "", at=None) -> Sample:
    """Store one sample and evaluate it, under the check's row lock."""
    at = at or timezone.now()
    with transaction.atomic():
        check = Check.objects.select_for_update().select_related("service").get(pk=check.pk)
        status = grade(check, value, error, at)
        sample = Sample.objects.create(monitor_check=check, at=at, value=value, status=status, error=error[:2000])
        evaluate(check=check, value=value, error=error, at=at)
    return sample


def run_check(*, check_id: int, now=None) -> Sample | None:
    """Probe a check and record the result. The probe runs outside any transaction."""
    from .probes import run_probe

    check = Check.objects.select_related("service").filter(pk=check_id).first()
    if check is None or check.kind not in Check.POLLED_KINDS:
        return None
    value, error = run_probe(check, now)
    return record(check=check, value=value, error=error, at=now)


# --- The tick ------------------------------------------------------------------------------------


def claim_due_checks(*, now=None, limit: int = 500) -> list[int]:
    """Claim unpaused polled checks that are due (moving next_run_at forward) and enqueue one run
    each once the claim commits. Safe for concurrent ticks (skip_locked): no check is claimed
    twice for one due time."""
    from . import tasks

    now = now or timezone.now()
    with transaction.atomic():
        due = list(
            Check.objects.select_for_update(skip_locked=True)
            .filter(paused=False, kind__in=Check.POLLED_KINDS)
            .filter(Q(next_run_at__isnull=True) | Q(next_run_at__lte=now))
            .order_by("next_run_at", "pk")[:limit]
        )
        for check in due:
            check.next_run_at = now + datetime.timedelta(seconds=check.interval_seconds)
        Check.objects.bulk_update(due, ["next_run_at"])
        ids = [c.pk for c in due]
        for pk in ids:
            transaction.on_commit(lambda pk=pk: tasks.run_check.delay(pk))
    return ids


# --- Pushed data ---------------------------------------------------------------------------------


def _bad(index: int, field: str, message) -> ValidationError:
    return ValidationError({f"samples[{index}].{field}": message})


def ingest_metrics(*, samples: list, user=None) -> list[Sample]:
    """Record a batch of pushed samples [{check, value, at?, error?}, ...]. The whole batch is
    validated first: one bad sample raises a ValidationError naming its index and field, and
    nothing of the batch is written."""
    if not isinstance(samples, list) or not samples:
        raise ValidationError({"samples": _("Give a non-empty list of samples.")})
    if len(samples) > 10_000:
        raise ValidationError({"samples": _("At most 10,000 samples per batch.")})
    ids = set()
    for i, item in enumerate(samples):
        if not isinstance(item, dict):
            raise _bad(i, "check", _("Each sample must be an object."))
        if isinstance(item.get("check"), bool) or not isinstance(item.get("check"), int):
            raise _bad(i, "check", _("Give the check id."))
        ids.add(item["check"])
    checks = Check.objects.in_bulk(ids)
    parsed = []
    for i, item in enumerate(samples):
        check = checks.get(item["check"])
        if check is None:
            raise _bad(i, "check", _("No such check."))
        if check.paused:
            raise _bad(i, "check", _("This check is paused."))
        value = item.get("value")
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value)
        ):
            raise _bad(i, "value", _("Give a number."))
        error = item.get("error", "")
        if not isinstance(error, str):
            raise _bad(i, "error", _("Give text."))
        if value is None and not error:
            raise _bad(i, "value", _("Give a value or an error."))
        at = item.get("at")
        if at is not None:
            from django.utils.dateparse import parse_datetime

            parsed_at = parse_datetime(at) if isinstance(at, str) else None
            if parsed_at is None or timezone.is_naive(parsed_at):
                raise _bad(i, "at", _("Give an ISO 8601 date and time with a time zone."))
            at = parsed_at
        parsed.append((check, None if value is None else float(value), error, at))
    with transaction.atomic():
        return [record(check=c, value=v, error=e, at=a) for c, v, e, a in parsed]


def heartbeat_ping(*, check: Check, at=None) -> Check:
    """A push from a batch job: note the time and record an age of zero (which recovers)."""
    if check.kind != Check.Kind.HEARTBEAT:
        raise ValidationError({"check": _("Only heartbeat checks take pings.")})
    at = at or timezone.now()
    with transaction.atomic():
        Check.objects.filter(pk=check.pk).update(last_ping_at=at)
        check.last_ping_at = at
        record(check=check, value=0.0, at=at)
    check.refresh_from_db()
    return check


# --- Retention -----------------------------------------------------------------------------------


def _hour_sql(column: str) -> str:
    if connection.vendor == "postgresql":
        return f"date_trunc('hour', {column})"
    return f"strftime('%%Y-%%m-%%d %%H:00:00', {column})"


def apply_retention(
    *, now=None, raw_days: int = RAW_RETENTION_DAYS, aggregate_days: int = AGGREGATE_RETENTION_DAYS
) -> dict:
    """Raw samples older than raw_days become hourly aggregates (one INSERT … SELECT … GROUP BY,
    merged into existing hours), then are deleted in one statement; aggregates older than
    aggregate_days are dropped. Safe to run twice: the second run finds nothing to fold."""
    now = now or timezone.now()
    raw_cutoff = now - datetime.timedelta(days=raw_days)
    # Fold whole hours only, so an hour is never split between two runs.
    raw_cutoff = raw_cutoff.replace(minute=0, second=0, microsecond=0)
    agg_cutoff = now - datetime.timedelta(days=aggregate_days)
    samples, aggregates = Sample._meta.db_table, HourlyAggregate._meta.db_table
    hour = _hour_sql("at")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {aggregates} (monitor_check_id, hour, min_value, max_value, avg_value, count)
            SELECT monitor_check_id, {hour}, MIN(value), MAX(value), AVG(value), COUNT(value)
            FROM {samples} WHERE at < %s GROUP BY monitor_check_id, {hour}
            ON CONFLICT (monitor_check_id, hour) DO UPDATE SET
                min_value = CASE WHEN excluded.min_value IS NULL OR {aggregates}.min_value < excluded.min_value
                            THEN {aggregates}.min_value ELSE excluded.min_value END,
                max_value = CASE WHEN excluded.max_value IS NULL OR {aggregates}.max_value > excluded.max_value
                            THEN {aggregates}.max_value ELSE excluded.max_value END,
                avg_value = CASE WHEN {aggregates}.count + excluded.count = 0 THEN NULL ELSE
                            (COALESCE({aggregates}.avg_value, 0) * {aggregates}.count
                             + COALESCE(excluded.avg_value, 0) * excluded.count)
                            / ({aggregates}.count + excluded.count) END,
                count = {aggregates}.count + excluded.count
            """,  # noqa: S608 - table names from the models, values as parameters
            [raw_cutoff],
        )
        folded = cursor.rowcount
        # In the same transaction as the fold: a crash between them cannot count a sample twice.
        deleted, _ = Sample.objects.filter(at__lt=raw_cutoff).delete()
        dropped, _ = HourlyAggregate.objects.filter(hour__lt=agg_cutoff).delete()
    return {"hours": folded, "deleted": deleted, "dropped": dropped}
