"""What we protect and how we respond.

ERP services with their business impact analysis, the response team, versioned emergency plans,
fallback procedures for business users, and the action items that drills and post-incident reviews
produce (one model shared by both; it lives here because every other app depends on plans).
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


def format_minutes(minutes: int | None) -> str:
    """Human duration for RTO/RPO figures: 45 min, 4 h, 1 d 6 h."""
    if minutes is None:
        return "—"
    if minutes < 60:
        return _("%(n)d min") % {"n": minutes}
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    parts = []
    if days:
        parts.append(_("%(n)d d") % {"n": days})
    if hours:
        parts.append(_("%(n)d h") % {"n": hours})
    if mins:
        parts.append(_("%(n)d min") % {"n": mins})
    return " ".join(str(p) for p in parts)


class Department(models.Model):
    name = models.CharField(_("name"), max_length=120, unique=True)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("department")
        verbose_name_plural = _("departments")

    def __str__(self) -> str:
        return self.name


class Profile(models.Model):
    """What we know about a person beyond the login: department and contact details."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile", verbose_name=_("user")
    )
    department = models.ForeignKey(
        Department,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="people",
        verbose_name=_("department"),
    )
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    chat_handle = models.CharField(_("chat handle"), max_length=120, blank=True)

    class Meta:
        verbose_name = _("profile")
        verbose_name_plural = _("profiles")

    def __str__(self) -> str:
        return str(self.user)


class ERPServiceQuerySet(models.QuerySet):
    def business(self):
        return self.filter(kind=ERPService.Kind.BUSINESS)

    def infrastructure(self):
        return self.filter(kind=ERPService.Kind.INFRASTRUCTURE)


