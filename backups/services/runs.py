"""Run reports from the API (start, finish, fail), stale runs and directory scans."""

from __future__ import annotations

import datetime
import fnmatch
import os
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from incidents.services import raise_alert, resolve_alert
from plans.models import Severity

from ..models import BackupLocation, BackupPolicy, BackupRun
from ._common import ALERT_SOURCE, _inside

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
