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
import re

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from incidents.services import raise_alert, resolve_alert
from plans.models import Severity

from .models import EVENT_RULES, Check, Event, HourlyAggregate, Sample, _parse_hhmm

ALERT_SOURCE = "monitoring"
BASELINE_DAYS = 14
BASELINE_MIN_SAMPLES = 5
RAW_RETENTION_DAYS = 7
EVENT_RETENTION_DAYS = 30
DEFAULT_WINDOW_MINUTES = 5
MAX_LOG_READ_BYTES = 8 * 1024 * 1024  # per run: a huge backlog is read over several runs
LOG_HEAD_BYTES = 128  # the file's first bytes, remembered to notice a truncated and rewritten file
BATCH_SIZE = 250  # HTTP/TCP checks probed concurrently by one task
# The tick also claims checks due this soon: a tick that runs a little early (beat's jitter, a tick
# that waited behind a busy worker) would otherwise leave them a whole tick period late.
CLAIM_AHEAD = datetime.timedelta(seconds=1)
# Connections at a time in a batch. httpx's pool costs grow with its size (bench: 1,000 requests
# to a local server took 1.2 s at 10 connections, 7.1 s at 100), so a moderate number is faster.
BATCH_CONCURRENCY = 25
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
def check_delete(*, check: Check) -> None:
    """Delete a check with its samples, aggregates and file matches. An alert it raised that is
    still active is resolved first, so no incident waits on a check that no longer exists."""
    if check.state != Check.State.OK:
        resolve_alert(source=ALERT_SOURCE, fingerprint=fingerprint(check))
    check.delete()


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
    if (
        check.kind == Check.Kind.EVENT_RULE
        and (check.settings or {}).get("rule") == "outside_hours"
        and check.warning_threshold is None
        and check.critical_threshold is None
    ):
        return "gt", None, 0.0  # any privileged operation outside working hours
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
    return (*_mean_sd(values), len(values))


def baseline_by_hour(check: Check, now: datetime.datetime) -> dict[int, tuple[float, float]]:
    """{local hour: (mean, standard deviation)} over the last BASELINE_DAYS days, for the hours
    with at least BASELINE_MIN_SAMPLES samples: the band drawn on the check's chart. One query."""
    by_hour: dict[int, list[float]] = {}
    for value, at in Sample.objects.filter(
        monitor_check=check, at__gte=now - datetime.timedelta(days=BASELINE_DAYS), value__isnull=False
    ).values_list("value", "at"):
        by_hour.setdefault(timezone.localtime(at).hour, []).append(value)
    return {hour: _mean_sd(values) for hour, values in by_hour.items() if len(values) >= BASELINE_MIN_SAMPLES}


def _mean_sd(values: list[float]) -> tuple[float, float]:
    mean = sum(values) / len(values)
    return mean, math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))


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


EVALUATED_FIELDS = ["state", "consecutive_breaches", "consecutive_ok", "last_value", "last_error", "last_run_at"]


def evaluate(*, check: Check, value: float | None, error: str = "", at=None, save: bool = True) -> Check:
    """Apply one result to the check (breach counting, recovery hysteresis), raise or resolve
    its alert, and save it (save=False: the caller saves EVALUATED_FIELDS, e.g. in bulk). The
    caller holds the check's row lock."""
    at = at or timezone.now()
    graded = grade(check, value, error, at)
    previous = check.state
    first_run = previous == Check.State.UNKNOWN and check.last_run_at is None  # nothing raised yet
    if graded == Check.State.OK:
        check.consecutive_ok += 1
        check.consecutive_breaches = 0
        if previous != Check.State.OK and (first_run or check.consecutive_ok >= check.recoveries_to_clear):
            check.state = Check.State.OK
    else:
        check.consecutive_breaches += 1
        check.consecutive_ok = 0
        if check.consecutive_breaches >= check.breaches_to_fire:
            check.state = graded
    check.last_value, check.last_error, check.last_run_at = value, error[:2000], at
    if save:
        check.save(update_fields=EVALUATED_FIELDS)
    firing = check.state != Check.State.OK and check.consecutive_breaches >= check.breaches_to_fire
    if firing and (check.state != previous or check.consecutive_breaches == check.breaches_to_fire):
        _raise(check, value, error, at)
    elif check.state == Check.State.OK and previous != Check.State.OK and not first_run:
        resolve_alert(source=ALERT_SOURCE, fingerprint=fingerprint(check), at=at)
    return check