class ERPService(models.Model):
    class Kind(models.TextChoices):
        BUSINESS = "business", _("Business service")
        INFRASTRUCTURE = "infrastructure", _("Infrastructure")

    class Criticality(models.IntegerChoices):
        VITAL = 1, _("1 – Vital")
        HIGH = 2, _("2 – High")
        MEDIUM = 3, _("3 – Medium")
        LOW = 4, _("4 – Low")

    name = models.CharField(_("name"), max_length=120, unique=True)
    code = models.SlugField(
        _("code"),
        max_length=60,
        unique=True,
        help_text=_("Short identifier used by integrations, e.g. sales or erp-db."),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.BUSINESS)
    description = models.TextField(_("description"), blank=True)
    criticality = models.PositiveSmallIntegerField(
        _("criticality"), choices=Criticality.choices, default=Criticality.MEDIUM
    )
    rto_minutes = models.PositiveIntegerField(
        _("RTO (minutes)"), help_text=_("Recovery time objective: how long the service may be down.")
    )
    rpo_minutes = models.PositiveIntegerField(
        _("RPO (minutes)"), help_text=_("Recovery point objective: how much data, in time, may be lost.")
    )
    mtpd_minutes = models.PositiveIntegerField(
        _("maximum tolerable downtime (minutes)"),
        help_text=_("Beyond this the business suffers unacceptable harm. The RTO must not exceed it."),
    )
    owner_department = models.ForeignKey(
        Department,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="services",
        verbose_name=_("owner department"),
    )
    business_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_services",
        verbose_name=_("business owner"),
    )
    depends_on = models.ManyToManyField(
        "self", symmetrical=False, blank=True, related_name="dependents", verbose_name=_("depends on")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("last updated"))

    objects = ERPServiceQuerySet.as_manager()

    class Meta:
        ordering = ["criticality", "name"]
        verbose_name = _("ERP service")
        verbose_name_plural = _("ERP services")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(rto_minutes__lte=models.F("mtpd_minutes")), name="service_rto_within_mtpd"
            ),
            models.CheckConstraint(
                condition=models.Q(criticality__gte=1, criticality__lte=4), name="service_criticality_1_4"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("plans:service-detail", args=[self.pk])

    def clean(self) -> None:
        if self.rto_minutes is not None and self.mtpd_minutes is not None and self.rto_minutes > self.mtpd_minutes:
            raise ValidationError(
                {
                    "rto_minutes": _("The RTO (%(rto)s) must not exceed the maximum tolerable downtime (%(mtpd)s).")
                    % {"rto": format_minutes(self.rto_minutes), "mtpd": format_minutes(self.mtpd_minutes)}
                }
            )

    @property
    def rto_display(self) -> str:
        return format_minutes(self.rto_minutes)

    @property
    def rpo_display(self) -> str:
        return format_minutes(self.rpo_minutes)

    @property
    def mtpd_display(self) -> str:
        return format_minutes(self.mtpd_minutes)


class ResponseRole(models.Model):
    """A role of the emergency organisation: incident commander, DBA, communications..."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    key = models.SlugField(_("key"), max_length=60, unique=True)
    description = models.TextField(_("description"), blank=True)
    responsibilities = models.TextField(_("responsibilities"), blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["order", "name"]
        verbose_name = _("response role")
        verbose_name_plural = _("response roles")

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("plans:role-detail", args=[self.pk])


class TeamMember(models.Model):
    """A person holding a response role. Rank 1 is the primary; 2, 3... are the deputies, in order."""

    role = models.ForeignKey(ResponseRole, on_delete=models.CASCADE, related_name="members", verbose_name=_("role"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="team_memberships",
        verbose_name=_("user account"),
    )
    name = models.CharField(_("name"), max_length=120)
    rank = models.PositiveSmallIntegerField(
        _("rank"),
        default=1,
        validators=[MinValueValidator(1)],
        help_text=_("1 = primary, 2 = first deputy, 3 = second deputy…"),
    )
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    chat_handle = models.CharField(_("chat handle"), max_length=120, blank=True)

    class Meta:
        ordering = ["role__order", "role__name", "rank", "name"]
        verbose_name = _("team member")
        verbose_name_plural = _("team members")
        constraints = [models.UniqueConstraint(fields=["role", "rank"], name="team_member_unique_rank_per_role")]

    def __str__(self) -> str:
        return f"{self.name} ({self.role})"

    @property
    def is_primary(self) -> bool:
        return self.rank == 1

    def clean(self) -> None:
        if not (self.email or self.phone or self.chat_handle):
            raise ValidationError(_("Give at least one way to reach this person: email, phone or chat handle."))


class Phase(models.TextChoices):
    DETECT = "detect", _("Detect")
    ASSESS = "assess", _("Assess")
    ESCALATE = "escalate", _("Escalate")
    CONTAIN = "contain", _("Contain")
    RECOVER = "recover", _("Recover")
    REVIEW = "review", pgettext_lazy("response phase", "Review")


PHASE_ORDER = {value: index for index, value in enumerate(Phase.values)}


class Severity(models.TextChoices):
    """Incident severity; defined here so plans' communication matrices can refer to it."""

    SEV1 = "sev1", _("SEV1 – critical: ERP down for the whole company")
    SEV2 = "sev2", _("SEV2 – major: a business process stopped")
    SEV3 = "sev3", _("SEV3 – minor: degraded, with a workaround")
    SEV4 = "sev4", _("SEV4 – low: no business impact yet")


class EmergencyPlan(models.Model):
    class Scenario(models.TextChoices):
        ERP_DOWN = "erp_down", _("ERP down")
        DATA_LOSS = "data_loss", _("Data loss or corruption")
        RANSOMWARE = "ransomware", _("Ransomware / cyber attack")
        NETWORK = "network_outage", _("Network outage")
        SITE_LOSS = "site_loss", _("Loss of site (fire, flood, earthquake)")
        THIRD_PARTY = "third_party", _("Supplier or third-party failure")
        OTHER = "other", _("Other")

    title = models.CharField(_("title"), max_length=200, unique=True)
    scenario = models.CharField(_("scenario"), max_length=30, choices=Scenario.choices)
    services = models.ManyToManyField(ERPService, related_name="plans", verbose_name=_("services covered"))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_plans",
        verbose_name=_("owner"),
    )
    review_date = models.DateField(_("next review"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("last updated"))

    class Meta:
        ordering = ["title"]
        verbose_name = _("emergency plan")
        verbose_name_plural = _("emergency plans")

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("plans:plan-detail", args=[self.pk])

    @property
    def review_overdue(self) -> bool:
        return self.review_date is not None and self.review_date < timezone.localdate()


class PlanVersionQuerySet(models.QuerySet):
    def published(self):
        return self.filter(status=PlanVersion.Status.PUBLISHED)


class PlanVersion(models.Model):
    """One version of a plan. Drafts are edited; publishing freezes a version for good."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")
        SUPERSEDED = "superseded", _("Superseded")

    plan = models.ForeignKey(EmergencyPlan, on_delete=models.CASCADE, related_name="versions", verbose_name=_("plan"))
    number = models.PositiveIntegerField(_("version"))
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.DRAFT)
    summary = models.TextField(_("summary"), blank=True, help_text=_("Purpose and scope of the plan."))
    activation_criteria = models.TextField(
        _("activation criteria"), blank=True, help_text=_("When is this plan invoked?")
    )
    backup_strategy = models.TextField(
        _("backup and recovery strategy"),
        blank=True,
        help_text=_("The backups and restore method this plan relies on."),
    )
    standby_systems = models.TextField(_("standby systems"), blank=True)
    change_note = models.TextField(_("what changed"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("approved by"),
    )
    published_at = models.DateTimeField(_("published"), null=True, blank=True)

    objects = PlanVersionQuerySet.as_manager()

    class Meta:
        ordering = ["plan", "-number"]
        verbose_name = _("plan version")
        verbose_name_plural = _("plan versions")
        permissions = [("approve_planversion", _("Can approve and publish plan versions"))]
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="plan_version_unique_number"),
            models.UniqueConstraint(fields=["plan"], condition=models.Q(status="draft"), name="plan_version_one_draft"),
            models.UniqueConstraint(
                fields=["plan"], condition=models.Q(status="published"), name="plan_version_one_published"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.plan} v{self.number}"

    def get_absolute_url(self) -> str:
        return reverse("plans:version-detail", args=[self.plan_id, self.number])

    @property
    def is_frozen(self) -> bool:
        return self.status != self.Status.DRAFT

    def ensure_editable(self) -> None:
        if self.is_frozen:
            raise ValidationError(
                _("Version %(n)d is %(status)s and frozen; start a new draft to change the plan.")
                % {"n": self.number, "status": self.get_status_display().lower()}
            )


class FrozenVersionContent(models.Model):
    """Rows belonging to a plan version: they can only change while the version is a draft."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        # Guard at the lowest level too, so no code path (admin, shell, API) edits a frozen version.
        PlanVersion.objects.get(pk=self.version_id).ensure_editable()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        PlanVersion.objects.get(pk=self.version_id).ensure_editable()
        return super().delete(*args, **kwargs)


class PlanStep(FrozenVersionContent):
    version = models.ForeignKey(PlanVersion, on_delete=models.CASCADE, related_name="steps", verbose_name=_("version"))
    phase = models.CharField(_("phase"), max_length=20, choices=Phase.choices)
    order = models.PositiveSmallIntegerField(_("order"), default=1)
    title = models.CharField(_("title"), max_length=200)
    instructions = models.TextField(_("instructions"), blank=True)
    role = models.ForeignKey(
        ResponseRole, on_delete=models.PROTECT, related_name="plan_steps", verbose_name=_("responsible role")
    )
    expected_minutes = models.PositiveIntegerField(_("expected duration (minutes)"), validators=[MinValueValidator(1)])

    class Meta:
        ordering = ["version", "order", "id"]
        verbose_name = _("plan step")
        verbose_name_plural = _("plan steps")

    def __str__(self) -> str:
        return f"{self.order}. {self.title}"

    @property
    def phase_index(self) -> int:
        return PHASE_ORDER.get(self.phase, 99)


class CommunicationRule(FrozenVersionContent):
    class Channel(models.TextChoices):
        EMAIL = "email", _("Email")
        PHONE = "phone", _("Phone call")
        SMS = "sms", _("SMS")
        CHAT = "chat", _("Chat (Slack, Teams, DingTalk, WeCom, Feishu)")
        STATUS_PAGE = "status_page", _("Status page")
        MEETING = "meeting", _("Meeting / bridge call")

    version = models.ForeignKey(
        PlanVersion, on_delete=models.CASCADE, related_name="communications", verbose_name=_("version")
    )
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices)
    audience = models.CharField(_("audience"), max_length=200)
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    timing = models.CharField(_("when"), max_length=120, blank=True, help_text=_("e.g. within 15 minutes, then hourly"))
    message_template = models.TextField(_("message template"))

    class Meta:
        ordering = ["version", "severity", "audience"]
        verbose_name = _("communication rule")
        verbose_name_plural = _("communication rules")

    def __str__(self) -> str:
        return f"{self.get_severity_display()} → {self.audience} ({self.get_channel_display()})"


