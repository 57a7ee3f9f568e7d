"""Every state change of backups/: run reports (API), directory scans, verifications and the tick.

Keyword-only functions. A failed verification raises an alert into incidents (source "backups",
fingerprint "policy-<id>-<kind>"); the next passing one of the same kind resolves it.
"""

from __future__ import annotations

import contextlib
import datetime
import fnmatch
import hashlib
import logging
import os
import statistics
import threading
import time
import uuid
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from incidents.services import raise_alert, resolve_alert
from plans.models import ERPService, Severity

from . import restore
from .models import BackupLocation, BackupPolicy, BackupRun, RestoreProgress, Verification

logger = logging.getLogger(__name__)

ALERT_SOURCE = "backups"
CHUNK_SIZE = 1024 * 1024
SIZE_TREND_WINDOW = 7
Kind = Verification.Kind
Result = Verification.Result


# --- Checksums -----------------------------------------------------------------------------------


def sha256_file(path: str | os.PathLike, *, chunk_size: int = CHUNK_SIZE) -> str:
    """SHA-256 of a file, streamed through one reused buffer: memory stays at `chunk_size`."""
    digest = hashlib.sha256()
    buffer = bytearray(chunk_size)
    view = memoryview(buffer)
    with open(path, "rb", buffering=0) as handle:
        while True:
            n = handle.readinto(buffer)
            if not n:
                break
            digest.update(view[:n])
    return digest.hexdigest()


# --- Policies and locations ----------------------------------------------------------------------


@transaction.atomic
def policy_create(*, service: ERPService, name: str, **fields) -> BackupPolicy:
    policy = BackupPolicy(service=service, name=(name or "").strip(), **fields)
    policy.full_clean()
    policy.save()
    return policy


@transaction.atomic
def policy_update(*, policy: BackupPolicy, **fields) -> BackupPolicy:
    for name, value in fields.items():
        setattr(policy, name, value)
    policy.full_clean()
    policy.save()
    return policy


@transaction.atomic
def policy_delete(*, policy: BackupPolicy) -> None:
    """Delete the policy with its locations, runs and verifications, and resolve its alerts:
    nothing is left to verify, so nothing can be failing."""
    kinds = list(Verification.Kind.values)
    pk = policy.pk
    policy.delete()
    for kind in kinds:
        resolve_alert(source=ALERT_SOURCE, fingerprint=f"policy-{pk}-{kind}")


@transaction.atomic
def location_create(*, policy: BackupPolicy, name: str, **fields) -> BackupLocation:
    location = BackupLocation(policy=policy, name=(name or "").strip(), **fields)
    location.full_clean()
    location.save()
    return location


@transaction.atomic
def location_update(*, location: BackupLocation, **fields) -> BackupLocation:
    for name, value in fields.items():
        setattr(location, name, value)
    if "name" in fields:
        location.name = (location.name or "").strip()
    location.full_clean()
    location.save()
    return location


@transaction.atomic
def location_delete(*, location: BackupLocation) -> None:
    """Delete the location and the runs recorded on it (the files themselves are not touched)."""
    location.delete()


# --- Run reports (API) ---------------------------------------------------------------------------


def _clean_checksum(value: str) -> str:
    value = (value or "").strip().lower()
    if value and (len(value) != 64 or any(c not in "0123456789abcdef" for c in value)):
        raise ValidationError({"checksum_sha256": _("Give the SHA-256 as 64 hexadecimal characters.")})
    return value


def _check_location(policy: BackupPolicy, location: BackupLocation) -> None:
    if location.policy_id != policy.pk:
        raise ValidationError({"location": _("This location belongs to another policy.")})


@transaction.atomic
def run_report_start(*, policy: BackupPolicy, location: BackupLocation, backup_set: str = "", at=None) -> BackupRun:
    _check_location(policy, location)
    run = BackupRun(
        policy=policy,
        location=location,
        backup_set=(backup_set or "").strip(),
        started_at=at or timezone.now(),
        status=BackupRun.Status.RUNNING,
        source=BackupRun.Source.API,
    )
    run.full_clean()
    run.save()
    return run