def _raise(check: Check, value, error: str, at) -> None:
    state_label = Check.State(check.state).label
    finding, extra = "", {}
    if not error and check.kind == Check.Kind.EVENT_RULE:
        _value, finding, extra = event_rule_result(check=check, now=at)  # who set it off
    if error or finding:
        summary = _("%(check)s is %(state)s: %(error)s") % {
            "check": check.name,
            "state": state_label,
            "error": error or finding,
        }
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
        details={"check": check.pk, "state": check.state, "value": value, "error": error, "kind": check.kind, **extra},
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


def record_many(*, results: list[tuple], at=None) -> int:
    """Store and evaluate the results [(check id, value, error[, at]), ...] of one batch in one
    transaction, in order (several results of one check are evaluated one after the other): the
    checks locked in one query (in id order, so two batches cannot deadlock), the samples written
    with one bulk INSERT and the checks' states with one bulk UPDATE; only a state change costs
    more (its alert). Returns the number of samples written."""
    default_at = at or timezone.now()
    with transaction.atomic():
        locked = {
            c.pk: c
            for c in Check.objects.select_for_update()
            .select_related("service")
            .filter(pk__in={r[0] for r in results})
            .order_by("pk")
        }
        samples = []
        for pk, value, error, *when in results:
            at = (when[0] if when else None) or default_at
            check = locked.get(pk)
            if check is None:  # deleted meanwhile
                continue
            status = grade(check, value, error, at)
            samples.append(Sample(monitor_check=check, at=at, value=value, status=status, error=error[:2000]))
            evaluate(check=check, value=value, error=error, at=at, save=False)
        Sample.objects.bulk_create(samples, batch_size=1000)
        Check.objects.bulk_update(list(locked.values()), EVALUATED_FIELDS, batch_size=500)
    return len(samples)


def run_batch(*, check_ids: list[int], now=None, concurrency: int = BATCH_CONCURRENCY) -> int:
    """Probe a batch of HTTP/TCP checks concurrently (asyncio, one worker process) and record
    the results in bulk. The probes run outside any transaction."""
    from .probes import run_many

    checks = list(Check.objects.filter(pk__in=check_ids, kind__in=Check.BATCHED_KINDS, paused=False))
    if not checks:
        return 0
    results = run_many(checks, concurrency=concurrency)
    return record_many(results=[(c.pk, v, e) for c, (v, e) in zip(checks, results, strict=True)], at=now)


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
            .filter(Q(next_run_at__isnull=True) | Q(next_run_at__lte=now + CLAIM_AHEAD))
            .order_by("next_run_at", "pk")[:limit]
        )
        for check in due:
            # One interval after the due time, not after this tick: counted from the tick, a next
            # tick a few ms early finds the check not yet due, and every run waits a whole extra
            # tick period (bench/monitoring_latency.py). A check left behind (worker down) starts
            # again from now, without a burst of catch-up runs.
            step = datetime.timedelta(seconds=check.interval_seconds)
            anchored = (check.next_run_at or now) + step
            check.next_run_at = anchored if anchored > now else now + step
        Check.objects.bulk_update(due, ["next_run_at"])
        ids = [c.pk for c in due]
        batched = [c.pk for c in due if c.kind in Check.BATCHED_KINDS]
        for start in range(0, len(batched), BATCH_SIZE):
            chunk = batched[start : start + BATCH_SIZE]
            transaction.on_commit(lambda chunk=chunk: tasks.run_batch.delay(chunk))
        for pk in (c.pk for c in due if c.kind not in Check.BATCHED_KINDS):
            transaction.on_commit(lambda pk=pk: tasks.run_check.delay(pk))
    return ids


# --- Pushed data ---------------------------------------------------------------------------------


def _bad(index: int, field: str, message) -> ValidationError:
    return ValidationError({f"samples[{index}].{field}": message})


def ingest_metrics(*, samples: list, user=None) -> int:
    """Record a batch of pushed samples [{check, value, at?, error?}, ...]. The whole batch is
    validated first: one bad sample raises a ValidationError naming its index and field, and
    nothing of the batch is written. Returns the number of samples written."""
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
    return record_many(results=[(c.pk, v, e, a) for c, v, e, a in parsed])


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


