"""Alerts, the one entry point of every automatic source, and the silences that mute them."""

from __future__ import annotations

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from plans.models import ERPService, Severity

from .incidents import Incident

# --- Alerts and silences -----------------------------------------------------------------------


class AlertQuerySet(models.QuerySet):
    def active(self):
        return self.filter(status__in=Alert.ACTIVE_STATUSES)

    def firing(self):
        return self.filter(status=Alert.Status.FIRING)


class Alert(models.Model):
    class Status(models.TextChoices):
        FIRING = "firing", _("Firing")
        SILENCED = "silenced", _("Silenced")
        RESOLVED = "resolved", _("Resolved")

    ACTIVE_STATUSES = (Status.FIRING, Status.SILENCED)

    source = models.CharField(
        _("source"),
        max_length=64,
        help_text=_("What raised it: monitoring, backups, alertmanager, drill, an API client…"),
    )
    fingerprint = models.CharField(
        _("fingerprint"), max_length=255, help_text=_("Identifies the problem within its source, e.g. check:42.")
    )
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices)
    summary = models.CharField(_("summary"), max_length=500)
    service = models.ForeignKey(
        ERPService, on_delete=models.SET_NULL, null=True, blank=True, related_name="alerts", verbose_name=_("service")
    )
    details = models.JSONField(_("details"), default=dict, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.FIRING)
    first_seen = models.DateTimeField(_("first seen"), default=timezone.now)
    last_seen = models.DateTimeField(_("last seen"), default=timezone.now)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    count = models.PositiveIntegerField(_("times raised"), default=1)
    incident = models.ForeignKey(
        Incident, on_delete=models.SET_NULL, null=True, blank=True, related_name="alerts", verbose_name=_("incident")
    )
    silence = models.ForeignKey(
        "Silence",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="alerts",
        verbose_name=_("silenced by"),
    )
    is_drill = models.BooleanField(_("drill"), default=False)

    objects = AlertQuerySet.as_manager()

    class Meta:
        ordering = ["-last_seen", "-id"]
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        permissions = [("raise_alert", _("Can raise and resolve alerts through the API"))]
        constraints = [
            # The heart of deduplication: at most one active alert per (source, fingerprint). Two
            # concurrent raises of a new alert race on this index; the loser retries as a repeat.
            models.UniqueConstraint(
                fields=["source", "fingerprint"],
                condition=models.Q(status__in=["firing", "silenced"]),
                name="alert_one_active_per_fingerprint",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "last_seen"], name="alert_status_seen"),
            models.Index(fields=["source", "fingerprint", "last_seen"], name="alert_key_seen"),
        ]

    def __str__(self) -> str:
        return f"[{self.source}] {self.summary}"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE_STATUSES


class SilenceQuerySet(models.QuerySet):
    def active(self, at=None):
        at = at or timezone.now()
        return self.filter(starts_at__lte=at, ends_at__gt=at)


class Silence(models.Model):
    """Mutes matching alerts between starts_at and ends_at. Every given matcher must match (AND);
    at least one matcher is required so a silence never mutes everything by accident."""

    class Kind(models.TextChoices):
        SILENCE = "silence", _("Silence")
        MAINTENANCE = "maintenance", _("Maintenance window")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.SILENCE)
    service = models.ForeignKey(
        ERPService, on_delete=models.CASCADE, null=True, blank=True, related_name="silences", verbose_name=_("service")
    )
    source = models.CharField(_("source"), max_length=64, blank=True, help_text=_("Exact source; empty matches any."))
    fingerprint_pattern = models.CharField(
        _("fingerprint pattern"),
        max_length=255,
        blank=True,
        help_text=_("Regular expression searched in the fingerprint."),
    )
    summary_pattern = models.CharField(
        _("summary pattern"), max_length=255, blank=True, help_text=_("Regular expression searched in the summary.")
    )
    starts_at = models.DateTimeField(_("starts"), default=timezone.now)
    ends_at = models.DateTimeField(_("ends"))
    reason = models.TextField(_("reason"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("author"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = SilenceQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_at", "-id"]
        verbose_name = _("silence")
        verbose_name_plural = _("silences")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="silence_ends_after_start"
            ),
        ]
        indexes = [models.Index(fields=["ends_at", "starts_at"], name="silence_window")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.reason[:60]}"

    def clean(self) -> None:
        errors = {}
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            errors["ends_at"] = _("The end must be after the start.")
        for field in ("fingerprint_pattern", "summary_pattern"):
            pattern = getattr(self, field)
            if pattern:
                try:
                    re.compile(pattern)
                except re.error as exc:
                    errors[field] = _("Not a valid regular expression: %(error)s") % {"error": exc}
        if not (self.service_id or self.source or self.fingerprint_pattern or self.summary_pattern):
            errors["__all__"] = _("Give at least one matcher: a service, a source or a pattern.")
        if errors:
            raise ValidationError(errors)

    def is_active(self, at=None) -> bool:
        at = at or timezone.now()
        return self.starts_at <= at < self.ends_at

    def matches(self, *, source: str, fingerprint: str, summary: str, service_id: int | None) -> bool:
        if self.service_id and self.service_id != service_id:
            return False
        if self.source and self.source != source:
            return False
        if self.fingerprint_pattern and not re.search(self.fingerprint_pattern, fingerprint):
            return False
        return not (self.summary_pattern and not re.search(self.summary_pattern, summary))
