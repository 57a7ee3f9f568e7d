"""The risk register: what can take the ERP down, how likely, how bad, and what answers it."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from plans.models import EmergencyPlan, ERPService

SCALE = [MinValueValidator(1), MaxValueValidator(5)]


class Level(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")
    CRITICAL = "critical", _("Critical")


def level_for_score(score: int) -> str:
    """Bands of the 5×5 matrix (score = likelihood × impact, 1–25).

    1–4 low, 5–9 medium, 10–14 high, 15–25 critical: a 5×3 or 3×5 is already critical,
    which matches how most ISO 31000 style registers colour the top-right corner."""
    if score >= 15:
        return Level.CRITICAL
    if score >= 10:
        return Level.HIGH
    if score >= 5:
        return Level.MEDIUM
    return Level.LOW


class RiskQuerySet(models.QuerySet):
    def review_overdue(self, today: datetime.date | None = None):
        return self.filter(next_review_date__lt=today or timezone.localdate())

    def review_due_within(self, days: int, today: datetime.date | None = None):
        today = today or timezone.localdate()
        return self.filter(next_review_date__lte=today + datetime.timedelta(days=days))


class Risk(models.Model):
    class Category(models.TextChoices):
        HARDWARE = "hardware", _("Hardware failure")
        SOFTWARE = "software", _("Software problem")
        HUMAN = "human_error", _("Human error")
        NATURAL = "natural_disaster", _("Natural disaster")
        CYBER = "cyber_threat", _("Cyber threat")
        THIRD_PARTY = "third_party", _("Supplier / third party")

    class Treatment(models.TextChoices):
        ACCEPT = "accept", _("Accept")
        MITIGATE = "mitigate", _("Mitigate")
        TRANSFER = "transfer", _("Transfer")
        AVOID = "avoid", _("Avoid")

    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    category = models.CharField(_("category"), max_length=30, choices=Category.choices)
    services = models.ManyToManyField(
        ERPService, related_name="risks", blank=True, verbose_name=_("services threatened")
    )
    likelihood = models.PositiveSmallIntegerField(
        _("likelihood"), validators=SCALE, help_text=_("1 rare … 5 almost certain")
    )
    impact = models.PositiveSmallIntegerField(_("impact"), validators=SCALE, help_text=_("1 negligible … 5 severe"))
    residual_likelihood = models.PositiveSmallIntegerField(_("residual likelihood"), validators=SCALE)
    residual_impact = models.PositiveSmallIntegerField(_("residual impact"), validators=SCALE)
    # Stored (not only computed) so the register can filter, sort and draw the heat map in SQL.
    inherent_score = models.PositiveSmallIntegerField(_("inherent score"), editable=False, default=1)
    residual_score = models.PositiveSmallIntegerField(_("residual score"), editable=False, default=1)
    level = models.CharField(_("level"), max_length=10, choices=Level.choices, editable=False, default=Level.LOW)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_risks", verbose_name=_("owner")
    )
    treatment = models.CharField(_("treatment"), max_length=20, choices=Treatment.choices, default=Treatment.MITIGATE)
    treatment_plan = models.TextField(_("treatment plan"), blank=True)
    controls = models.TextField(_("controls in place"), blank=True)
    plans = models.ManyToManyField(EmergencyPlan, related_name="risks", blank=True, verbose_name=_("answering plans"))
    last_reviewed_on = models.DateField(_("last reviewed"), null=True, blank=True)
    next_review_date = models.DateField(_("next review"), editable=False, null=True)
    review_reminded_on = models.DateField(
        null=True, blank=True, editable=False, verbose_name=_("review reminder sent on")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("last updated"))

    objects = RiskQuerySet.as_manager()

    class Meta:
        ordering = ["-residual_score", "-inherent_score", "title"]
        verbose_name = _("risk")
        verbose_name_plural = _("risks")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(likelihood__gte=1, likelihood__lte=5), name="risk_likelihood_1_5"
            ),
            models.CheckConstraint(condition=models.Q(impact__gte=1, impact__lte=5), name="risk_impact_1_5"),
            models.CheckConstraint(
                condition=models.Q(residual_likelihood__gte=1, residual_likelihood__lte=5),
                name="risk_res_likelihood_1_5",
            ),
            models.CheckConstraint(
                condition=models.Q(residual_impact__gte=1, residual_impact__lte=5), name="risk_res_impact_1_5"
            ),
        ]
        indexes = [models.Index(fields=["likelihood", "impact"]), models.Index(fields=["next_review_date"])]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("risks:risk-detail", args=[self.pk])

    def clean(self) -> None:
        values = (self.likelihood, self.impact, self.residual_likelihood, self.residual_impact)
        if None in values:
            return
        if self.residual_likelihood * self.residual_impact > self.likelihood * self.impact:
            raise ValidationError(
                {
                    "residual_impact": _(
                        "The residual score (%(res)d) cannot be higher than the inherent score (%(inh)d): "
                        "controls reduce a risk, they do not increase it."
                    )
                    % {"res": self.residual_likelihood * self.residual_impact, "inh": self.likelihood * self.impact}
                }
            )

    def compute_scores(self, today: datetime.date | None = None) -> None:
        """Derive scores, level and the next review date from the ratings (residual level sets cadence)."""
        self.inherent_score = self.likelihood * self.impact
        self.residual_score = self.residual_likelihood * self.residual_impact
        self.level = level_for_score(self.residual_score)
        base = self.last_reviewed_on or today or timezone.localdate()
        self.next_review_date = base + datetime.timedelta(days=settings.RISK_REVIEW_DAYS[self.level])

    @property
    def inherent_level(self) -> str:
        return level_for_score(self.likelihood * self.impact)

    def get_inherent_level_display(self) -> str:
        return Level(self.inherent_level).label

    @property
    def review_overdue(self) -> bool:
        return self.next_review_date is not None and self.next_review_date < timezone.localdate()


from auditlog.registry import auditlog  # noqa: E402

auditlog.register(Risk, m2m_fields={"services", "plans"})
