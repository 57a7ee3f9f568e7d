"""Training and awareness: courses (with an optional quiz and attachments), assignments to people,
departments or response roles, attempts and the completions they earn, acknowledgements of plans
and fallback procedures per version, and the log that keeps reminders to one email a day.

Who an assignment applies to is computed when it is read (training/selectors.py): an assignment to
a department or a response role covers whoever is in it *now*, so a person who joins later gets it
without any copying, and a person who leaves stops being counted.
"""

from __future__ import annotations

import datetime
import uuid
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from plans.models import Department, EmergencyPlan, FallbackProcedure, PlanVersion, ResponseRole


def add_months(day: datetime.date | datetime.datetime, months: int):
    """The same day `months` later, clamped to the end of a shorter month (31 Jan + 1 → 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return day.replace(year=year, month=month, day=min(day.day, last))
        except ValueError:
            continue
    raise ValueError(day)  # pragma: no cover - every month has at least 28 days


class CourseQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)


class Course(models.Model):
    class Kind(models.TextChoices):
        ERP_BASICS = "erp_basics", _("ERP basic operations")
        EMERGENCY = "emergency", _("Emergency procedures")
        SECURITY = "security", _("Security awareness")

    title = models.CharField(_("title"), max_length=200, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    summary = models.CharField(_("summary"), max_length=300, blank=True)
    content = models.TextField(
        _("content"), blank=True, help_text=_("Formatted with Markdown: **bold**, lists with -, headings with #.")
    )
    plan = models.ForeignKey(
        EmergencyPlan,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="courses",
        verbose_name=_("emergency plan"),
        help_text=_("For emergency-procedure courses: the plan it teaches."),
    )
    fallback = models.ForeignKey(
        FallbackProcedure,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="courses",
        verbose_name=_("fallback procedure"),
        help_text=_("For emergency-procedure courses: the fallback procedure it teaches."),
    )
    pass_mark = models.PositiveSmallIntegerField(
        _("pass mark (%)"), default=80, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    validity_months = models.PositiveSmallIntegerField(
        _("valid for (months)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(120)],
        help_text=_("A completion expires after this many months and the course must be retaken. Empty: never."),
    )
    is_active = models.BooleanField(_("active"), default=True, help_text=_("Inactive courses cannot be taken."))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("last updated"))

    objects = CourseQuerySet.as_manager()

    class Meta:
        ordering = ["title"]
        verbose_name = _("course")
        verbose_name_plural = _("courses")
        permissions = [("view_coverage", _("Can see training coverage of everyone"))]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("training:course-take", args=[self.pk])

    def clean(self) -> None:
        if self.kind == self.Kind.EMERGENCY and not (self.plan_id or self.fallback_id):
            raise ValidationError({"plan": _("An emergency-procedure course teaches a plan or a fallback procedure.")})
        if self.kind != self.Kind.EMERGENCY and (self.plan_id or self.fallback_id):
            raise ValidationError({"plan": _("Only emergency-procedure courses are linked to a plan or procedure.")})

    def expires_at(self, completed_at: datetime.datetime) -> datetime.datetime | None:
        return add_months(completed_at, self.validity_months) if self.validity_months else None


ATTACHMENT_TYPES = {
    ".pdf": "application/pdf",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ".txt": "text/plain",
}
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024


def attachment_path(instance: CourseAttachment, filename: str) -> str:
    # A random name: the original name is kept in `name`, and the stored path cannot be guessed.
    return f"training/{instance.course_id}/{uuid.uuid4().hex}{PurePath(filename).suffix.lower()}"


class CourseAttachment(models.Model):
    """A file handed out with a course. Served only to logged-in users by training.views.attachment."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="attachments", verbose_name=_("course"))
    file = models.FileField(_("file"), upload_to=attachment_path, max_length=200)
    name = models.CharField(_("name"), max_length=200)
    size = models.PositiveIntegerField(_("size (bytes)"), default=0)
    uploaded_at = models.DateTimeField(auto_now_add=True, verbose_name=_("uploaded"))

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("training:attachment", args=[self.pk])

    @property
    def content_type(self) -> str:
        return ATTACHMENT_TYPES.get(PurePath(self.file.name).suffix.lower(), "application/octet-stream")


class Question(models.Model):
    class Kind(models.TextChoices):
        SINGLE = "single", _("Single choice")
        MULTIPLE = "multiple", _("Multiple choice")

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="questions", verbose_name=_("course"))
    text = models.TextField(_("question"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.SINGLE)
    order = models.PositiveSmallIntegerField(_("order"), default=1)

    class Meta:
        ordering = ["course", "order", "id"]
        verbose_name = _("question")
        verbose_name_plural = _("questions")

    def __str__(self) -> str:
        return self.text[:80]


class Choice(models.Model):
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="choices", verbose_name=_("question"))
    text = models.CharField(_("answer"), max_length=300)
    is_correct = models.BooleanField(_("correct"), default=False)
    order = models.PositiveSmallIntegerField(_("order"), default=1)

    class Meta:
        ordering = ["question", "order", "id"]
        verbose_name = _("choice")
        verbose_name_plural = _("choices")

    def __str__(self) -> str:
        return self.text