def _running(run: BackupRun) -> BackupRun:
    run = BackupRun.objects.select_for_update().get(pk=run.pk)
    if run.status != BackupRun.Status.RUNNING:
        raise ValidationError(
            {"run": _("This run already finished (%(status)s).") % {"status": run.get_status_display()}}
        )
    return run


@transaction.atomic
def run_report_finish(
    *, run: BackupRun, file_path: str, size_bytes: int | None = None, checksum_sha256: str = "", at=None
) -> BackupRun:
    """Success with the file. If a scan already found this file, the report lands on that record
    (the placeholder run is removed), so one backup file is one record."""
    run = _running(run)
    file_path = (file_path or "").strip()
    if not file_path:
        raise ValidationError({"file_path": _("Give the path of the backup file.")})
    if size_bytes is not None and size_bytes < 0:
        raise ValidationError({"size_bytes": _("The size cannot be negative.")})
    checksum = _clean_checksum(checksum_sha256)
    if run.location.is_directory and not _inside(run.location, file_path):
        raise ValidationError(
            {"file_path": _("The file must be inside the location's directory %(path)s.") % {"path": run.location.path}}
        )
    now = at or timezone.now()
    existing = BackupRun.objects.select_for_update().filter(location=run.location, file_path=file_path).first()
    if existing is not None:
        existing.started_at = min(existing.started_at, run.started_at)
        existing.backup_set = run.backup_set or existing.backup_set
        run.delete()
        run = existing
    run.file_path = file_path
    run.backup_set = run.backup_set or Path(file_path).name
    run.finished_at = now
    run.status = BackupRun.Status.SUCCEEDED
    run.source = BackupRun.Source.API
    if size_bytes is not None:
        run.size_bytes = size_bytes
    if checksum:
        run.checksum_sha256 = checksum
    run.full_clean()
    run.save()
    return run


@transaction.atomic
def run_report_fail(*, run: BackupRun, message: str, at=None) -> BackupRun:
    run = _running(run)
    message = (message or "").strip()
    if not message:
        raise ValidationError({"message": _("Say why the backup failed.")})
    run.status = BackupRun.Status.FAILED
    run.finished_at = at or timezone.now()
    run.message = message[:5000]
    run.save(update_fields=["status", "finished_at", "message"])
    return run


@transaction.atomic
def mark_stale_runs(*, now=None) -> int:
    """A run that started and did not finish within its policy's grace is a failure."""
    now = now or timezone.now()
    count = 0
    stale = (
        BackupRun.objects.select_for_update(skip_locked=True)
        .select_related("policy")
        .filter(status=BackupRun.Status.RUNNING)
    )
    for run in stale:
        if run.started_at + datetime.timedelta(minutes=run.policy.grace_minutes) < now:
            run.status = BackupRun.Status.FAILED
            run.finished_at = now
            run.message = _("Started but never reported its end within the grace of %(grace)s minutes.") % {
                "grace": run.policy.grace_minutes
            }
            run.save(update_fields=["status", "finished_at", "message"])
            count += 1
    return count


# --- Scans ---------------------------------------------------------------------------------------


@transaction.atomic
def scan_location(*, location: BackupLocation) -> list[BackupRun]:
    """Record every file of a directory location matching its pattern. Idempotent: a known file
    only gets its size and modification time refreshed. Returns the runs created.

    A directory that is gone (an unmounted NFS share, a renamed folder) raises an alert for the
    location, resolved by the next scan that finds it again."""
    if not location.is_directory:
        return []
    base = Path(location.path)
    fingerprint = f"location-{location.pk}-scan"
    if not base.is_dir():
        raise_alert(
            source=ALERT_SOURCE,
            fingerprint=fingerprint,
            severity=Severity.SEV2,
            summary=(
                _("Backup location %(location)s cannot be scanned: the directory %(path)s does not exist.")
                % {"location": location.name, "path": location.path}
            )[:500],
            service=location.policy.service,
            details={"location": location.pk, "policy": location.policy_id},
        )
        return []
    resolve_alert(source=ALERT_SOURCE, fingerprint=fingerprint)
    known = {
        r.file_path: r for r in BackupRun.objects.select_for_update().filter(location=location).exclude(file_path="")
    }
    created = []
    pattern = location.file_pattern or "*"
    for entry in sorted(os.scandir(base), key=lambda e: e.name):
        if not entry.is_file() or not fnmatch.fnmatch(entry.name, pattern):
            continue
        stat = entry.stat()
        mtime = datetime.datetime.fromtimestamp(stat.st_mtime, tz=datetime.UTC)
        path = str(Path(entry.path))
        run = known.get(path)
        if run is None:
            created.append(
                BackupRun.objects.create(
                    policy_id=location.policy_id,
                    location=location,
                    backup_set=entry.name,
                    started_at=mtime,
                    finished_at=mtime,
                    status=BackupRun.Status.SUCCEEDED,
                    file_path=path,
                    size_bytes=stat.st_size,
                    file_mtime=mtime,
                    source=BackupRun.Source.SCAN,
                )
            )
        elif run.size_bytes != stat.st_size or run.file_mtime != mtime:
            run.size_bytes = stat.st_size
            run.file_mtime = mtime
            run.save(update_fields=["size_bytes", "file_mtime"])
    return created


