"""REST API of the risk register: serializers that validate and shape, a viewset that calls services.

Filtering reuses the register's FilterSet (risks/filters.py), so the page, the CSV export and the
API agree on what `category`, `level`, `owner`, `service`, `q` and `sort` mean. Only `overdue`
differs: the API takes a boolean (`?overdue=true`), like the action items' filter.
"""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from . import selectors, services
from .filters import RiskFilter
from .models import Level, Risk

# --- Serializers ---------------------------------------------------------------------------------


class RiskSerializer(serializers.ModelSerializer):
    class Meta:
        model = Risk
        fields = [
            "id", "title", "description", "category", "services", "likelihood", "impact",
            "residual_likelihood", "residual_impact", "inherent_score", "residual_score", "level",
            "owner", "treatment", "treatment_plan", "controls", "plans", "last_reviewed_on",
            "next_review_date", "review_overdue", "created_at", "updated_at",
        ]  # fmt: skip
        # Derived by Risk.compute_scores() in the service; never taken from the client.
        read_only_fields = ["inherent_score", "residual_score", "level", "next_review_date", "created_at", "updated_at"]


class RiskReviewSerializer(serializers.Serializer):
    on = serializers.DateField(required=False, help_text=_("Day of the review; today when left out."))


class HeatMapQuerySerializer(serializers.Serializer):
    view = serializers.ChoiceField(choices=[("inherent", "inherent"), ("residual", "residual")], default="inherent")


class HeatCellSerializer(serializers.Serializer):
    likelihood = serializers.IntegerField()
    impact = serializers.IntegerField()
    score = serializers.IntegerField()
    level = serializers.ChoiceField(choices=Level.choices)
    count = serializers.IntegerField()


class HeatRowSerializer(serializers.Serializer):
    likelihood = serializers.IntegerField()
    cells = HeatCellSerializer(many=True)


class HeatMapSerializer(serializers.Serializer):
    """5 rows (likelihood 5 at the top) of 5 cells (impact 1 to 5), with the number of risks in each."""

    view = serializers.CharField()
    rows = HeatRowSerializer(many=True)


# --- Filters -------------------------------------------------------------------------------------


class RiskApiFilter(RiskFilter):
    overdue = django_filters.BooleanFilter(method="filter_overdue_flag", label=_("Review overdue"))

    def filter_overdue_flag(self, queryset: QuerySet[Risk], name: str, value: bool) -> QuerySet[Risk]:
        # django-filter does not call the method for an empty value.
        overdue = queryset.review_overdue()
        return overdue if value else queryset.exclude(pk__in=overdue.values("pk"))


# --- ViewSet -------------------------------------------------------------------------------------


class RiskViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """The risk register. Scores, level and next review date are computed, never sent."""

    queryset = selectors.risk_list().prefetch_related("plans")
    serializer_class = RiskSerializer
    filterset_class = RiskApiFilter
    # RiskFilter brings its own search (`q`) and order (`sort`), so DRF's `search`/`ordering`
    # backends are left out: one way to do each.
    filter_backends = [django_filters.rest_framework.DjangoFilterBackend]

    def perform_create(self, serializer):
        serializer.instance = services.risk_create(**serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.risk_update(risk=serializer.instance, **serializer.validated_data)

    def perform_destroy(self, instance):
        services.risk_delete(risk=instance)

    @extend_schema(request=RiskReviewSerializer, responses={200: RiskSerializer}, summary="Record a review")
    @action(detail=True, methods=["post"])
    def review(self, request: Request, pk: str | None = None) -> Response:
        """The next review date moves forward by the cadence of the risk's level."""
        params = RiskReviewSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        risk = services.risk_mark_reviewed(risk=self.get_object(), **params.validated_data)
        return Response(RiskSerializer(risk).data)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "view", str, enum=["inherent", "residual"], description="Which ratings to place (default inherent)."
            )
        ],
        responses={200: HeatMapSerializer},
        filters=True,
        summary="5×5 heat map of the (filtered) register",
    )
    @action(detail=False, methods=["get"], pagination_class=None)
    def heatmap(self, request: Request) -> Response:
        params = HeatMapQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        view = params.validated_data["view"]
        rows = selectors.heat_map(self.filter_queryset(self.get_queryset()), residual=view == "residual")
        return Response(HeatMapSerializer({"view": view, "rows": rows}).data)
