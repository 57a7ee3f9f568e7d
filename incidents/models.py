"""Incidents and the alert spine.

An incident moves through a fixed lifecycle (open → acknowledged → investigating → mitigated →
resolved → closed, reopen possible) and keeps an append-only timeline. Alerts are the one entry
point every automatic source raises into (see DESIGN.md "The alert contract"); silences and
maintenance windows mute them. Escalation policies and notification channels decide who hears
about an incident; notifications are an outbox table written in the same transaction as the
event, delivered by a worker. All writes go through incidents.services.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from plans.models import EmergencyPlan, ERPService, Phase, PlanStep, PlanVersion, ResponseRole, Severity

# Severity rank: a smaller number is more severe (sev1 = 1). Used to compare "higher severity".
SEVERITY_RANK = {Severity.SEV1: 1, Severity.SEV2: 2, Severity.SEV3: 3, Severity.SEV4: 4}


def severity_rank(value: str) -> int:
    return SEVERITY_RANK.get(value, 99)


def is_more_severe(a: str, b: str) -> bool:
    """True when severity `a` is strictly more severe than `b` (sev1 beats sev2)."""
    return severity_rank(a) < severity_rank(b)


# --- Incidents ---------------------------------------------------------------------------------


class IncidentQuerySet(models.QuerySet):
    def open(self):
        """Not yet resolved: open, acknowledged, investigating or mitigated."""
        return self.filter(status__in=Incident.OPEN_STATUSES)

    def real(self):
        return self.filter(is_drill=False)


class Incident(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        INVESTIGATING = "investigating", _("Investigating")
        MITIGATED = "mitigated", _("Mitigated")
        RESOLVED = "resolved", _("Resolved")
        CLOSED = "closed", _("Closed")

    OPEN_STATUSES = (Status.OPEN, Status.ACKNOWLEDGED, Status.INVESTIGATING, Status.MITIGATED)
    # The timestamp field each status sets when entered.
    STATUS_TIMESTAMPS = {
        Status.ACKNOWLEDGED: "acknowledged_at",
        Status.INVESTIGATING: "investigating_at",
        Status.MITIGATED: "mitigated_at",
        Status.RESOLVED: "resolved_at",
        Status.CLOSED: "closed_at",
    }

    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices, default=Severity.SEV3)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.OPEN)
    services = models.ManyToManyField(
        ERPService, blank=True, related_name="incidents", verbose_name=_("affected services")
    )
    business_impact = models.TextField(_("business impact"), blank=True)
    commander = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="commanded_incidents",
        verbose_name=_("incident commander"),
    )
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("opened by"),
        help_text=_("Empty when an alert opened the incident."),
    )
    plan = models.ForeignKey(
        EmergencyPlan,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="incidents",
        verbose_name=_("emergency plan"),
    )
    plan_version = models.ForeignKey(
        PlanVersion, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("plan version")
    )
    is_drill = models.BooleanField(
        _("drill"), default=False, help_text=_("Raised by a drill: kept out of the status page and statistics.")
    )

    # Lifecycle timestamps. detected_at is when the problem was first seen (an alert's first_seen,
    # or what the person opening it says); opened_at is when the incident row was created.
    detected_at = models.DateTimeField(_("detected at"), default=timezone.now)
    opened_at = models.DateTimeField(_("opened at"), default=timezone.now)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    investigating_at = models.DateTimeField(_("investigating since"), null=True, blank=True)
    mitigated_at = models.DateTimeField(_("mitigated at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    reopened_at = models.DateTimeField(_("last reopened at"), null=True, blank=True)
    reopen_count = models.PositiveIntegerField(_("times reopened"), default=0)

    # Escalation: the policy, the last level notified (0 = none yet) and when the next one is due.
    escalation_policy = models.ForeignKey(
        "EscalationPolicy",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="incidents",
        verbose_name=_("escalation policy"),
    )
    escalation_level = models.PositiveSmallIntegerField(_("escalation level reached"), default=0)
    next_escalation_at = models.DateTimeField(_("next escalation"), null=True, blank=True)

    public_update = models.TextField(
        _("public update"), blank=True, help_text=_("What business users read on the status page.")
    )
    public_update_at = models.DateTimeField(_("public update time"), null=True, blank=True)

    # Optimistic concurrency: every write bumps it; an edit made against an older version is refused.
    version = models.PositiveIntegerField(_("version"), default=1)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = IncidentQuerySet.as_manager()

    class Meta:
        ordering = ["-opened_at", "-id"]
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")
        permissions = [("view_status", _("Can view the service status page"))]
        indexes = [
            # List filters: status and severity together (open SEV1s first), then keyset order.
            models.Index(fields=["status", "severity"], name="incident_status_sev"),
            # Keyset pagination on (-opened_at, -id): one index serves both directions.
            models.Index(fields=["opened_at", "id"], name="incident_opened_id"),
            # The escalation tick: only unacknowledged incidents with a deadline.
            models.Index(
                fields=["next_escalation_at"],
                name="incident_escalation_due",
                condition=models.Q(next_escalation_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    def get_absolute_url(self) -> str:
        return f"/incidents/{self.pk}/"

    @property
    def reference(self) -> str:
        return f"INC-{self.pk}" if self.pk else "INC-?"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def severity_rank(self) -> int:
        return severity_rank(self.severity)

    @property
    def time_to_acknowledge(self):
        return self.acknowledged_at - self.opened_at if self.acknowledged_at else None

    @property
    def time_to_recover(self):
        return self.resolved_at - self.detected_at if self.resolved_at else None

    @property
    def allowed_transitions(self) -> list[str]:
        """Statuses the lifecycle accepts from here; "reopen" stands for the reopen action."""
        return [str(t) for t in TRANSITIONS.get(self.status, ())]

    def clean(self) -> None:
        if self.detected_at and self.opened_at and self.detected_at > self.opened_at + timezone.timedelta(minutes=5):
            raise ValidationError({"detected_at": _("The problem cannot be detected after the incident was opened.")})


# The legal moves. Skipping ahead is allowed (an incident that fixed itself can be resolved straight
# from open); going back is only "mitigated → investigating" (the fix did not hold) and reopen.
S = Incident.Status
TRANSITIONS: dict[str, tuple[str, ...]] = {
    S.OPEN: (S.ACKNOWLEDGED, S.INVESTIGATING, S.MITIGATED, S.RESOLVED),
    S.ACKNOWLEDGED: (S.INVESTIGATING, S.MITIGATED, S.RESOLVED),
    S.INVESTIGATING: (S.MITIGATED, S.RESOLVED),
    S.MITIGATED: (S.INVESTIGATING, S.RESOLVED),
    S.RESOLVED: (S.CLOSED, "reopen"),
    S.CLOSED: ("reopen",),
}
del S


class TimelineQuerySet(models.QuerySet):
    # Bulk paths refuse too; deleting an incident still cascades (the collector deletes raw).
    def update(self, **kwargs):
        raise ValidationError(_("Timeline entries are append-only and cannot be changed."))

    def delete(self):
        raise ValidationError(_("Timeline entries are append-only and cannot be deleted."))


class TimelineEntry(models.Model):
    """One line of an incident's history. Append-only: rows are never changed nor deleted."""

    class Kind(models.TextChoices):
        OPENED = "opened", _("Opened")
        STATUS = "status", _("Status change")
        NOTE = "note", _("Note")
        ASSIGNMENT = "assignment", _("Assignment")
        SEVERITY = "severity", _("Severity change")
        ALERT_ATTACHED = "alert_attached", _("Alert attached")
        ALERT_RESOLVED = "alert_resolved", _("Alert resolved")
        NOTIFICATION = "notification", _("Notification")
        PLAN_ATTACHED = "plan_attached", _("Plan attached")
        PLAN_STEP = "plan_step", _("Plan step")
        ESCALATION = "escalation", _("Escalation")
        EDIT = "edit", _("Edit")
        PUBLIC_UPDATE = "public_update", _("Public update")
        REVIEW = "review", _("Post-incident review")

    incident = models.ForeignKey(
        Incident, on_delete=models.CASCADE, related_name="timeline", verbose_name=_("incident")
    )
    at = models.DateTimeField(_("at"), default=timezone.now)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("author"),
        help_text=_("Empty for entries written by the system (alerts, escalation)."),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    message = models.TextField(_("message"))
    data = models.JSONField(_("data"), default=dict, blank=True)

    objects = TimelineQuerySet.as_manager()

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("timeline entry")
        verbose_name_plural = _("timeline entries")
        indexes = [models.Index(fields=["incident", "at", "id"], name="timeline_incident_at")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.get_kind_display()}: {self.message[:60]}"

    def save(self, *args, **kwargs):
        # The timeline is evidence: an entry once written is never rewritten, on any code path.
        if self.pk is not None and not kwargs.get("force_insert"):
            raise ValidationError(_("Timeline entries are append-only and cannot be changed."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(_("Timeline entries are append-only and cannot be deleted."))


class ChecklistItem(models.Model):
    """A plan step copied onto an incident when the plan is attached: who did it, and when.

    The step's text is copied so the checklist survives later plan versions unchanged."""

    incident = models.ForeignKey(
        Incident, on_delete=models.CASCADE, related_name="checklist", verbose_name=_("incident")
    )
    plan_version = models.ForeignKey(
        PlanVersion, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("plan version")
    )
    plan_step = models.ForeignKey(
        PlanStep, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("plan step")
    )
    phase = models.CharField(_("phase"), max_length=20, choices=Phase.choices)
    order = models.PositiveSmallIntegerField(_("order"), default=1)
    title = models.CharField(_("title"), max_length=200)
    instructions = models.TextField(_("instructions"), blank=True)
    role = models.ForeignKey(
        ResponseRole,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("responsible role"),
    )
    expected_minutes = models.PositiveIntegerField(_("expected duration (minutes)"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("done by"),
    )
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        ordering = ["incident", "order", "id"]
        verbose_name = _("checklist item")
        verbose_name_plural = _("checklist items")
        constraints = [
            models.UniqueConstraint(fields=["incident", "plan_step"], name="checklist_step_once_per_incident"),
        ]

    def __str__(self) -> str:
        return f"{self.order}. {self.title}"

    @property
    def is_done(self) -> bool:
        return self.done_at is not None


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
    created_at = models.DateTimeField(auto_now_add=True)

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
    created_at = models.DateTimeField(auto_now_add=True)

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


# --- Post-incident review ----------------------------------------------------------------------


class PostIncidentReview(models.Model):
    """What we learned. Its action items are plans.ActionItem rows whose source is this review."""

    incident = models.OneToOneField(
        Incident, on_delete=models.CASCADE, related_name="review", verbose_name=_("incident")
    )
    summary = models.TextField(_("summary"))
    root_cause = models.TextField(_("root cause"), blank=True)
    went_well = models.TextField(_("what went well"), blank=True)
    went_badly = models.TextField(_("what did not go well"), blank=True)
    lessons = models.TextField(_("lessons learned"), blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("author"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)

    class Meta:
        verbose_name = _("post-incident review")
        verbose_name_plural = _("post-incident reviews")

    def __str__(self) -> str:
        return _("Review of %(incident)s") % {"incident": self.incident.reference}

    def get_absolute_url(self) -> str:
        return f"/incidents/{self.incident_id}/review/"

    @property
    def is_complete(self) -> bool:
        return self.completed_at is not None


from auditlog.registry import auditlog  # noqa: E402

auditlog.register(Incident, m2m_fields={"services"}, exclude_fields=["version", "updated_at"])
auditlog.register(Silence)
auditlog.register(EscalationPolicy, m2m_fields={"services"})
auditlog.register(EscalationLevel)
auditlog.register(NotificationChannel, exclude_fields=["secret"])
auditlog.register(PostIncidentReview)