class FallbackProcedure(models.Model):
    """What business users do while an ERP service is unavailable. Plain language, printable.

    `version` grows by one each time the content changes, so acknowledgements can ask again."""

    service = models.ForeignKey(
        ERPService, on_delete=models.CASCADE, related_name="fallbacks", verbose_name=_("service")
    )
    title = models.CharField(_("title"), max_length=200)
    audience = models.CharField(_("who follows it"), max_length=200, help_text=_("e.g. sales clerks, warehouse staff"))
    when_to_use = models.TextField(_("when to use it"))
    steps = models.TextField(_("steps"), help_text=_("One step per line, in plain language."))
    paper_records = models.TextField(_("what to record on paper"), blank=True)
    reentry = models.TextField(_("re-entering the data when the ERP is back"), blank=True)
    forms_location = models.CharField(_("where the paper forms are"), max_length=200, blank=True)
    version = models.PositiveIntegerField(_("version"), default=1)
    updated_at = models.DateTimeField(_("last updated"), auto_now=True)

    class Meta:
        ordering = ["service__name", "title"]
        verbose_name = _("fallback procedure")
        verbose_name_plural = _("fallback procedures")
        constraints = [models.UniqueConstraint(fields=["service", "title"], name="fallback_unique_title_per_service")]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("plans:fallback-detail", args=[self.pk])

    @property
    def step_list(self) -> list[str]:
        return [line.strip() for line in self.steps.splitlines() if line.strip()]