EVENT_FIELDS = ("kind", "service", "at", "user", "source", "message")
EVENT_LIMITS = {"user": 150, "source": 255, "message": 10_000}


def _bad_event(index: int, field: str, message) -> ValidationError:
    return ValidationError({f"events[{index}].{field}": message})


def ingest_events(*, events: list, now=None) -> int:
    """Store a batch of pushed log lines and security events
    [{kind, service (ERP service code), at?, user?, source?, message?}, ...]. The whole batch is
    validated first: one bad item raises a ValidationError naming its index and field, and
    nothing of the batch is written. One bulk INSERT."""
    from django.utils.dateparse import parse_datetime

    from plans.models import ERPService

    if not isinstance(events, list) or not events:
        raise ValidationError({"events": _("Give a non-empty list of events.")})
    if len(events) > 10_000:
        raise ValidationError({"events": _("At most 10,000 events per batch.")})
    now = now or timezone.now()
    for i, item in enumerate(events):
        if not isinstance(item, dict):
            raise _bad_event(i, "kind", _("Each event must be an object."))
        unknown = sorted(set(item) - set(EVENT_FIELDS))
        if unknown:
            raise _bad_event(i, unknown[0], _("Not an event field."))
        if not isinstance(item.get("service"), str) or not item.get("service"):
            raise _bad_event(i, "service", _("Give the ERP service code."))
    codes = {item["service"] for item in events}
    services_by_code = {s.code: s for s in ERPService.objects.filter(code__in=codes)}
    rows = []
    for i, item in enumerate(events):
        service = services_by_code.get(item["service"])
        if service is None:
            raise _bad_event(i, "service", _("No ERP service with this code."))
        if item.get("kind") not in Event.Kind.values:
            raise _bad_event(i, "kind", _("Use one of %(kinds)s.") % {"kinds": ", ".join(Event.Kind.values)})
        texts = {}
        for key, limit in EVENT_LIMITS.items():
            value = item.get(key, "")
            if not isinstance(value, str):
                raise _bad_event(i, key, _("Give text."))
            if len(value) > limit:
                raise _bad_event(i, key, _("At most %(max)s characters.") % {"max": limit})
            texts[key] = value
        if item["kind"] == Event.Kind.LOG and not texts["message"]:
            raise _bad_event(i, "message", _("A log line needs its text."))
        at = item.get("at")
        if at is None:
            at = now
        else:
            at = parse_datetime(at) if isinstance(at, str) else None
            if at is None or timezone.is_naive(at):
                raise _bad_event(i, "at", _("Give an ISO 8601 date and time with a time zone."))
        rows.append(Event(service=service, kind=item["kind"], at=at, **texts))
    with transaction.atomic():
        Event.objects.bulk_create(rows, batch_size=1000)
        _bring_forward_checks_of(rows, now)
    return len(rows)


def _bring_forward_checks_of(events: list[Event], now) -> int:
    """Pushed events are evaluated at once, not at the checks' next interval: the log pattern
    checks (for log lines) and the rule checks (for security events) of the services the batch
    concerns become due now, so the next tick (seconds away) runs them. One UPDATE."""
    q = Q()
    log_services = {e.service_id for e in events if e.kind == Event.Kind.LOG}
    event_services = {e.service_id for e in events if e.kind != Event.Kind.LOG}
    if log_services:
        q |= Q(kind=Check.Kind.LOG_PATTERN, service_id__in=log_services)
    if event_services:
        q |= Q(kind=Check.Kind.EVENT_RULE, service_id__in=event_services)
    if not q:
        return 0
    return Check.objects.filter(q, paused=False, next_run_at__gt=now).update(next_run_at=now)


def _window(check: Check, now) -> tuple[datetime.datetime, datetime.datetime]:
    minutes = float((check.settings or {}).get("window_minutes") or DEFAULT_WINDOW_MINUTES)
    return now - datetime.timedelta(minutes=minutes), now


