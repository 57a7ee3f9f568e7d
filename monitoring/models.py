"""Monitoring: checks (one thing of one ERP service, polled or pushed), their samples, and the
hourly aggregates that raw samples become after the retention period.

The foreign key from a sample to its check is `monitor_check`: a field named `check` would hide
Django's Model.check() class method."""

from __future__ import annotations

import datetime
import os
import re
import secrets
from urllib.parse import urlsplit

from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from backups.models import mask_url_password

SECRET_SETTINGS = ("database_url",)
HTTP_METHODS = ("GET", "HEAD", "POST")
READ_ONLY_QUERY = re.compile(r"^\s*(select|with)\b", re.IGNORECASE)
WRITE_WORDS = re.compile(
    r"\b(insert|update|delete|merge|drop|alter|create|truncate|grant|revoke|copy|call|do|lock|vacuum|set)\b",
    re.IGNORECASE,
)


EVENT_RULES = ("count", "outside_hours")


def log_dirs() -> list[str]:
    """Directories log pattern checks may read (settings.MONITORING_LOG_DIRS), so a check cannot
    be pointed at any file the worker can read."""
    return list(getattr(django_settings, "MONITORING_LOG_DIRS", ["/var/log"]))


def _within(path: str, root: str) -> bool:
    path, root = os.path.realpath(path), os.path.realpath(root)
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _parse_hhmm(value) -> datetime.time | None:
    if not isinstance(value, str) or not re.fullmatch(r"\d{1,2}:\d{2}", value):
        return None
    hours, minutes = (int(x) for x in value.split(":"))
    if hours > 23 or minutes > 59:
        return None
    return datetime.time(hours, minutes)


def _new_token() -> str:
    return secrets.token_urlsafe(24)


def validate_read_only_query(query: str) -> None:
    """One SELECT or WITH statement, nothing that writes. The probe also runs it in a read-only
    transaction; this check gives a clear error when the check is saved."""
    text = (query or "").strip().rstrip(";").strip()
    if not text:
        raise ValidationError(_("Give a query."))
    if ";" in text:
        raise ValidationError(_("Give a single statement."))
    if not READ_ONLY_QUERY.match(text):
        raise ValidationError(_("Only a SELECT or WITH query is allowed."))
    if WRITE_WORDS.search(re.sub(r"'[^']*'", "''", text)):
        raise ValidationError(_("The query must only read (no INSERT, UPDATE, DELETE, DDL …)."))


def mask_settings(settings: dict) -> dict:
    """The settings with secrets masked, safe to show on a page, in the API or in a log."""
    masked = dict(settings or {})
    for key in SECRET_SETTINGS:
        if masked.get(key):
            masked[key] = mask_url_password(str(masked[key]))
    return masked