class ActionItemQuerySet(models.QuerySet):
    def open(self):
        return self.filter(status__in=[ActionItem.Status.OPEN, ActionItem.Status.IN_PROGRESS])

    def overdue(self, today: datetime.date | None = None):
        return self.open().filter(due_date__lt=today or timezone.localdate())


class ActionItem(models.Model):
    """An improvement to make, from a drill finding or a post-incident review, tracked to closure."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        IN_PROGRESS = "in_progress", _("In progress")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="action_items", verbose_name=_("owner")
    )
    due_date = models.DateField(_("due date"))
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.OPEN)
    plan = models.ForeignKey(
        EmergencyPlan,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="action_items",
        verbose_name=_("plan"),
    )
    # Where it came from (a drill finding, an incident review): a generic link, so plans/ does not
    # depend on the apps that create action items.
    source_type = models.ForeignKey(
        ContentType, on_delete=models.SET_NULL, null=True, blank=True, verbose_name=_("source type")
    )
    source_id = models.PositiveBigIntegerField(null=True, blank=True, verbose_name=_("source id"))
    source = GenericForeignKey("source_type", "source_id")
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    last_reminded_on = models.DateField(null=True, blank=True, editable=False, verbose_name=_("last reminded on"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created"))

    objects = ActionItemQuerySet.as_manager()

    class Meta:
        ordering = ["due_date", "id"]
        verbose_name = _("action item")
        verbose_name_plural = _("action items")
        indexes = [models.Index(fields=["status", "due_date"])]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("plans:action-detail", args=[self.pk])

    @property
    def is_overdue(self) -> bool:
        return self.status in (self.Status.OPEN, self.Status.IN_PROGRESS) and self.due_date < timezone.localdate()


# Audit trail: every create, update and delete of these models is recorded (django-auditlog).
from auditlog.registry import auditlog  # noqa: E402

auditlog.register(Department)
auditlog.register(ERPService, m2m_fields={"depends_on"})
auditlog.register(ResponseRole)
auditlog.register(TeamMember)
auditlog.register(EmergencyPlan, m2m_fields={"services"})
auditlog.register(PlanVersion)
auditlog.register(PlanStep)
auditlog.register(CommunicationRule)
auditlog.register(FallbackProcedure)
auditlog.register(ActionItem)
