"""The register's filters: one FilterSet for the page, the CSV export and the API.

Kept a plain FilterSet over Risk (no request-specific logic) so DRF's DjangoFilterBackend can use
it as it is. Unknown or invalid values are dropped by django-filter, never a 500."""

from __future__ import annotations

import django_filters
from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from plans.models import ERPService

from .models import Level, Risk

SCALE_CHOICES = [(n, str(n)) for n in range(1, 6)]


def _owners(request=None) -> QuerySet:
    # Only people who own at least one risk: a filter listing every account would be noise.
    return (
        get_user_model()
        .objects.filter(owned_risks__isnull=False)
        .distinct()
        .order_by("first_name", "last_name", "username")
    )


class RiskOrderingFilter(django_filters.OrderingFilter):
    def filter(self, qs, value):
        qs = super().filter(qs, value)
        if value and any(value):
            # A stable tie-breaker, so pages do not repeat or skip rows with equal scores.
            qs = qs.order_by(*qs.query.order_by, "title", "pk")
        return qs


class RiskFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    category = django_filters.ChoiceFilter(choices=Risk.Category.choices, label=_("Category"), empty_label=_("All"))
    level = django_filters.ChoiceFilter(choices=Level.choices, label=_("Level"), empty_label=_("All"))
    treatment = django_filters.ChoiceFilter(choices=Risk.Treatment.choices, label=_("Treatment"), empty_label=_("All"))
    owner = django_filters.ModelChoiceFilter(queryset=_owners, label=_("Owner"), empty_label=_("All"))
    service = django_filters.ModelChoiceFilter(
        field_name="services", queryset=ERPService.objects.order_by("name"), label=_("Service"), empty_label=_("All")
    )
    likelihood = django_filters.TypedChoiceFilter(choices=SCALE_CHOICES, coerce=int, label=_("Likelihood"))
    impact = django_filters.TypedChoiceFilter(choices=SCALE_CHOICES, coerce=int, label=_("Impact"))
    residual_likelihood = django_filters.TypedChoiceFilter(
        choices=SCALE_CHOICES, coerce=int, label=_("Residual likelihood")
    )
    residual_impact = django_filters.TypedChoiceFilter(choices=SCALE_CHOICES, coerce=int, label=_("Residual impact"))
    overdue = django_filters.ChoiceFilter(
        choices=[("1", _("Review overdue"))], method="filter_overdue", label=_("Review"), empty_label=_("Any")
    )
    sort = RiskOrderingFilter(
        fields=(
            ("inherent_score", "score"),
            ("residual_score", "residual"),
            ("next_review_date", "next_review"),
            ("title", "title"),
        ),
        field_labels={
            "inherent_score": _("Inherent score"),
            "residual_score": _("Residual score"),
            "next_review_date": _("Next review"),
            "title": _("Title"),
        },
        label=_("Sort"),
    )

    class Meta:
        model = Risk
        fields: list[str] = []

    def search(self, queryset: QuerySet[Risk], name: str, value: str) -> QuerySet[Risk]:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(title__icontains=value) | Q(description__icontains=value) | Q(controls__icontains=value)
        )

    def filter_overdue(self, queryset: QuerySet[Risk], name: str, value: str) -> QuerySet[Risk]:
        return queryset.review_overdue() if value == "1" else queryset
