"""Forms for emergency plans and their versions.

The forms only validate input; the views hand the cleaned data to plans.services, which enforce
the rules (a frozen version is never changed, a plan covers at least one service...)."""

from __future__ import annotations

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..models import CommunicationRule, EmergencyPlan, ERPService, PlanStep, PlanVersion, ResponseRole


def attach_errors(form: forms.Form, error: ValidationError) -> None:
    """Put a service's ValidationError on the form: on its field when the form has one, else on top."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.get_full_name() or obj.get_username()


def _people() -> QuerySet:
    return get_user_model().objects.filter(is_active=True).order_by("first_name", "last_name", "username")


class PlanForm(forms.ModelForm):
    """Plan-level facts. The summary belongs to a version; it is asked only when creating (for v1)."""

    owner = UserChoiceField(queryset=_people(), required=False, label=_("Owner"))
    services = forms.ModelMultipleChoiceField(
        queryset=ERPService.objects.order_by("criticality", "name"),
        label=_("Services covered"),
        widget=forms.CheckboxSelectMultiple(attrs={"class": "checkbox-list"}),
    )

    class Meta:
        model = EmergencyPlan
        fields = ["title", "scenario", "services", "owner", "review_date"]
        widgets = {"review_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}


class PlanCreateForm(PlanForm):
    summary = forms.CharField(
        label=_("Summary"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Purpose and scope of the plan. Becomes part of version 1 (a draft)."),
    )


class VersionForm(forms.ModelForm):
    class Meta:
        model = PlanVersion
        fields = ["summary", "activation_criteria", "backup_strategy", "standby_systems", "change_note"]
        widgets = {name: forms.Textarea(attrs={"rows": 4}) for name in fields}
        help_texts = {"change_note": _("Shown in the version history; tell the approver what you changed and why.")}


class StepForm(forms.ModelForm):
    role = forms.ModelChoiceField(queryset=ResponseRole.objects.order_by("order", "name"), label=_("Responsible role"))
    expected_minutes = forms.IntegerField(
        min_value=1, label=_("Expected duration (minutes)"), widget=forms.NumberInput(attrs={"min": 1})
    )

    class Meta:
        model = PlanStep
        fields = ["phase", "order", "title", "role", "expected_minutes", "instructions"]
        widgets = {"instructions": forms.Textarea(attrs={"rows": 5}), "order": forms.NumberInput(attrs={"min": 0})}


class CommunicationForm(forms.ModelForm):
    class Meta:
        model = CommunicationRule
        fields = ["severity", "audience", "channel", "timing", "message_template"]
        widgets = {"message_template": forms.Textarea(attrs={"rows": 4})}


class PlanFilter(django_filters.FilterSet):
    """The plan list's search and filters. Invalid values are dropped by django-filter, never a 500."""

    STATUS_PUBLISHED = "published"
    STATUS_DRAFT_ONLY = "draft_only"
    STATUS_HAS_DRAFT = "has_draft"

    q = django_filters.CharFilter(method="search", label=_("Search"))
    scenario = django_filters.ChoiceFilter(choices=EmergencyPlan.Scenario.choices, label=_("Scenario"))
    service = django_filters.ModelChoiceFilter(
        field_name="services", queryset=ERPService.objects.order_by("name"), label=_("Service")
    )
    status = django_filters.ChoiceFilter(
        method="filter_status",
        label=_("Status"),
        choices=[
            (STATUS_PUBLISHED, _("Has a published version")),
            (STATUS_DRAFT_ONLY, _("Draft only (never published)")),
            (STATUS_HAS_DRAFT, _("Has a draft in progress")),
        ],
    )
    overdue = django_filters.ChoiceFilter(
        choices=[("1", _("Review overdue"))], method="filter_overdue", label=_("Review"), empty_label=_("Any")
    )

    class Meta:
        model = EmergencyPlan
        fields: list[str] = []

    def search(self, queryset: QuerySet[EmergencyPlan], name: str, value: str) -> QuerySet[EmergencyPlan]:
        value = value.strip()
        if not value:
            return queryset
        matching_services = EmergencyPlan.services.through.objects.filter(emergencyplan_id=OuterRef("pk")).filter(
            Q(erpservice__name__icontains=value) | Q(erpservice__code__icontains=value)
        )
        return queryset.filter(Q(title__icontains=value) | Exists(matching_services))

    def filter_status(self, queryset: QuerySet[EmergencyPlan], name: str, value: str) -> QuerySet[EmergencyPlan]:
        def having(status: str) -> Exists:
            return Exists(PlanVersion.objects.filter(plan_id=OuterRef("pk"), status=status))

        if value == self.STATUS_PUBLISHED:
            return queryset.filter(having(PlanVersion.Status.PUBLISHED))
        if value == self.STATUS_DRAFT_ONLY:
            return queryset.exclude(
                Exists(PlanVersion.objects.filter(plan_id=OuterRef("pk")).exclude(status=PlanVersion.Status.DRAFT))
            )
        if value == self.STATUS_HAS_DRAFT:
            return queryset.filter(having(PlanVersion.Status.DRAFT))
        return queryset

    def filter_overdue(self, queryset: QuerySet[EmergencyPlan], name: str, value: str) -> QuerySet[EmergencyPlan]:
        return queryset.filter(review_date__lt=timezone.localdate()) if value == "1" else queryset