class Assignment(models.Model):
    """A course someone must take by a date: one person, everyone in a department, or everyone
    holding a response role. Department and role membership is read at query time (see module doc)."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="assignments", verbose_name=_("course"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="training_assignments",
        verbose_name=_("person"),
    )
    department = models.ForeignKey(
        Department,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="training_assignments",
        verbose_name=_("department"),
    )
    role = models.ForeignKey(
        ResponseRole,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="training_assignments",
        verbose_name=_("response role"),
    )
    due_date = models.DateField(_("due date"))
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("assigned by"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created"))

    class Meta:
        ordering = ["due_date", "id"]
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")
        constraints = [
            models.CheckConstraint(
                name="training_assignment_one_target",
                condition=(
                    Q(user__isnull=False, department__isnull=True, role__isnull=True)
                    | Q(user__isnull=True, department__isnull=False, role__isnull=True)
                    | Q(user__isnull=True, department__isnull=True, role__isnull=False)
                ),
            )
        ]

    def __str__(self) -> str:
        return f"{self.course} → {self.target_label}"

    @property
    def target_label(self) -> str:
        if self.user_id:
            return self.user.get_full_name() or self.user.get_username()
        if self.department_id:
            return _("Department: %(name)s") % {"name": self.department}
        return _("Role: %(name)s") % {"name": self.role}

    def clean(self) -> None:
        if sum(bool(x) for x in (self.user_id, self.department_id, self.role_id)) != 1:
            raise ValidationError(_("Assign the course to exactly one person, department or response role."))


class Attempt(models.Model):
    """One go at a course: the answers given, the score, and whether it passed."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="attempts", verbose_name=_("course"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="training_attempts", verbose_name=_("person")
    )
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    submitted_at = models.DateTimeField(_("submitted"), default=timezone.now)
    answers = models.JSONField(_("answers"), default=dict, help_text=_("Question id → chosen choice ids."))
    score = models.PositiveSmallIntegerField(_("score (%)"))
    passed = models.BooleanField(_("passed"))

    class Meta:
        ordering = ["-submitted_at", "-id"]
        verbose_name = _("attempt")
        verbose_name_plural = _("attempts")
        indexes = [models.Index(fields=["user", "course", "-submitted_at"])]

    def __str__(self) -> str:
        return f"{self.user} · {self.course} · {self.score}%"

    def get_absolute_url(self) -> str:
        return reverse("training:attempt-detail", args=[self.pk])

    @property
    def duration(self) -> datetime.timedelta | None:
        return self.submitted_at - self.started_at if self.started_at else None

    @property
    def minutes_taken(self) -> int | None:
        return max(1, round(self.duration.total_seconds() / 60)) if self.duration else None


class Completion(models.Model):
    """A passed course, valid until `expires_at` (None: for good). Retaking adds a new row."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="completions", verbose_name=_("course"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="training_completions",
        verbose_name=_("person"),
    )
    attempt = models.OneToOneField(
        Attempt, on_delete=models.CASCADE, related_name="completion", verbose_name=_("attempt")
    )
    completed_at = models.DateTimeField(_("completed"))
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)

    class Meta:
        ordering = ["-completed_at", "-id"]
        verbose_name = _("completion")
        verbose_name_plural = _("completions")
        indexes = [models.Index(fields=["user", "course", "-completed_at"])]

    def __str__(self) -> str:
        return f"{self.user} · {self.course}"

    def is_valid(self, now: datetime.datetime | None = None) -> bool:
        return self.expires_at is None or self.expires_at > (now or timezone.now())


class Acknowledgement(models.Model):
    """A person confirming they have read a published plan version or a fallback procedure version."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="training_acknowledgements",
        verbose_name=_("person"),
    )
    plan_version = models.ForeignKey(
        PlanVersion,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="acknowledgements",
        verbose_name=_("plan version"),
    )
    fallback = models.ForeignKey(
        FallbackProcedure,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="acknowledgements",
        verbose_name=_("fallback procedure"),
    )
    fallback_version = models.PositiveIntegerField(_("procedure version"), null=True, blank=True)
    acknowledged_at = models.DateTimeField(_("acknowledged"), default=timezone.now)

    class Meta:
        ordering = ["-acknowledged_at"]
        verbose_name = _("acknowledgement")
        verbose_name_plural = _("acknowledgements")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "plan_version"], condition=Q(plan_version__isnull=False), name="training_ack_plan_once"
            ),
            models.UniqueConstraint(
                fields=["user", "fallback", "fallback_version"],
                condition=Q(fallback__isnull=False),
                name="training_ack_fallback_once",
            ),
            models.CheckConstraint(
                name="training_ack_one_subject",
                condition=(
                    Q(plan_version__isnull=False, fallback__isnull=True, fallback_version__isnull=True)
                    | Q(plan_version__isnull=True, fallback__isnull=False, fallback_version__isnull=False)
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.plan_version or self.fallback}"


class ReminderLog(models.Model):
    """One row per person and day a reminder went out: the unique key is the once-a-day claim."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("user")
    )
    day = models.DateField(verbose_name=_("day"))
    items = models.PositiveSmallIntegerField(default=0, verbose_name=_("items"))
    sent_at = models.DateTimeField(default=timezone.now, verbose_name=_("sent"))

    class Meta:
        ordering = ["-day"]
        constraints = [models.UniqueConstraint(fields=["user", "day"], name="training_one_reminder_per_day")]

    def __str__(self) -> str:
        return f"{self.user} · {self.day}"


from auditlog.registry import auditlog  # noqa: E402

auditlog.register(Course)
auditlog.register(Question)
auditlog.register(Choice)
auditlog.register(Assignment)
auditlog.register(CourseAttachment)