def read_log_file(*, check: Check, now=None) -> str:
    """Read the lines appended to a log pattern check's file since the stored offset and store
    the ones matching its pattern as events of the check. A new check starts at the end of the
    file (old lines are not "new" errors); a rotated file (other inode) or a truncated one (smaller
    than the offset, or whose first bytes changed) is read from its start, and after a rotation the
    lines written to the old file since the last read are read too, when the old file is still in
    the folder (logrotate's default: erp.log → erp.log.1). Only whole lines are consumed: a
    half-written last line is read next time. Returns an error message, or "" when the file was read."""
    import os

    now = now or timezone.now()
    with transaction.atomic():
        check = Check.objects.select_for_update().select_related("service").get(pk=check.pk)
        path = (check.settings or {}).get("path")
        try:
            handle = open(path, "rb")  # noqa: SIM115 - closed below
        except OSError as e:
            return f"cannot read {path}: {e.strerror or e}"
        with handle:
            stat = os.fstat(handle.fileno())
            head = handle.read(LOG_HEAD_BYTES).hex()
            cursor = check.log_cursor or {}
            rotated = b""
            if cursor and cursor.get("inode") != stat.st_ino:
                rotated = _rotated_remainder(path, cursor)
            if not cursor:
                offset = stat.st_size
            elif (
                cursor.get("inode") != stat.st_ino
                or stat.st_size < cursor.get("offset", 0)
                or not head.startswith(cursor.get("head", ""))
            ):
                offset = 0  # rotated, truncated, or truncated and rewritten past the old offset
            else:
                offset = cursor["offset"]
            handle.seek(offset)
            chunk = handle.read(MAX_LOG_READ_BYTES)
        end = chunk.rfind(b"\n") + 1  # whole lines only
        pattern = re.compile(check.settings["pattern"])
        matches = [
            Event(
                service=check.service,
                monitor_check=check,
                kind=Event.Kind.LOG,
                at=now,
                source=path[:255],
                message=line[:10_000],
            )
            for line in (rotated + chunk[:end]).decode("utf-8", "replace").splitlines()
            if pattern.search(line)
        ]
        Event.objects.bulk_create(matches, batch_size=1000)
        consumed = offset + end
        check.log_cursor = {"inode": stat.st_ino, "offset": consumed, "head": head[: 2 * min(consumed, LOG_HEAD_BYTES)]}
        check.save(update_fields=["log_cursor"])
    return ""


def _rotated_remainder(path: str, cursor: dict) -> bytes:
    """What was appended to a rotated-away log file after the last read: the file with the
    remembered inode, if it is still in the same folder under another name. Its last line is
    final, so it counts even without a newline. Nothing if it was compressed or removed."""
    import os

    try:
        with os.scandir(os.path.dirname(path) or ".") as entries:
            old = next((e for e in entries if e.is_file() and e.inode() == cursor.get("inode")), None)
        if old is None:
            return b""
        with open(old.path, "rb") as handle:
            handle.seek(cursor.get("offset", 0))
            data = handle.read(MAX_LOG_READ_BYTES)
    except OSError:
        return b""
    return data if not data or data.endswith(b"\n") else data + b"\n"


def log_matches(*, check: Check, now=None) -> int:
    """Matches of a log pattern check's expression in its window: the lines of its file that
    matched (stored as its events) plus the log lines pushed for its service that match."""
    now = now or timezone.now()
    since, until = _window(check, now)
    in_window = Event.objects.filter(kind=Event.Kind.LOG, at__gt=since, at__lte=until)
    count = in_window.filter(monitor_check=check).count()
    pattern = re.compile(check.settings["pattern"])
    pushed = in_window.filter(service_id=check.service_id, monitor_check__isnull=True).values_list("message", flat=True)
    return count + sum(1 for message in pushed.iterator(chunk_size=2000) if pattern.search(message))


def outside_working_hours(at: datetime.datetime, settings: dict) -> bool:
    """Whether a moment falls outside the check's working hours, in the app's time zone
    (settings.TIME_ZONE): work_days (1 = Monday … 7 = Sunday), work_start ≤ time < work_end."""
    local = timezone.localtime(at, timezone.get_default_timezone())
    start = _parse_hhmm(settings.get("work_start", "08:00"))
    end = _parse_hhmm(settings.get("work_end", "18:00"))
    days = settings.get("work_days", [1, 2, 3, 4, 5])
    return local.isoweekday() not in days or not start <= local.time() < end


