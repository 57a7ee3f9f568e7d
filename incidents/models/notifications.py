"""Who hears about an incident: escalation policies, notification channels and the outbox."""

from __future__ import annotations

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from plans.models import ERPService, ResponseRole, Severity

from .incidents import Incident, severity_rank

# --- Escalation --------------------------------------------------------------------------------


class EscalationPolicy(models.Model):
    """Who to notify, and when, while an incident stays unacknowledged.

    An incident uses the policy of one of its services, else the default policy."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    description = models.TextField(_("description"), blank=True)
    services = models.ManyToManyField(
        ERPService, blank=True, related_name="escalation_policies", verbose_name=_("services")
    )
    is_default = models.BooleanField(
        _("default policy"), default=False, help_text=_("Used when no policy covers a service.")
    )
    repeat_minutes = models.PositiveIntegerField(
        _("repeat the last level every (minutes)"),
        null=True,
        blank=True,
        help_text=_("Empty: stop after the last level."),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created"))

    class Meta:
        ordering = ["name"]
        verbose_name = _("escalation policy")
        verbose_name_plural = _("escalation policies")
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=models.Q(is_default=True), name="one_default_policy"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class EscalationLevel(models.Model):
    """Level N is notified delay_minutes after level N-1 (level 1: after the incident opened)."""

    policy = models.ForeignKey(
        EscalationPolicy, on_delete=models.CASCADE, related_name="levels", verbose_name=_("policy")
    )
    order = models.PositiveSmallIntegerField(_("level"), validators=[MinValueValidator(1)])
    delay_minutes = models.PositiveIntegerField(_("delay (minutes)"), default=0)
    notify_role = models.ForeignKey(
        ResponseRole, on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("notify role")
    )
    notify_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("notify person"),
    )
    notify_channel = models.ForeignKey(
        "NotificationChannel",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("notify channel"),
    )

    class Meta:
        ordering = ["policy", "order"]
        verbose_name = _("escalation level")
        verbose_name_plural = _("escalation levels")
        constraints = [models.UniqueConstraint(fields=["policy", "order"], name="escalation_level_unique_order")]

    def __str__(self) -> str:
        return f"{self.policy} – {self.order}"

    def clean(self) -> None:
        if not (self.notify_role_id or self.notify_user_id or self.notify_channel_id):
            raise ValidationError(_("Choose whom this level notifies: a role, a person or a channel."))


# --- Notifications -----------------------------------------------------------------------------


class NotificationChannel(models.Model):
    class Kind(models.TextChoices):
        EMAIL = "email", _("Email")
        WEBHOOK = "webhook", _("Webhook (JSON)")
        SLACK = "slack", _("Slack")
        TEAMS = "teams", _("Microsoft Teams")
        DINGTALK = "dingtalk", _("DingTalk")
        WECOM = "wecom", _("WeCom")
        FEISHU = "feishu", _("Feishu")

    class Audience(models.TextChoices):
        OPS = "ops", _("IT operations")
        BUSINESS = "business", _("Business users")
        MANAGEMENT = "management", _("Management")

    # Chat robots throttle: DingTalk and WeCom accept about 20 messages a minute per robot.
    DEFAULT_RATE_LIMITS = {Kind.DINGTALK: 20, Kind.WECOM: 20, Kind.FEISHU: 100}

    name = models.CharField(_("name"), max_length=120, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    target = models.TextField(
        _("target"), help_text=_("Webhook URL, or email addresses separated by commas for email channels.")
    )
    secret = models.CharField(
        _("signing secret"),
        max_length=255,
        blank=True,
        help_text=_("DingTalk and Feishu robots with signature security."),
    )
    min_severity = models.CharField(
        _("minimum severity"),
        max_length=10,
        choices=Severity.choices,
        default=Severity.SEV4,
        help_text=_("Only incidents at least this severe are sent (SEV1 is the most severe)."),
    )
    audience = models.CharField(_("audience"), max_length=20, choices=Audience.choices, default=Audience.OPS)
    enabled = models.BooleanField(_("enabled"), default=True)
    include_drills = models.BooleanField(_("send drill incidents"), default=False)
    rate_limit_per_minute = models.PositiveIntegerField(
        _("messages per minute"), null=True, blank=True, help_text=_("Beyond this, messages are batched into a digest.")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created"))

    class Meta:
        ordering = ["name"]
        verbose_name = _("notification channel")
        verbose_name_plural = _("notification channels")

    def __str__(self) -> str:
        return self.name

    def accepts_severity(self, severity: str) -> bool:
        return severity_rank(severity) <= severity_rank(self.min_severity)

    @property
    def email_addresses(self) -> list[str]:
        return [a.strip() for a in re.split(r"[,;\s]+", self.target or "") if a.strip()]

    def clean(self) -> None:
        from django.core.validators import URLValidator, validate_email

        if self.kind == self.Kind.EMAIL:
            if not self.email_addresses:
                raise ValidationError({"target": _("Give at least one email address.")})
            for address in self.email_addresses:
                try:
                    validate_email(address)
                except ValidationError:
                    raise ValidationError({"target": _("%(value)s is not a valid email address.") % {"value": address}})
        else:
            try:
                URLValidator(schemes=["http", "https"])(self.target.strip())
            except ValidationError:
                raise ValidationError({"target": _("Give the webhook URL (http or https).")})


class NotificationQuerySet(models.QuerySet):
    def due(self, at=None):
        return self.filter(status=Notification.Status.PENDING, next_attempt_at__lte=at or timezone.now())


class Notification(models.Model):
    """The outbox: one message to one channel (or one person's email), written in the same
    transaction as the event that caused it, delivered later by a worker."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        FOLDED = "folded", _("Batched into a digest")

    class Event(models.TextChoices):
        OPENED = "opened", _("Incident opened")
        ESCALATED = "escalated", _("Escalation")
        SEVERITY_RAISED = "severity_raised", _("Severity raised")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        MITIGATED = "mitigated", _("Mitigated")
        RESOLVED = "resolved", _("Resolved")
        REOPENED = "reopened", _("Reopened")
        PUBLIC_UPDATE = "public_update", _("Public update")
        TEST = "test", _("Test message")
        DIGEST = "digest", _("Digest")

    channel = models.ForeignKey(
        NotificationChannel,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
        verbose_name=_("channel"),
    )
    recipient = models.CharField(
        _("recipient"),
        max_length=254,
        blank=True,
        help_text=_("Email address when sent to a person rather than a channel."),
    )
    incident = models.ForeignKey(
        Incident,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
        verbose_name=_("incident"),
    )
    event = models.CharField(_("event"), max_length=20, choices=Event.choices)
    payload = models.JSONField(_("payload"), default=dict)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    digest = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="folded", verbose_name=_("batched into")
    )

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            # The sweep: pending rows whose time has come.
            models.Index(fields=["status", "next_attempt_at"], name="notification_due"),
            # The rate limit: messages a channel sent in the last minute.
            models.Index(fields=["channel", "sent_at"], name="notification_channel_sent"),
        ]

    def __str__(self) -> str:
        return f"{self.get_event_display()} → {self.channel or self.recipient} ({self.status})"
