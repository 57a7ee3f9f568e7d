"""Backups, verified: policies (what, how often, the 3-2-1 rule), locations (where copies land),
runs (one record per backup file per location, reported by the API or found by a scan) and
verifications (one record per check, pass or fail)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


def mask_url_password(url: str) -> str:
    """The URL with its password replaced by ***, safe to show on a page or in a log."""
    if not url:
        return ""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    netloc = f"{parts.username or ''}:***@{host}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


EXPECTATION = re.compile(r"^\s*(zero|(>=|<=|==|>|<)\s*-?\d+(\.\d+)?)\s*$", re.IGNORECASE)


def _entry_error(index: int, message: str) -> ValidationError:
    return ValidationError(_("Entry %(n)s: %(message)s") % {"n": index + 1, "message": message})


def validate_sanity_queries(value) -> None:
    """A list of {"name", "sql", "expect"}: each query one SELECT whose first value is compared."""
    if not isinstance(value, list):
        raise ValidationError(_('Give a list, e.g. [{"name": "orphans", "sql": "SELECT ...", "expect": "zero"}].'))
    for i, entry in enumerate(value):
        if not isinstance(entry, dict) or not str(entry.get("sql", "")).strip():
            raise _entry_error(i, _('give an object with "name", "sql" and "expect".'))
        if not str(entry.get("name", "")).strip():
            raise _entry_error(i, _("give the query a name."))
        if not EXPECTATION.match(str(entry.get("expect", "zero"))):
            raise _entry_error(i, _('"expect" must be "zero", or a comparison such as ">0", "==3", ">=10".'))


def validate_expected_tables(value) -> None:
    if not isinstance(value, list):
        raise ValidationError(_('Give a list of table names, or of {"name": ..., "min_rows": N}.'))
    for i, entry in enumerate(value):
        if isinstance(entry, dict):
            name, min_rows = entry.get("name"), entry.get("min_rows", 0)
            if not isinstance(min_rows, int) or isinstance(min_rows, bool) or min_rows < 0:
                raise _entry_error(i, _('"min_rows" must be a whole number, 0 or more.'))
        else:
            name = entry
        if not isinstance(name, str) or not TABLE_NAME.match(name):
            raise _entry_error(i, _("give a table name such as orders or sales.orders."))


def validate_expected_files(value) -> None:
    if not isinstance(value, list):
        raise ValidationError(_('Give a list of paths, or of {"path": ..., "min_bytes": N}.'))
    for i, entry in enumerate(value):
        path, min_bytes = (entry.get("path"), entry.get("min_bytes", 0)) if isinstance(entry, dict) else (entry, 0)
        if not isinstance(path, str) or not path.strip() or path.startswith("/") or ".." in path.split("/"):
            raise _entry_error(i, _("give a relative path inside the archive, without ..."))
        if not isinstance(min_bytes, int) or isinstance(min_bytes, bool) or min_bytes < 0:
            raise _entry_error(i, _('"min_bytes" must be a whole number, 0 or more.'))


TABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)?$")


class BackupPolicy(models.Model):
    class What(models.TextChoices):
        DATABASE = "database", _("Database")
        FILE_STORE = "file_store", _("File store")
        CONFIGURATION = "configuration", _("Configuration")

    service = models.ForeignKey(
        "plans.ERPService", on_delete=models.CASCADE, related_name="backup_policies", verbose_name=_("service")
    )
    name = models.CharField(_("name"), max_length=120)
    what = models.CharField(_("what is backed up"), max_length=20, choices=What.choices, default=What.DATABASE)
    expected_frequency_minutes = models.PositiveIntegerField(
        _("expected frequency (minutes)"), default=1440, validators=[MinValueValidator(1)]
    )
    grace_minutes = models.PositiveIntegerField(
        _("grace (minutes)"), default=60, help_text=_("How late a backup may be, and how long a run may take.")
    )
    retention_days = models.PositiveIntegerField(_("retention (days)"), default=30)
    min_copies = models.PositiveSmallIntegerField(_("minimum copies"), default=3)
    min_media_kinds = models.PositiveSmallIntegerField(_("minimum kinds of media"), default=2)
    min_offsite = models.PositiveSmallIntegerField(_("minimum off-site copies"), default=1)
    require_offline_or_immutable = models.BooleanField(_("require an offline or immutable copy"), default=True)
    restore_test_every_days = models.PositiveIntegerField(
        _("restore test every (days)"), default=7, validators=[MinValueValidator(1)]
    )
    verify_every_minutes = models.PositiveIntegerField(
        _("verify every (minutes)"), default=60, validators=[MinValueValidator(1)]
    )
    scratch_target = models.CharField(
        _("scratch target"),
        max_length=500,
        blank=True,
        help_text=_(
            "PostgreSQL admin URL used to create and drop scratch databases for restore tests, "
            "e.g. postgresql://postgres:secret@db-test:5432/postgres. Never the production server."
        ),
    )
    sanity_queries = models.JSONField(
        _("sanity queries"),
        default=list,
        blank=True,
        help_text=_('A list of {"name": ..., "sql": ..., "expect": "zero" | ">0" | "==N" | ">=N" | "<=N"}.'),
    )
    expected_tables = models.JSONField(
        _("expected tables"),
        default=list,
        blank=True,
        help_text=_('Table names, or {"name": ..., "min_rows": N}.'),
    )
    expected_files = models.JSONField(
        _("expected files in archives"), default=list, blank=True, help_text=_("Paths inside a tar or zip archive.")
    )
    min_size_bytes = models.PositiveBigIntegerField(_("minimum size (bytes)"), default=1)
    shrink_alert_ratio = models.FloatField(
        _("shrink alert ratio"),
        default=0.5,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text=_("Fail when the newest backup is smaller than this share of the recent median."),
    )
    enabled = models.BooleanField(_("enabled"), default=True)
    next_verification_at = models.DateTimeField(_("next verification"), null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created"))

    class Meta:
        verbose_name = _("backup policy")
        verbose_name_plural = _("backup policies")
        ordering = ["service__criticality", "service__name", "name"]
        constraints = [models.UniqueConstraint(fields=["service", "name"], name="backups_policy_unique_name")]
        permissions = [("report_backup", _("Can report backup runs through the API"))]

    def __str__(self) -> str:
        return f"{self.service} – {self.name}"

    @property
    def scratch_target_display(self) -> str:
        return mask_url_password(self.scratch_target)

    def clean(self) -> None:
        errors = {}
        if self.min_copies is not None and self.min_copies < 1:
            errors["min_copies"] = _("A policy needs at least one copy.")
        elif self.min_copies is not None:
            if self.min_media_kinds is not None and self.min_media_kinds > self.min_copies:
                errors["min_media_kinds"] = _("There cannot be more kinds of media than copies (%(n)s).") % {
                    "n": self.min_copies
                }
            if self.min_offsite is not None and self.min_offsite > self.min_copies:
                errors["min_offsite"] = _("There cannot be more off-site copies than copies (%(n)s).") % {
                    "n": self.min_copies
                }
        if self.scratch_target and urlsplit(self.scratch_target).scheme not in ("postgres", "postgresql"):
            errors["scratch_target"] = _("Give a postgresql:// URL, or leave it empty.")
        for name, check in (
            ("sanity_queries", validate_sanity_queries),
            ("expected_tables", validate_expected_tables),
            ("expected_files", validate_expected_files),
        ):
            try:
                check(getattr(self, name))
            except ValidationError as exc:
                errors[name] = exc.messages
        if errors:
            raise ValidationError(errors)


class BackupLocation(models.Model):
    class Kind(models.TextChoices):
        LOCAL = "local", _("Local directory")
        NFS = "nfs", _("NFS directory")
        OBJECT_STORAGE = "object_storage", _("Object storage")
        TAPE = "tape", _("Tape")
        OFFLINE_VAULT = "offline_vault", _("Offline vault")

    DIRECTORY_KINDS = (Kind.LOCAL, Kind.NFS)

    policy = models.ForeignKey(
        BackupPolicy, on_delete=models.CASCADE, related_name="locations", verbose_name=_("policy")
    )
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.LOCAL)
    media_type = models.CharField(_("media type"), max_length=60, help_text=_("e.g. disk, object storage, LTO tape."))
    offsite = models.BooleanField(_("off-site"), default=False)
    immutable_or_offline = models.BooleanField(_("immutable or offline"), default=False)
    path = models.CharField(
        _("path"), max_length=500, blank=True, help_text=_("Directory, for local and NFS locations.")
    )
    file_pattern = models.CharField(
        _("file pattern"), max_length=200, blank=True, default="*", help_text=_("Glob, e.g. erp-*.dump")
    )
    scan_every_minutes = models.PositiveIntegerField(
        _("scan every (minutes)"), default=15, validators=[MinValueValidator(1)]
    )
    next_scan_at = models.DateTimeField(_("next scan"), null=True, blank=True, db_index=True)

    class Meta:
        verbose_name = _("backup location")
        verbose_name_plural = _("backup locations")
        ordering = ["policy", "name"]
        constraints = [models.UniqueConstraint(fields=["policy", "name"], name="backups_location_unique_name")]

    def __str__(self) -> str:
        return self.name

    @property
    def is_directory(self) -> bool:
        return self.kind in self.DIRECTORY_KINDS and bool(self.path)

    def clean(self) -> None:
        # Whether the directory exists is checked by the browser form (backups/forms.py): the
        # web server and the worker may not see the same disks, and demo data names example paths.
        errors = {}
        if self.kind in self.DIRECTORY_KINDS:
            if not self.path:
                errors["path"] = _("A directory location needs the path of its directory.")
            elif not self.path.startswith("/"):
                errors["path"] = _("Give an absolute path, starting with /.")
            pattern = self.file_pattern or ""
            if not pattern.strip():
                errors["file_pattern"] = _("Give a file pattern, e.g. erp-*.dump (* for every file).")
            elif "/" in pattern or "\\" in pattern or "\x00" in pattern:
                errors["file_pattern"] = _("The pattern matches file names in the directory: no / in it.")
            elif pattern.count("[") != pattern.count("]"):
                errors["file_pattern"] = _("Unbalanced [ ] in the pattern.")
        if errors:
            raise ValidationError(errors)


class BackupRun(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    class Source(models.TextChoices):
        API = "api", _("Reported through the API")
        SCAN = "scan", _("Found by a scan")

    policy = models.ForeignKey(BackupPolicy, on_delete=models.CASCADE, related_name="runs", verbose_name=_("policy"))
    location = models.ForeignKey(
        BackupLocation, on_delete=models.CASCADE, related_name="runs", verbose_name=_("location")
    )
    backup_set = models.CharField(
        _("backup set"),
        max_length=255,
        blank=True,
        help_text=_("Names one backup across its copies; defaults to the file name."),
    )
    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.RUNNING)
    file_path = models.CharField(_("file path"), max_length=1000, blank=True)
    size_bytes = models.PositiveBigIntegerField(_("size (bytes)"), null=True, blank=True)
    file_mtime = models.DateTimeField(_("file modified at"), null=True, blank=True)
    checksum_sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    message = models.TextField(_("message"), blank=True)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices, default=Source.API)

    class Meta:
        verbose_name = _("backup run")
        verbose_name_plural = _("backup runs")
        ordering = ["-started_at", "-id"]
        constraints = [
            # The API report and the scan of one file meet in one record.
            models.UniqueConstraint(
                fields=["location", "file_path"], condition=~Q(file_path=""), name="backups_run_unique_file"
            ),
        ]
        indexes = [
            models.Index(fields=["policy", "status", "started_at"]),
            models.Index(fields=["policy", "backup_set"]),
        ]

    def __str__(self) -> str:
        return self.file_path or f"run {self.pk}"

    @property
    def completed_at(self):
        return self.finished_at or self.file_mtime or self.started_at


class Verification(models.Model):
    class Kind(models.TextChoices):
        FRESHNESS = "freshness", _("Freshness")
        SIZE = "size", _("Size")
        CHECKSUM = "checksum", _("Checksum")
        COPIES = "copies", _("3-2-1-1-0 copies")
        RESTORE = "restore", _("Restore test")

    class Result(models.TextChoices):
        PASS = "pass", _("Pass")
        FAIL = "fail", _("Fail")
        ERROR = "error", _("Error")

    policy = models.ForeignKey(
        BackupPolicy, on_delete=models.CASCADE, related_name="verifications", verbose_name=_("policy")
    )
    run = models.ForeignKey(
        BackupRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="verifications", verbose_name=_("run")
    )
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    result = models.CharField(_("result"), max_length=6, choices=Result.choices)
    message = models.TextField(_("message"), blank=True)
    started_at = models.DateTimeField(_("started at"))
    duration_seconds = models.FloatField(_("duration (seconds)"), default=0)
    details = models.JSONField(_("details"), default=dict, blank=True)
    measured_rpo_seconds = models.FloatField(_("measured RPO (seconds)"), null=True, blank=True)
    # Names one scheduled (or "verify now") pass of a policy: a task re-delivered after a worker
    # died re-runs only the checks its pass has not recorded yet, so each is recorded once.
    pass_key = models.CharField(_("verification pass"), max_length=40, blank=True)

    class Meta:
        verbose_name = _("verification")
        verbose_name_plural = _("verifications")
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["policy", "kind", "started_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["policy", "kind", "pass_key"],
                condition=~Q(pass_key=""),
                name="backups_verification_once_per_pass",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.get_result_display()}"


class RestoreProgress(models.Model):
    """Where the running (or last) restore test of a policy is: written by the worker as the
    restore goes (phase, tables restored so far), read by the policy page, which refreshes itself
    while a restore runs. One row per policy, reused by the next restore test."""

    class Phase(models.TextChoices):
        PREPARING = "preparing", _("Preparing the scratch database")
        RESTORING = "restoring", _("Restoring")
        EXTRACTING = "extracting", _("Extracting the archive")
        CHECKING = "checking", _("Checking tables and sanity queries")
        DONE = "done", _("Done")

    # A restore whose worker has not written for this long is shown as stalled (the worker died or
    # hangs); the next restore test starts the record afresh.
    STALLED_AFTER_SECONDS = 600

    policy = models.OneToOneField(
        BackupPolicy, on_delete=models.CASCADE, related_name="restore_progress", verbose_name=_("policy")
    )
    run = models.ForeignKey(
        BackupRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("run")
    )
    phase = models.CharField(_("phase"), max_length=12, choices=Phase.choices, default=Phase.PREPARING)
    tables_done = models.PositiveIntegerField(_("tables restored"), default=0)
    tables_total = models.PositiveIntegerField(_("tables to restore"), null=True, blank=True)
    current = models.CharField(_("current item"), max_length=255, blank=True)
    started_at = models.DateTimeField(_("started at"))
    updated_at = models.DateTimeField(_("updated at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("restore progress")
        verbose_name_plural = _("restore progress")

    def __str__(self) -> str:
        return f"{self.policy}: {self.get_phase_display()}"

    @property
    def running(self) -> bool:
        return self.finished_at is None

    def stalled(self, now) -> bool:
        return self.running and (now - self.updated_at).total_seconds() > self.STALLED_AFTER_SECONDS

    @property
    def percent(self) -> int | None:
        if not self.tables_total:
            return None
        return min(100, int(100 * self.tables_done / self.tables_total))
