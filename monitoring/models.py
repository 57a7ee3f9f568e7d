"""Monitoring: checks (one thing of one ERP service, polled or pushed), their samples, and the
hourly aggregates that raw samples become after the retention period.

The foreign key from a sample to its check is `monitor_check`: a field named `check` would hide
Django's Model.check() class method."""

from __future__ import annotations

import re
import secrets
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from backups.models import mask_url_password

SECRET_SETTINGS = ("database_url",)
HTTP_METHODS = ("GET", "HEAD", "POST")
READ_ONLY_QUERY = re.compile(r"^\s*(select|with)\b", re.IGNORECASE)
WRITE_WORDS = re.compile(
    r"\b(insert|update|delete|merge|drop|alter|create|truncate|grant|revoke|copy|call|do|lock|vacuum|set)\b",
    re.IGNORECASE,
)


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
        CRITICAL = "critical", _("Critical")
        UNKNOWN = "unknown", _("Unknown")

    POLLED_KINDS = (Kind.HTTP, Kind.TCP, Kind.SQL, Kind.PROMETHEUS, Kind.HEARTBEAT)

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
    consecutive_breaches = models.PositiveIntegerField(default=0)
    consecutive_ok = models.PositiveIntegerField(default=0)
    last_value = models.FloatField(_("last value"), null=True, blank=True)
    last_run_at = models.DateTimeField(_("last run"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    last_ping_at = models.DateTimeField(_("last ping"), null=True, blank=True)
    token = models.CharField(_("push token"), max_length=64, unique=True, default=_new_token, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["service__name", "name", "id"]
        verbose_name = _("check")
        verbose_name_plural = _("checks")
        permissions = [("push_metrics", _("Can push metrics, heartbeats and alerts"))]
        indexes = [models.Index(fields=["paused", "next_run_at"]), models.Index(fields=["state"])]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return f"/monitoring/checks/{self.pk}/"

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
            self.kind not in (self.Kind.HEARTBEAT, self.Kind.HTTP, self.Kind.TCP) and not self.use_baseline
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
        try:
            re.compile(s.get("pattern") or "")
        except re.error as e:
            errors["pattern"] = _("Not a valid regular expression: %(error)s") % {"error": e}
        if not s.get("pattern"):
            errors["pattern"] = _("Give a regular expression.")


class Sample(models.Model):
    class Status(models.TextChoices):
        OK = "ok", _("OK")
        WARNING = "warning", _("Warning")
        CRITICAL = "critical", _("Critical")
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
    min_value = models.FloatField(null=True)
    max_value = models.FloatField(null=True)
    avg_value = models.FloatField(null=True)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-hour"]
        verbose_name = _("hourly aggregate")
        verbose_name_plural = _("hourly aggregates")
        constraints = [models.UniqueConstraint(fields=["monitor_check", "hour"], name="monitoring_hourly_unique")]

    def __str__(self) -> str:
        return f"{self.monitor_check_id} @ {self.hour:%Y-%m-%d %H:00}"