# --- Verifications -------------------------------------------------------------------------------


def _good_runs(policy: BackupPolicy):
    return policy.runs.filter(status=BackupRun.Status.SUCCEEDED).select_related("location")


def _newest_good(policy: BackupPolicy) -> BackupRun | None:
    return _good_runs(policy).order_by("-finished_at", "-started_at", "-id").first()


def _inside(location: BackupLocation, file_path: str) -> bool:
    base = os.path.realpath(location.path)
    return os.path.realpath(os.path.join(base, file_path)).startswith(base.rstrip(os.sep) + os.sep)


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
    from .selectors import copies_from

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
        message = " ".join(
            [
                ngettext("%(n)s copy", "%(n)s copies", status["copies"]) % {"n": status["copies"]},
                ngettext("on %(m)s kind of media,", "on %(m)s kinds of media,", len(status["media"]))
                % {"m": len(status["media"])},
                _("%(o)s off-site.") % {"o": status["offsite"]},
            ]
        )
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


# --- The tick ------------------------------------------------------------------------------------


def claim_due_policies(*, now=None, limit: int = 50) -> list[int]:
    """Claim the policies due for verification (moving their next time forward) and enqueue one
    task each once the claim is committed. Safe for concurrent ticks (skip_locked)."""
    from . import tasks

    now = now or timezone.now()
    with transaction.atomic():
        due = list(
            BackupPolicy.objects.select_for_update(skip_locked=True)
            .filter(enabled=True)
            .filter(models_q_due("next_verification_at", now))
            .order_by("next_verification_at", "pk")[:limit]
        )
        for policy in due:
            policy.next_verification_at = now + datetime.timedelta(minutes=policy.verify_every_minutes)
            policy.save(update_fields=["next_verification_at"])
        ids = [p.pk for p in due]
        pass_key = f"tick-{now:%Y%m%dT%H%M%S.%f}"
        for pk in ids:
            transaction.on_commit(lambda pk=pk: tasks.verify_policy.delay(pk, None, pass_key))
    return ids


def claim_due_locations(*, now=None, limit: int = 100) -> list[int]:
    from . import tasks

    now = now or timezone.now()
    with transaction.atomic():
        due = list(
            BackupLocation.objects.select_for_update(skip_locked=True)
            .filter(kind__in=BackupLocation.DIRECTORY_KINDS)
            .exclude(path="")
            .filter(models_q_due("next_scan_at", now))
            .order_by("next_scan_at", "pk")[:limit]
        )
        for location in due:
            location.next_scan_at = now + datetime.timedelta(minutes=location.scan_every_minutes)
            location.save(update_fields=["next_scan_at"])
        ids = [loc.pk for loc in due]
        for pk in ids:
            transaction.on_commit(lambda pk=pk: tasks.scan_location.delay(pk))
    return ids


def models_q_due(field: str, now):
    from django.db.models import Q

    return Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__lte": now})


def request_verification(*, policy: BackupPolicy, kinds=None) -> None:
    """ "Verify now": enqueue a verification of the policy once the caller's transaction commits."""
    from . import tasks

    kinds = [str(k) for k in kinds] if kinds else None
    pass_key = f"now-{uuid.uuid4().hex[:16]}"
    transaction.on_commit(lambda: tasks.verify_policy.delay(policy.pk, kinds, pass_key))
