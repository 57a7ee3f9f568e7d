"""Verifications: recording them (and their alerts), the freshness, size, checksum and copies
checks, restore progress and the restore test, and verify_policy with its pass key."""

from __future__ import annotations

import contextlib
import datetime
import logging
import os
import statistics
import threading
import time
import uuid
from pathlib import Path

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from incidents.services import raise_alert, resolve_alert
from plans.models import ERPService, Severity

from .. import restore
from ..models import BackupPolicy, BackupRun, RestoreProgress, Verification
from ._common import ALERT_SOURCE, _inside
from .policies import sha256_file

logger = logging.getLogger(__name__)

SIZE_TREND_WINDOW = 7
Kind = Verification.Kind
Result = Verification.Result


# --- Verifications -------------------------------------------------------------------------------


def _good_runs(policy: BackupPolicy):
    return policy.runs.filter(status=BackupRun.Status.SUCCEEDED).select_related("location")


def _newest_good(policy: BackupPolicy) -> BackupRun | None:
    return _good_runs(policy).order_by("-finished_at", "-started_at", "-id").first()


def _newest_readable(policy: BackupPolicy) -> BackupRun | None:
    """The newest good backup this worker may read: a file inside a directory location."""
    for run in _good_runs(policy).order_by("-finished_at", "-started_at", "-id")[:20]:
        if run.location.is_directory and run.file_path and _inside(run.location, run.file_path):
            return run
    return None


def _severity(policy: BackupPolicy, kind: str) -> str:
    if kind == Kind.RESTORE and policy.service.criticality == ERPService.Criticality.VITAL:
        return Severity.SEV1
    return Severity.SEV2


def record_verification(**kwargs) -> Verification:
    """Store a verification made elsewhere (demo history, an external checker) and raise or
    resolve its alert like the built-in checks do."""
    return _record(**kwargs)


def _record(
    *,
    policy: BackupPolicy,
    kind: str,
    result: str,
    message: str,
    started_at,
    duration: float = 0.0,
    run: BackupRun | None = None,
    details: dict | None = None,
    measured_rpo_seconds: float | None = None,
    pass_key: str = "",
) -> Verification:
    """Store the verification and raise or resolve its alert, in one transaction."""
    with transaction.atomic():
        verification = Verification.objects.create(
            pass_key=pass_key or getattr(_current_pass, "key", ""),
            policy=policy,
            run=run,
            kind=kind,
            result=result,
            message=message,
            started_at=started_at,
            duration_seconds=duration,
            details=details or {},
            measured_rpo_seconds=measured_rpo_seconds,
        )
        fingerprint = f"policy-{policy.pk}-{kind}"
        if result == Result.PASS:
            resolve_alert(source=ALERT_SOURCE, fingerprint=fingerprint)
        else:
            summary = _("Backup %(kind)s check failed for %(policy)s: %(message)s") % {
                "kind": Verification.Kind(kind).label,
                "policy": policy,
                "message": message,
            }
            raise_alert(
                source=ALERT_SOURCE,
                fingerprint=fingerprint,
                severity=_severity(policy, kind),
                summary=summary[:500],
                service=policy.service,
                details={"verification": verification.pk, "policy": policy.pk, "kind": kind},
            )
    return verification


