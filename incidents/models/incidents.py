"""Incidents: the row, its lifecycle table, its append-only timeline, its plan checklist and its review."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
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
            # "Most severe first" sort of the list: keyset on (severity, -opened_at, -id) by index.
            models.Index(fields=["severity", "-opened_at", "-id"], name="incident_sev_opened_id"),
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