def event_rule_value(*, check: Check, now=None) -> float:
    """The value of a security or behaviour rule over the events of its service in its window:
    rule "count" → the number of events of its kind (the highest count of one user or source
    with group_by); rule "outside_hours" → the number of such events outside working hours."""
    return event_rule_result(check=check, now=now)[0]


OFFENDERS_SHOWN = 3  # operations outside working hours named in an alert, then "and N more"


def _event_count(kind: str, n: int) -> str:
    texts = {
        Event.Kind.LOGIN_FAILURE: ngettext("%(n)s login failure", "%(n)s login failures", n),
        Event.Kind.PRIVILEGED: ngettext("%(n)s privileged operation", "%(n)s privileged operations", n),
        Event.Kind.DELETION: ngettext("%(n)s deletion", "%(n)s deletions", n),
    }
    return texts.get(kind, ngettext("%(n)s event", "%(n)s events", n)) % {"n": n}


def event_rule_result(*, check: Check, now=None) -> tuple[float, str, dict]:
    """(value, finding, details) of a security or behaviour rule (value: see event_rule_value).
    The finding names the offender for the alert's summary: the user or source with the highest
    count ("27 login failures by user 'sysadm' in 15 min"), or the users and times of the first
    OFFENDERS_SHOWN operations outside working hours, then "and N more"; details carry the same."""
    from django.db.models import Count

    now = now or timezone.now()
    settings = check.settings or {}
    since, until = _window(check, now)
    events = Event.objects.filter(service_id=check.service_id, kind=settings["event"], at__gt=since, at__lte=until)
    rule = settings.get("rule", "count")
    assert rule in EVENT_RULES  # noqa: S101 - validated on save
    if rule == "outside_hours":
        found = [
            (at, user or source)
            for at, user, source in events.order_by("at", "id").values_list("at", "user", "source")
            if outside_working_hours(at, settings)
        ]
        if not found:
            return 0.0, "", {}
        local = timezone.get_default_timezone()
        shown = [
            _("'%(user)s' at %(time)s") % {"user": who, "time": f"{timezone.localtime(at, local):%Y-%m-%d %H:%M}"}
            for at, who in found[:OFFENDERS_SHOWN]
        ]
        finding = _("%(events)s outside working hours: %(list)s") % {
            "events": _event_count(settings["event"], len(found)),
            "list": ", ".join(shown),
        }
        if len(found) > OFFENDERS_SHOWN:
            finding = _("%(finding)s and %(n)s more") % {"finding": finding, "n": len(found) - OFFENDERS_SHOWN}
        details = {"outside_hours": [{"user": who, "at": at.isoformat()} for at, who in found[:OFFENDERS_SHOWN]]}
        return float(len(found)), finding, details
    group_by = settings.get("group_by", "")
    if group_by:
        top = events.values(group_by).annotate(n=Count("id")).order_by("-n", group_by).first()
        if top is None:
            return 0.0, "", {}
        labels = {"user": _("user"), "source": _("source")}
        finding = _("%(events)s by %(group)s '%(who)s' in %(minutes)s min") % {
            "events": _event_count(settings["event"], top["n"]),
            "group": labels[group_by],
            "who": top[group_by],
            "minutes": f"{(until - since).total_seconds() / 60:g}",
        }
        return float(top["n"]), finding, {"offender": {group_by: top[group_by], "count": top["n"]}}
    return float(events.count()), "", {}


# --- Retention -----------------------------------------------------------------------------------


def _hour_sql(column: str) -> str:
    if connection.vendor == "postgresql":
        return f"date_trunc('hour', {column})"
    return f"strftime('%%Y-%%m-%%d %%H:00:00', {column})"


def apply_retention(
    *,
    now=None,
    raw_days: int = RAW_RETENTION_DAYS,
    aggregate_days: int = AGGREGATE_RETENTION_DAYS,
    event_days: int = EVENT_RETENTION_DAYS,
) -> dict:
    """Raw samples older than raw_days become hourly aggregates (one INSERT … SELECT … GROUP BY,
    merged into existing hours), then are deleted in one statement; aggregates older than
    aggregate_days are dropped, and so are pushed events older than event_days. Safe to run twice: the second run finds nothing to fold."""
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
        events, _ = Event.objects.filter(at__lt=now - datetime.timedelta(days=event_days)).delete()
    return {"hours": folded, "deleted": deleted, "dropped": dropped, "events": events}