def verify_freshness(*, policy: BackupPolicy, now=None) -> Verification:
    now = now or timezone.now()
    limit_minutes = min(policy.service.rpo_minutes, policy.expected_frequency_minutes + policy.grace_minutes)
    run = _newest_good(policy)
    details = {"limit_seconds": limit_minutes * 60, "rpo_seconds": policy.service.rpo_minutes * 60}
    if run is None:
        return _record(
            policy=policy,
            kind=Kind.FRESHNESS,
            result=Result.FAIL,
            message=_("No successful backup yet."),
            started_at=now,
            details=details,
        )
    age = (now - run.completed_at).total_seconds()
    details["age_seconds"] = age
    # The measured RPO is the age of the newest backup proven usable (checksum or restore passed):
    # what would be lost if the ERP failed now and only verified backups were trusted.
    verified = (
        _good_runs(policy)
        .filter(
            verifications__result=Result.PASS,
            verifications__kind__in=[Kind.CHECKSUM, Kind.RESTORE],
        )
        .order_by("-finished_at", "-started_at", "-id")
        .first()
    )
    measured_rpo = (now - verified.completed_at).total_seconds() if verified else None
    details["newest_verified_age_seconds"] = measured_rpo
    if age > limit_minutes * 60:
        message = _("The newest good backup is %(age)s minutes old; the limit is %(limit)s minutes.") % {
            "age": int(age // 60),
            "limit": limit_minutes,
        }
        result = Result.FAIL
    else:
        message = _("The newest good backup is %(age)s minutes old.") % {"age": int(age // 60)}
        result = Result.PASS
    return _record(
        policy=policy,
        kind=Kind.FRESHNESS,
        result=result,
        message=message,
        started_at=now,
        run=run,
        details=details,
        measured_rpo_seconds=measured_rpo,
    )


def verify_size(*, policy: BackupPolicy, now=None) -> Verification:
    now = now or timezone.now()
    run = _newest_good(policy)
    if run is None or run.size_bytes is None:
        return _record(
            policy=policy,
            kind=Kind.SIZE,
            result=Result.FAIL,
            run=run,
            started_at=now,
            message=_("No successful backup with a known size."),
        )
    previous = (
        _good_runs(policy)
        .exclude(pk=run.pk)
        .exclude(size_bytes=None)
        .filter(started_at__lt=run.started_at)
        .exclude(backup_set=run.backup_set)
        .order_by("-started_at")
        .values_list("size_bytes", flat=True)[:SIZE_TREND_WINDOW]
    )
    sizes = list(previous)
    median = statistics.median(sizes) if sizes else None
    details = {"size_bytes": run.size_bytes, "median_bytes": median, "samples": len(sizes)}
    if run.size_bytes < policy.min_size_bytes or run.size_bytes == 0:
        result = Result.FAIL
        message = _("The backup is %(size)s bytes, below the minimum of %(min)s bytes.") % {
            "size": run.size_bytes,
            "min": policy.min_size_bytes,
        }
    elif median and run.size_bytes < median * policy.shrink_alert_ratio:
        result = Result.FAIL
        message = _("The backup is %(size)s bytes, %(pct)s%% of the recent median (%(median)s bytes).") % {
            "size": run.size_bytes,
            "pct": int(100 * run.size_bytes / median),
            "median": int(median),
        }
    else:
        result = Result.PASS
        message = _("The backup is %(size)s bytes.") % {"size": run.size_bytes}
    return _record(
        policy=policy, kind=Kind.SIZE, result=result, message=message, started_at=now, run=run, details=details
    )


def verify_checksum(*, policy: BackupPolicy, now=None) -> Verification:
    now = now or timezone.now()
    run = _newest_readable(policy)
    if run is None:
        return _record(
            policy=policy,
            kind=Kind.CHECKSUM,
            result=Result.ERROR,
            started_at=now,
            message=_("No successful backup on a directory location to read."),
        )
    if not run.checksum_sha256:
        return _record(
            policy=policy,
            kind=Kind.CHECKSUM,
            result=Result.FAIL,
            started_at=now,
            run=run,
            message=_("No checksum was reported for %(path)s.") % {"path": run.file_path},
        )
    start = time.monotonic()
    try:
        actual = sha256_file(run.file_path)
    except OSError as exc:
        return _record(
            policy=policy,
            kind=Kind.CHECKSUM,
            result=Result.FAIL,
            started_at=now,
            run=run,
            message=_("Cannot read %(path)s: %(error)s") % {"path": run.file_path, "error": exc.strerror or exc},
        )
    duration = time.monotonic() - start
    details = {"expected": run.checksum_sha256, "actual": actual, "bytes": run.size_bytes}
    if actual != run.checksum_sha256:
        message = _("Checksum mismatch for %(path)s: reported %(expected)s…, file has %(actual)s….") % {
            "path": run.file_path,
            "expected": run.checksum_sha256[:12],
            "actual": actual[:12],
        }
        result = Result.FAIL
    else:
        message = _("Checksum matches.")
        result = Result.PASS
    return _record(
        policy=policy,
        kind=Kind.CHECKSUM,
        result=result,
        message=message,
        started_at=now,
        run=run,
        duration=duration,
        details=details,
    )


def copies_status(*, policy: BackupPolicy, run: BackupRun | None = None) -> dict:
    """The copies of the newest backup set across locations against the 3-2-1-1 rule."""
    from ..selectors import copies_from

    run = run or _newest_good(policy)
    if run is None:
        return {"backup_set": None, **copies_from(policy, [])}
    key = run.backup_set or Path(run.file_path).name
    return {"backup_set": key, **copies_from(policy, list(_good_runs(policy).filter(backup_set=key)))}


def verify_copies(*, policy: BackupPolicy, now=None) -> Verification:
    now = now or timezone.now()
    run = _newest_good(policy)
    status = copies_status(policy=policy, run=run)
    if status["missing"]:
        message = _("Backup set %(set)s misses: %(missing)s.") % {
            "set": status["backup_set"] or "-",
            "missing": ", ".join(status["missing"]),
        }
        result = Result.FAIL
    else:
        media = len(status["media"])
        message = _("%(copies)s on %(media)s, %(offsite)s off-site.") % {
            "copies": ngettext("%(n)s copy", "%(n)s copies", status["copies"]) % {"n": status["copies"]},
            "media": ngettext("%(n)s kind of media", "%(n)s kinds of media", media) % {"n": media},
            "offsite": status["offsite"],
        }
        result = Result.PASS
    return _record(
        policy=policy, kind=Kind.COPIES, result=result, message=message, started_at=now, run=run, details=status
    )


def scratch_database_name(policy: BackupPolicy, now=None) -> str:
    now = now or timezone.now()
    stamp = now.astimezone(datetime.UTC).strftime("%Y%m%d%H%M%S")
    return f"{restore.SCRATCH_PREFIX}{policy.pk}_{stamp}_{uuid.uuid4().hex[:6]}"


# --- Restore progress ----------------------------------------------------------------------------


@transaction.atomic
def restore_progress_start(*, policy: BackupPolicy, run: BackupRun) -> RestoreProgress:
    """Start (or restart, after a finished or dead one) the progress record of the policy."""
    now = timezone.now()
    progress, _created = RestoreProgress.objects.update_or_create(
        policy=policy,
        defaults={
            "run": run,
            "phase": RestoreProgress.Phase.PREPARING,
            "tables_done": 0,
            "tables_total": None,
            "current": "",
            "started_at": now,
            "updated_at": now,
            "finished_at": None,
        },
    )
    return progress


def restore_progress_update(
    *, progress: RestoreProgress, phase: str | None = None, done=None, total=None, current=None, finished=False
) -> None:
    """One UPDATE, committed at once (restore tests run outside a transaction) so the page sees it."""
    fields = {"updated_at": timezone.now()}
    if phase is not None:
        fields["phase"] = phase
    if done is not None:
        fields["tables_done"] = done
    if total is not None:
        fields["tables_total"] = total
    if current is not None:
        fields["current"] = str(current)[:255]
    if finished:
        fields["finished_at"] = fields["updated_at"]
        fields["phase"] = RestoreProgress.Phase.DONE
    RestoreProgress.objects.filter(pk=progress.pk).update(**fields)


class _ProgressWriter:
    """The callback the restore functions call for each table (pg_restore --verbose) or phase.
    Phase changes are written at once; table counts at most once per `every` seconds, so a dump
    of 10,000 small tables does not cost 10,000 UPDATEs."""

    def __init__(self, progress: RestoreProgress, every: float = 1.0):
        self.progress, self.every, self.last = progress, every, 0.0

    def __call__(self, *, phase: str | None = None, done=None, total=None, current=None) -> None:
        now = time.monotonic()
        if phase is None and now - self.last < self.every:
            return
        self.last = now
        restore_progress_update(progress=self.progress, phase=phase, done=done, total=total, current=current)


def restore_test(*, policy: BackupPolicy, run: BackupRun | None = None, now=None) -> Verification:
    """Restore the newest readable backup and check it. The duration is the measured recovery
    time; a restore slower than the service's RTO fails."""
    now = now or timezone.now()
    run = run or _newest_readable(policy)
    if run is None:
        return _record(
            policy=policy,
            kind=Kind.RESTORE,
            result=Result.ERROR,
            started_at=now,
            message=_("No successful backup on a directory location to restore."),
        )
    rto_seconds = policy.service.rto_minutes * 60
    progress = restore_progress_start(policy=policy, run=run)
    report = _ProgressWriter(progress)
    start = time.monotonic()
    try:
        if not os.path.isfile(run.file_path) or os.path.getsize(run.file_path) == 0:
            raise restore.RestoreError(_("The backup file %(path)s is missing or empty.") % {"path": run.file_path})
        fmt = restore.detect_format(run.file_path)
        if fmt in ("tar", "zip"):
            report(phase=RestoreProgress.Phase.EXTRACTING)
            ok, message, details = restore.restore_archive(
                path=run.file_path, fmt=fmt, expected_files=policy.expected_files
            )
        else:
            if not policy.scratch_target:
                raise restore.RestoreError(_("The policy has no scratch target for restore tests."))
            ok, message, details = restore.restore_postgres(
                path=run.file_path,
                fmt=fmt,
                scratch_url=policy.scratch_target,
                scratch_name=scratch_database_name(policy, now),
                expected_tables=policy.expected_tables,
                sanity_queries=policy.sanity_queries,
                progress=report,
            )
        result = Result.PASS if ok else Result.FAIL
    except restore.RestoreError as exc:
        ok, result, message, details = False, Result.FAIL, str(exc), {}
    finally:
        restore_progress_update(progress=progress, finished=True)
    duration = time.monotonic() - start
    details.update({"rto_seconds": rto_seconds, "within_rto": duration <= rto_seconds})
    if ok and duration > rto_seconds:
        result = Result.FAIL
        message = _("Restored in %(d)s s, longer than the RTO of %(rto)s s.") % {"d": int(duration), "rto": rto_seconds}
    return _record(
        policy=policy,
        kind=Kind.RESTORE,
        result=result,
        message=message,
        started_at=now,
        run=run,
        duration=duration,
        details=details,
    )


def restore_due(policy: BackupPolicy, now=None) -> bool:
    now = now or timezone.now()
    last = policy.verifications.filter(kind=Kind.RESTORE).order_by("-started_at").first()
    return last is None or last.started_at + datetime.timedelta(days=policy.restore_test_every_days) <= now


def verify_policy(*, policy: BackupPolicy, kinds=None, now=None, pass_key: str = "") -> list[Verification]:
    """Run the checks of a policy: freshness, size, checksum and copies each time; the restore
    test when it is due (or when asked for in `kinds`). With a `pass_key`, a check this pass
    already recorded is not run again (a re-delivered task after a worker died)."""
    now = now or timezone.now()
    policy = BackupPolicy.objects.select_related("service").get(pk=policy.pk)
    if kinds is None:
        kinds = [Kind.FRESHNESS, Kind.SIZE, Kind.CHECKSUM, Kind.COPIES]
        if restore_due(policy, now) or (
            pass_key and policy.verifications.filter(kind=Kind.RESTORE, pass_key=pass_key).exists()
        ):
            kinds.append(Kind.RESTORE)
    # Freshness last: its measured RPO is the age of the newest backup proven usable, which the
    # checksum and restore checks of this very pass may have just proven.
    order = [Kind.SIZE, Kind.CHECKSUM, Kind.COPIES, Kind.RESTORE, Kind.FRESHNESS]
    kinds = sorted(kinds, key=lambda k: order.index(k) if k in order else len(order))
    checks = {
        Kind.FRESHNESS: verify_freshness,
        Kind.SIZE: verify_size,
        Kind.CHECKSUM: verify_checksum,
        Kind.COPIES: verify_copies,
        Kind.RESTORE: restore_test,
    }
    done = []
    for kind in kinds:
        if pass_key:
            recorded = policy.verifications.filter(kind=kind, pass_key=pass_key).first()
            if recorded is not None:
                done.append(recorded)
                continue
        try:
            with _pass(pass_key):
                done.append(checks[kind](policy=policy, now=now))
        except IntegrityError:  # a twin task recorded this check of the pass first
            done.append(policy.verifications.get(kind=kind, pass_key=pass_key))
        except Exception as exc:  # one broken check must not stop the others
            logger.exception("backup verification %s of policy %s crashed", kind, policy.pk)
            done.append(
                _record(
                    policy=policy,
                    kind=kind,
                    result=Result.ERROR,
                    started_at=now,
                    message=str(exc)[:1000],
                    pass_key=pass_key,
                )
            )
    return done


_current_pass = threading.local()


@contextlib.contextmanager
def _pass(pass_key: str):
    """The pass key the checks' _record() calls store (kept out of every check's signature)."""
    _current_pass.key = pass_key
    try:
        yield
    finally:
        _current_pass.key = ""
