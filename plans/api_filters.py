"""FilterSets for the plans API: one per list endpoint, plain query-string filters.

An invalid value (an unknown choice, a missing id) makes DRF answer 400 naming the parameter."""

from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import (
    ActionItem,
    CommunicationRule,
    EmergencyPlan,
    ERPService,
    FallbackProcedure,
    PlanStep,
    PlanVersion,
    TeamMember,
)


class ServiceFilter(django_filters.FilterSet):
    class Meta:
        model = ERPService
        fields = ["kind", "criticality", "owner_department"]


class MemberFilter(django_filters.FilterSet):
    class Meta:
        model = TeamMember
        fields = ["role", "user"]


class PlanFilter(django_filters.FilterSet):
    service = django_filters.ModelChoiceFilter(
        field_name="services", queryset=ERPService.objects.all(), label=_("Service")
    )

    class Meta:
        model = EmergencyPlan
        fields = ["scenario", "owner"]


class PlanVersionFilter(django_filters.FilterSet):
    class Meta:
        model = PlanVersion
        fields = ["plan", "status"]


class PlanStepFilter(django_filters.FilterSet):
    class Meta:
        model = PlanStep
        fields = ["version", "phase", "role"]


class CommunicationFilter(django_filters.FilterSet):
    class Meta:
        model = CommunicationRule
        fields = ["version", "severity", "channel"]


class FallbackFilter(django_filters.FilterSet):
    class Meta:
        model = FallbackProcedure
        fields = ["service"]


class ActionItemFilter(django_filters.FilterSet):
    overdue = django_filters.BooleanFilter(method="filter_overdue", label=_("Overdue"))

    class Meta:
        model = ActionItem
        fields = ["status", "owner", "plan"]

    def filter_overdue(self, queryset: QuerySet[ActionItem], name: str, value: bool) -> QuerySet[ActionItem]:
        # django-filter does not call the method for an empty value.
        overdue = Q(
            status__in=[ActionItem.Status.OPEN, ActionItem.Status.IN_PROGRESS], due_date__lt=timezone.localdate()
        )
        return queryset.filter(overdue) if value else queryset.exclude(overdue)
