"""Drills: scheduled exercises of a plan against a scenario, measuring recovery against RTO/RPO.

A scenario (what we pretend happens, the hypothesis we test, the injects and the abort condition)
is exercised by drills. A drill runs one published (or draft) plan version with a facilitator and
the people holding its participant roles; while it runs, step records, logged injects and per
service disruption/restore times are written; afterwards findings become action items.
"""

from __future__ import annotations

import datetime
import secrets

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from plans.models import ERPService, PlanStep, PlanVersion, ResponseRole, format_minutes


def _minutes_between(start: datetime.datetime | None, end: datetime.datetime | None) -> int | None:
    if start is None or end is None:
        return None
    return max(0, round((end - start).total_seconds() / 60))


class Scenario(models.Model):
    class Kind(models.TextChoices):
        ERP_DOWN = "erp_down", _("ERP down")
        DATA_LOSS = "data_loss", _("Data loss")
        NETWORK = "network_outage", _("Network outage")
        SECURITY = "security_attack", _("Security attack")
        CUSTOM = "custom", _("Custom")

    title = models.CharField(_("title"), max_length=200, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.ERP_DOWN)
    description = models.TextField(_("description"))
    hypothesis = models.TextField(
        _("hypothesis"),
        help_text=_("What we expect to hold, e.g. orders can be taken on paper within 15 minutes."),
    )
    abort_condition = models.TextField(
        _("abort condition"), blank=True, help_text=_("When the facilitator stops the drill at once.")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created"))

    class Meta:
        ordering = ["title"]
        verbose_name = _("scenario")
        verbose_name_plural = _("scenarios")

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("drills:scenario-detail", args=[self.pk])


class Inject(models.Model):
    """What the facilitator announces or does, at a minute after the drill starts."""

    scenario = models.ForeignKey(Scenario, on_delete=models.CASCADE, related_name="injects", verbose_name=_("scenario"))
    minute = models.PositiveIntegerField(_("minute"), validators=[MaxValueValidator(7 * 24 * 60)])
    text = models.CharField(_("inject"), max_length=500)

    class Meta:
        ordering = ["scenario", "minute", "id"]
        verbose_name = _("inject")
        verbose_name_plural = _("injects")

    def __str__(self) -> str:
        return f"+{self.minute} min {self.text}"


class DrillQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Everything for those who read all drills; otherwise the drills a user facilitates or
        takes part in (holds one of its participant roles)."""
        if user.has_perm("drills.view_all_drills"):
            return self
        return self.filter(models.Q(facilitator=user) | models.Q(participant_roles__members__user=user)).distinct()


class Drill(models.Model):
    class Kind(models.TextChoices):
        TABLETOP = "tabletop", _("Tabletop")
        WALKTHROUGH = "walkthrough", _("Walkthrough")
        SIMULATION = "simulation", _("Simulation")
        FAILOVER = "full_failover", _("Full failover")

    class Status(models.TextChoices):
        # A context of their own: "Completed" elsewhere is a column of completion times.
        PLANNED = "planned", pgettext_lazy("drill status", "Planned")
        RUNNING = "running", pgettext_lazy("drill status", "Running")
        COMPLETED = "completed", pgettext_lazy("drill status", "Completed")
        REPORTED = "reported", pgettext_lazy("drill status", "Reported")
        CANCELLED = "cancelled", pgettext_lazy("drill status", "Cancelled")

    # Allowed moves of the lifecycle; anything else is refused with a message naming these.
    TRANSITIONS = {
        Status.PLANNED: (Status.RUNNING, Status.CANCELLED),
        Status.RUNNING: (Status.COMPLETED, Status.CANCELLED),
        Status.COMPLETED: (Status.REPORTED,),
        Status.REPORTED: (),
        Status.CANCELLED: (),
    }

    title = models.CharField(_("title"), max_length=200)
    scenario = models.ForeignKey(Scenario, on_delete=models.PROTECT, related_name="drills", verbose_name=_("scenario"))
    plan_version = models.ForeignKey(
        PlanVersion, on_delete=models.PROTECT, related_name="drills", verbose_name=_("plan version")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.TABLETOP)
    scheduled_start = models.DateTimeField(_("scheduled start"))
    duration_minutes = models.PositiveIntegerField(
        _("planned duration (minutes)"), default=120, validators=[MinValueValidator(5), MaxValueValidator(3 * 1440)]
    )
    location = models.CharField(_("location"), max_length=200, blank=True)
    facilitator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="facilitated_drills",
        verbose_name=_("facilitator"),
    )  # fmt: skip
    participant_roles = models.ManyToManyField(
        ResponseRole, related_name="drills", blank=True, verbose_name=_("participants (response roles)")
    )
    services = models.ManyToManyField(
        ERPService, through="DrillService", related_name="drills", verbose_name=_("services involved")
    )
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PLANNED)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    reported_at = models.DateTimeField(_("reported"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    cancel_reason = models.TextField(_("reason for cancelling"), blank=True)
    hypothesis_held = models.BooleanField(_("hypothesis held"), null=True, blank=True)
    passed = models.BooleanField(_("passed"), null=True, blank=True)
    summary = models.TextField(_("summary"), blank=True)
    alert = models.ForeignKey(
        "incidents.Alert", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("synthetic alert"),
    )  # fmt: skip
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created"))

    objects = DrillQuerySet.as_manager()

    class Meta:
        ordering = ["-scheduled_start", "-id"]
        verbose_name = _("drill")
        verbose_name_plural = _("drills")
        permissions = [
            ("run_drill", _("Can run the drills they facilitate")),
            ("view_all_drills", _("Can see every drill, not only their own")),
        ]
        indexes = [models.Index(fields=["status", "scheduled_start"])]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("drills:drill-detail", args=[self.pk])

    @property
    def scheduled_end(self) -> datetime.datetime:
        return self.scheduled_start + datetime.timedelta(minutes=self.duration_minutes)

    @property
    def elapsed_minutes(self) -> int | None:
        end = self.completed_at or (timezone.now() if self.status == self.Status.RUNNING else None)
        return _minutes_between(self.started_at, end)

    @property
    def allowed_transitions(self) -> tuple[str, ...]:
        return self.TRANSITIONS.get(self.status, ())

    @property
    def is_open(self) -> bool:
        return self.status in (self.Status.PLANNED, self.Status.RUNNING)

    @property
    def time_to_acknowledge_minutes(self) -> int | None:
        """Minutes from the synthetic alert until someone acknowledged its (drill) incident."""
        alert = self.alert
        if alert is None or alert.incident_id is None:
            return None
        return _minutes_between(alert.first_seen, alert.incident.acknowledged_at)


class DrillService(models.Model):
    """A service involved in a drill: its targets (frozen when the drill is planned, so a later
    change of the RTO does not rewrite history) and what the drill achieved."""

    drill = models.ForeignKey(Drill, on_delete=models.CASCADE, related_name="service_results", verbose_name=_("drill"))
    service = models.ForeignKey(
        ERPService, on_delete=models.PROTECT, related_name="drill_results", verbose_name=_("service")
    )
    target_rto_minutes = models.PositiveIntegerField(_("target RTO (minutes)"))
    target_rpo_minutes = models.PositiveIntegerField(_("target RPO (minutes)"))
    disruption_started_at = models.DateTimeField(_("disruption started"), null=True, blank=True)
    restored_at = models.DateTimeField(_("restored"), null=True, blank=True)
    data_loss_minutes = models.PositiveIntegerField(_("data lost (minutes)"), null=True, blank=True)

    class Meta:
        ordering = ["service__criticality", "service__name"]
        verbose_name = _("service in a drill")
        verbose_name_plural = _("services in drills")
        constraints = [models.UniqueConstraint(fields=["drill", "service"], name="drill_service_unique")]

    def __str__(self) -> str:
        return f"{self.drill} – {self.service}"

    @property
    def achieved_rto_minutes(self) -> int | None:
        return _minutes_between(self.disruption_started_at, self.restored_at)

    @property
    def rto_met(self) -> bool | None:
        achieved = self.achieved_rto_minutes
        return None if achieved is None else achieved <= self.target_rto_minutes

    @property
    def rpo_met(self) -> bool | None:
        loss = self.data_loss_minutes
        return None if loss is None else loss <= self.target_rpo_minutes

    @property
    def achieved_rto_display(self) -> str:
        return format_minutes(self.achieved_rto_minutes)

    @property
    def data_loss_display(self) -> str:
        return format_minutes(self.data_loss_minutes)

    @property
    def target_rto_display(self) -> str:
        return format_minutes(self.target_rto_minutes)

    @property
    def target_rpo_display(self) -> str:
        return format_minutes(self.target_rpo_minutes)


class StepRecord(models.Model):
    class Outcome(models.TextChoices):
        DONE = "done", _("Done as planned")
        PROBLEM = "problem", _("Done with problems")
        FAILED = "failed", _("Could not be done")
        SKIPPED = "skipped", _("Skipped")

    drill = models.ForeignKey(Drill, on_delete=models.CASCADE, related_name="step_records", verbose_name=_("drill"))
    step = models.ForeignKey(PlanStep, on_delete=models.PROTECT, related_name="drill_records", verbose_name=_("step"))
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices, blank=True)
    note = models.TextField(_("note"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )

    class Meta:
        ordering = ["drill", "step__order", "step_id"]
        verbose_name = _("step record")
        verbose_name_plural = _("step records")
        constraints = [models.UniqueConstraint(fields=["drill", "step"], name="drill_step_record_unique")]

    def __str__(self) -> str:
        return f"{self.drill} – {self.step}"

    @property
    def actual_minutes(self) -> int | None:
        return _minutes_between(self.started_at, self.finished_at)


class InjectLog(models.Model):
    """An inject as it actually happened (a planned one, or one the facilitator improvised)."""

    drill = models.ForeignKey(Drill, on_delete=models.CASCADE, related_name="inject_logs", verbose_name=_("drill"))
    inject = models.ForeignKey(
        Inject, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("inject")
    )
    text = models.CharField(_("inject"), max_length=500)
    note = models.TextField(_("note"), blank=True)
    at = models.DateTimeField(_("at"))

    class Meta:
        ordering = ["drill", "at", "id"]
        verbose_name = _("logged inject")
        verbose_name_plural = _("logged injects")

    def __str__(self) -> str:
        return self.text


class Finding(models.Model):
    class Kind(models.TextChoices):
        WENT_WELL = "went_well", _("Went well")
        DID_NOT = "did_not", _("Did not go well")
        PLAN_GAP = "plan_gap", _("Gap in the plan")

    class Severity(models.TextChoices):
        LOW = "low", _("Low")
        MEDIUM = "medium", _("Medium")
        HIGH = "high", _("High")
        CRITICAL = "critical", _("Critical")

    drill = models.ForeignKey(Drill, on_delete=models.CASCADE, related_name="findings", verbose_name=_("drill"))
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    severity = models.CharField(_("severity"), max_length=20, choices=Severity.choices, default=Severity.MEDIUM)
    title = models.CharField(_("finding"), max_length=200)
    description = models.TextField(_("details"), blank=True)
    action_item = models.OneToOneField(
        "plans.ActionItem", on_delete=models.SET_NULL, null=True, blank=True, related_name="drill_finding",
        verbose_name=_("action item"),
    )  # fmt: skip
    proposed_version = models.ForeignKey(
        PlanVersion, on_delete=models.SET_NULL, null=True, blank=True, related_name="proposed_by_findings",
        verbose_name=_("proposed plan draft"),
    )  # fmt: skip
    risk = models.ForeignKey(
        "risks.Risk", on_delete=models.SET_NULL, null=True, blank=True, related_name="drill_findings",
        verbose_name=_("risk"),
    )  # fmt: skip
    proposed_residual_likelihood = models.PositiveSmallIntegerField(
        _("proposed residual likelihood"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
    )
    proposed_residual_impact = models.PositiveSmallIntegerField(
        _("proposed residual impact"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    risk_change_applied_at = models.DateTimeField(_("risk change applied"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created"))

    class Meta:
        ordering = ["drill", "kind", "-severity", "id"]
        verbose_name = _("finding")
        verbose_name_plural = _("findings")

    def __str__(self) -> str:
        return self.title


class FeedToken(models.Model):
    """The secret in a person's calendar-feed URL: calendar clients cannot log in. Revoking it
    replaces it, so a leaked URL stops working."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="drill_feed_token", verbose_name=_("user")
    )
    token = models.CharField(max_length=64, unique=True, verbose_name=_("token"))
    created_at = models.DateTimeField(auto_now=True, verbose_name=_("created"))

    class Meta:
        verbose_name = _("calendar feed token")
        verbose_name_plural = _("calendar feed tokens")

    def __str__(self) -> str:
        return str(self.user)

    @staticmethod
    def new_token() -> str:
        return secrets.token_urlsafe(32)


from auditlog.registry import auditlog  # noqa: E402

auditlog.register(Scenario)
auditlog.register(Drill, m2m_fields={"participant_roles"})
auditlog.register(DrillService)
auditlog.register(StepRecord)
auditlog.register(Finding)