class Check(models.Model):
    class Kind(models.TextChoices):
        HTTP = "http", _("HTTP")
        TCP = "tcp", _("TCP")
        SQL = "sql", _("SQL query")
        PROMETHEUS = "prometheus", _("Prometheus query")
        LOG_PATTERN = "log_pattern", _("Log pattern")
        EVENT_RULE = "event_rule", _("Security or behaviour rule")
        HEARTBEAT = "heartbeat", _("Heartbeat")

    class Comparison(models.TextChoices):
        GT = "gt", _("above")
        GE = "ge", _("at or above")
        LT = "lt", _("below")
        LE = "le", _("at or below")

    class State(models.TextChoices):
        OK = "ok", _("OK")
        WARNING = "warning", _("Warning")
        # "Critical" is also a risk level, worded differently in Chinese: a context of its own.
        CRITICAL = "critical", pgettext_lazy("check state", "Critical")
        UNKNOWN = "unknown", _("Unknown")

    POLLED_KINDS = (
        Kind.HTTP, Kind.TCP, Kind.SQL, Kind.PROMETHEUS, Kind.HEARTBEAT, Kind.LOG_PATTERN, Kind.EVENT_RULE,
    )  # fmt: skip
    # Probed concurrently in batches by one task (asyncio), not one task per check.
    BATCHED_KINDS = (Kind.HTTP, Kind.TCP)

    service = models.ForeignKey(
        "plans.ERPService", on_delete=models.CASCADE, related_name="checks", verbose_name=_("service")
    )
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    settings = models.JSONField(_("settings"), default=dict, blank=True)
    interval_seconds = models.PositiveIntegerField(
        _("interval (seconds)"), default=60, validators=[MinValueValidator(5)]
    )
    timeout_seconds = models.PositiveIntegerField(_("timeout (seconds)"), default=10, validators=[MinValueValidator(1)])
    comparison = models.CharField(_("comparison"), max_length=2, choices=Comparison.choices, default=Comparison.GT)
    warning_threshold = models.FloatField(_("warning threshold"), null=True, blank=True)
    critical_threshold = models.FloatField(_("critical threshold"), null=True, blank=True)
    breaches_to_fire = models.PositiveSmallIntegerField(
        _("breaches before firing"), default=1, validators=[MinValueValidator(1)]
    )
    recoveries_to_clear = models.PositiveSmallIntegerField(
        _("good results before recovery"), default=1, validators=[MinValueValidator(1)]
    )
    use_baseline = models.BooleanField(
        _("use a learned baseline"),
        default=False,
        help_text=_("Flag values far from the mean of the same hour of day over the recent days."),
    )
    baseline_sigma = models.FloatField(_("baseline deviations"), default=3.0, validators=[MinValueValidator(0.5)])
    paused = models.BooleanField(_("paused"), default=False)
    next_run_at = models.DateTimeField(_("next run"), null=True, blank=True)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.UNKNOWN)
    consecutive_breaches = models.PositiveIntegerField(default=0, verbose_name=_("bad results in a row"))
    consecutive_ok = models.PositiveIntegerField(default=0, verbose_name=_("good results in a row"))
    last_value = models.FloatField(_("last value"), null=True, blank=True)
    last_run_at = models.DateTimeField(_("last run"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    last_ping_at = models.DateTimeField(_("last ping"), null=True, blank=True)
    # Log pattern checks reading a file: {"inode": …, "offset": …} of the next unread byte.
    log_cursor = models.JSONField(default=dict, blank=True, editable=False, verbose_name=_("log position"))
    token = models.CharField(_("push token"), max_length=64, unique=True, default=_new_token, editable=False)
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created"))

    class Meta:
        ordering = ["service__name", "name", "id"]
        verbose_name = _("check")
        verbose_name_plural = _("checks")
        permissions = [("push_metrics", _("Can push metrics, heartbeats and alerts"))]
        indexes = [models.Index(fields=["paused", "next_run_at"]), models.Index(fields=["state"])]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("monitoring:check-detail", args=[self.pk])

    @property
    def unit(self) -> str:
        """The unit of this check's values, where its kind fixes one: probe times in ms, a
        heartbeat's age in minutes. Counts, query results and PromQL values carry their own."""
        if self.kind in (self.Kind.HTTP, self.Kind.TCP):
            return "ms"
        if self.kind == self.Kind.HEARTBEAT:
            return "min"
        return ""

    @property
    def masked_settings(self) -> dict:
        return mask_settings(self.settings)

    # --- validation --------------------------------------------------------------------------

    def clean(self) -> None:
        super().clean()
        if not isinstance(self.settings, dict):
            raise ValidationError({"settings": _("Settings must be an object.")})
        errors: dict[str, str] = {}
        cleaner = getattr(self, f"_clean_{self.kind}", None)
        if cleaner:
            cleaner(self.settings, errors)
        # HTTP and TCP checks breach on an error alone; other kinds need a threshold or the baseline.
        needs_threshold = (
            self.kind not in (self.Kind.HEARTBEAT, self.Kind.HTTP, self.Kind.TCP)
            and not self.use_baseline
            and not (self.kind == self.Kind.EVENT_RULE and self.settings.get("rule") == "outside_hours")
        )
        if needs_threshold and self.warning_threshold is None and self.critical_threshold is None:
            errors["warning_threshold"] = _("Give a warning or critical threshold, or use the baseline.")
        if self.warning_threshold is not None and self.critical_threshold is not None:
            worse = self.critical_threshold >= self.warning_threshold
            if self.comparison in ("lt", "le"):
                worse = self.critical_threshold <= self.warning_threshold
            if not worse:
                errors["critical_threshold"] = _("The critical threshold must be worse than the warning one.")
        if errors:
            raise ValidationError(
                {f"settings.{k}" if not k.endswith("_threshold") else k: v for k, v in errors.items()}
            )

    @staticmethod
    def _url(settings, errors, key, schemes=("http", "https")) -> None:
        value = settings.get(key)
        if not value or not isinstance(value, str):
            errors[key] = _("Give a URL.")
            return
        parts = urlsplit(value)
        if parts.scheme not in schemes or not parts.netloc:
            errors[key] = _("Give a URL starting with %(schemes)s.") % {"schemes": " or ".join(schemes)}

    @staticmethod
    def _positive(settings, errors, key, *, required=False, maximum=None) -> None:
        value = settings.get(key)
        if value is None:
            if required:
                errors[key] = _("Give a number.")
            return
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            errors[key] = _("Give a positive number.")
        elif maximum and value > maximum:
            errors[key] = _("At most %(max)s.") % {"max": maximum}

    def _clean_http(self, s, errors) -> None:
        self._url(s, errors, "url")
        method = s.get("method", "GET")
        if method not in HTTP_METHODS:
            errors["method"] = _("Use one of %(methods)s.") % {"methods": ", ".join(HTTP_METHODS)}
        status = s.get("expected_status", 200)
        if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
            errors["expected_status"] = _("Give an HTTP status between 100 and 599.")
        if not isinstance(s.get("body_contains", ""), str):
            errors["body_contains"] = _("Give text.")
        self._positive(s, errors, "timeout", maximum=120)

    def _clean_tcp(self, s, errors) -> None:
        if not s.get("host") or not isinstance(s.get("host"), str):
            errors["host"] = _("Give a host name or address.")
        port = s.get("port")
        if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
            errors["port"] = _("Give a port between 1 and 65535.")

    def _clean_sql(self, s, errors) -> None:
        url = s.get("database_url")
        if not isinstance(url, str) or not url.startswith("sqlite:///"):
            self._url(s, errors, "database_url", schemes=("postgres", "postgresql"))
        try:
            validate_read_only_query(s.get("query", ""))
        except ValidationError as e:
            errors["query"] = e.messages[0]

    def _clean_prometheus(self, s, errors) -> None:
        self._url(s, errors, "server_url")
        if not s.get("expression") or not isinstance(s.get("expression"), str):
            errors["expression"] = _("Give a PromQL expression.")

    def _clean_heartbeat(self, s, errors) -> None:
        self._positive(s, errors, "every_minutes", required=True)
        self._positive(s, errors, "grace_minutes")

    def _clean_log_pattern(self, s, errors) -> None:
        pattern = s.get("pattern")
        if not pattern or not isinstance(pattern, str):
            errors["pattern"] = _("Give a regular expression.")
        else:
            try:
                re.compile(pattern)
            except re.error as e:
                errors["pattern"] = _("Not a valid regular expression: %(error)s") % {"error": e}
        self._positive(s, errors, "window_minutes", maximum=24 * 60)
        path = s.get("path", "")
        if path:
            if not isinstance(path, str) or not os.path.isabs(path):
                errors["path"] = _("Give an absolute file path, or leave it empty for lines pushed through the API.")
            elif not any(_within(path, root) for root in log_dirs()):
                errors["path"] = _("Log files must be under %(dirs)s (setting MONITORING_LOG_DIRS).") % {
                    "dirs": ", ".join(log_dirs()) or "—"
                }

    def _clean_event_rule(self, s, errors) -> None:
        if s.get("event") not in Event.Kind.values or s.get("event") == Event.Kind.LOG:
            errors["event"] = _("Use one of %(kinds)s.") % {
                "kinds": ", ".join(k for k in Event.Kind.values if k != Event.Kind.LOG)
            }
        rule = s.get("rule", "count")
        if rule not in EVENT_RULES:
            errors["rule"] = _("Use one of %(rules)s.") % {"rules": ", ".join(EVENT_RULES)}
        if s.get("group_by", "") not in ("", "user", "source"):
            errors["group_by"] = _('Use "user", "source" or nothing.')
        self._positive(s, errors, "window_minutes", maximum=7 * 24 * 60)
        if rule == "outside_hours":
            for key, default in (("work_start", "08:00"), ("work_end", "18:00")):
                if not _parse_hhmm(s.get(key, default)):
                    errors[key] = _("Give a time as HH:MM.")
            days = s.get("work_days", [1, 2, 3, 4, 5])
            if (
                not isinstance(days, list)
                or not days
                or any(isinstance(d, bool) or not isinstance(d, int) or not 1 <= d <= 7 for d in days)
            ):
                errors["work_days"] = _("Give the working days as numbers 1 (Monday) to 7 (Sunday).")


class Sample(models.Model):
    class Status(models.TextChoices):
        OK = "ok", _("OK")
        WARNING = "warning", _("Warning")
        # "Critical" is also a risk level, worded differently in Chinese: a context of its own.
        CRITICAL = "critical", pgettext_lazy("check state", "Critical")
        UNKNOWN = "unknown", _("Unknown")

    monitor_check = models.ForeignKey(Check, on_delete=models.CASCADE, related_name="samples", verbose_name=_("check"))
    at = models.DateTimeField(_("at"))
    value = models.FloatField(_("value"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OK)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("sample")
        verbose_name_plural = _("samples")
        indexes = [models.Index(fields=["monitor_check", "at"])]

    def __str__(self) -> str:
        return f"{self.monitor_check_id} @ {self.at:%Y-%m-%d %H:%M:%S}: {self.value}"


class HourlyAggregate(models.Model):
    monitor_check = models.ForeignKey(Check, on_delete=models.CASCADE, related_name="hourly", verbose_name=_("check"))
    hour = models.DateTimeField(_("hour"))
    min_value = models.FloatField(null=True, verbose_name=_("minimum"))
    max_value = models.FloatField(null=True, verbose_name=_("maximum"))
    avg_value = models.FloatField(null=True, verbose_name=_("average"))
    count = models.PositiveIntegerField(default=0, verbose_name=_("samples"))

    class Meta:
        ordering = ["-hour"]
        verbose_name = _("hourly aggregate")
        verbose_name_plural = _("hourly aggregates")
        constraints = [models.UniqueConstraint(fields=["monitor_check", "hour"], name="monitoring_hourly_unique")]

    def __str__(self) -> str:
        return f"{self.monitor_check_id} @ {self.hour:%Y-%m-%d %H:00}"


class Event(models.Model):
    """A pushed log line or security/behaviour event (and the lines of a log file that matched a
    log pattern check). Log pattern and event rule checks count these per window; they are kept
    for EVENT_RETENTION_DAYS (monitoring/services.py)."""

    class Kind(models.TextChoices):
        LOG = "log", _("Log line")
        LOGIN_FAILURE = "login_failure", _("Login failure")
        PRIVILEGED = "privileged_operation", _("Privileged operation")
        DELETION = "deletion", _("Deletion")

    service = models.ForeignKey(
        "plans.ERPService", on_delete=models.CASCADE, related_name="monitoring_events", verbose_name=_("service")
    )
    monitor_check = models.ForeignKey(
        Check, on_delete=models.CASCADE, null=True, blank=True, related_name="events", verbose_name=_("check")
    )
    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)
    at = models.DateTimeField(_("at"))
    user = models.CharField(_("user"), max_length=150, blank=True)
    source = models.CharField(_("source"), max_length=255, blank=True)
    message = models.TextField(_("message"), blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("event")
        verbose_name_plural = _("events")
        indexes = [models.Index(fields=["service", "kind", "at"]), models.Index(fields=["at"])]

    def __str__(self) -> str:
        return f"{self.kind} @ {self.at:%Y-%m-%d %H:%M:%S}"
