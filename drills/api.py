"""REST API of drills/: scenarios (CRUD), drills (read, plan, change while planned) and the
lifecycle as actions (start, complete, report, cancel). Writes go through drills/services.py; a
ValidationError is a 400 naming the field, a PermissionDenied (not the facilitator) a 403.
Reads are filtered like the pages: a business user lists only the drills they take part in."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from erpcontinuity.api_permissions import ModelPermissions
from plans.models import ERPService, ResponseRole

from . import services
from .models import Drill, DrillService, Inject, Scenario


class InjectSerializer(serializers.ModelSerializer):
    class Meta:
        model = Inject
        fields = ["minute", "text"]


class ScenarioSerializer(serializers.ModelSerializer):
    injects = InjectSerializer(many=True, required=False)

    class Meta:
        model = Scenario
        fields = ["id", "title", "kind", "description", "hypothesis", "abort_condition", "injects"]


class DrillServiceSerializer(serializers.ModelSerializer):
    achieved_rto_minutes = serializers.IntegerField(read_only=True, allow_null=True)
    rto_met = serializers.BooleanField(read_only=True, allow_null=True)
    rpo_met = serializers.BooleanField(read_only=True, allow_null=True)

    class Meta:
        model = DrillService
        fields = ["service", "target_rto_minutes", "target_rpo_minutes", "disruption_started_at", "restored_at",
                  "achieved_rto_minutes", "data_loss_minutes", "rto_met", "rpo_met"]  # fmt: skip


class DrillSerializer(serializers.ModelSerializer):
    """Read shape, and the fields a planner writes (services and roles by id)."""

    services = serializers.PrimaryKeyRelatedField(queryset=ERPService.objects.all(), many=True, write_only=True)
    participant_roles = serializers.PrimaryKeyRelatedField(queryset=ResponseRole.objects.all(), many=True)
    results = DrillServiceSerializer(source="service_results", many=True, read_only=True)

    class Meta:
        model = Drill
        fields = ["id", "title", "scenario", "plan_version", "kind", "scheduled_start", "duration_minutes",
                  "location", "facilitator", "participant_roles", "services", "results", "status", "started_at",
                  "completed_at", "reported_at", "cancelled_at", "cancel_reason", "hypothesis_held", "passed",
                  "summary"]  # fmt: skip
        read_only_fields = ["status", "started_at", "completed_at", "reported_at", "cancelled_at", "cancel_reason",
                            "hypothesis_held", "passed", "summary"]  # fmt: skip


class DrillTransitionSerializer(serializers.Serializer):
    hypothesis_held = serializers.BooleanField(required=False, allow_null=True, default=None)
    passed = serializers.BooleanField(required=False, allow_null=True, default=None)
    summary = serializers.CharField(required=False, allow_blank=True, default="")
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class ScenarioViewSet(viewsets.ModelViewSet):
    queryset = Scenario.objects.prefetch_related("injects").order_by("title")
    serializer_class = ScenarioSerializer
    permission_classes = [ModelPermissions]

    def _injects(self, data: dict):
        rows = data.pop("injects", None)
        return None if rows is None else [(r["minute"], r["text"]) for r in rows]

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        serializer.instance = services.scenario_create(injects=self._injects(data) or (), **data)

    def perform_destroy(self, instance):
        services.scenario_delete(scenario=instance)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        serializer.instance = services.scenario_update(
            scenario=serializer.instance, injects=self._injects(data), **data
        )


class _CanSee(ModelPermissions):
    perms_map = {**ModelPermissions.perms_map, "POST": ["%(app_label)s.view_%(model_name)s"]}


class DrillViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):  # fmt: skip
    serializer_class = DrillSerializer
    permission_classes = [ModelPermissions]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return Drill.objects.none()
        return (
            Drill.objects.visible_to(self.request.user)
            .select_related("scenario", "plan_version")
            .prefetch_related("participant_roles", "service_results")
            .order_by("-scheduled_start", "-id")
        )

    def perform_create(self, serializer):
        serializer.instance = services.drill_create(**serializer.validated_data)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        serializer.instance = services.drill_update(drill=serializer.instance, user=self.request.user, **data)

    def _move(self, request: Request, to: str) -> Response:
        drill = self.get_object()  # 404 for a drill the caller may not see
        params = DrillTransitionSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        drill = services.drill_transition(drill=drill, to=to, user=request.user, **params.validated_data)
        return Response(DrillSerializer(drill, context={"request": request}).data)

    def get_permissions(self):
        if self.action in ("start", "complete", "report", "cancel"):
            # Seeing the drill is enough to ask; running it is checked on the object (facilitator
            # or manager) by the service, which answers 403 otherwise.
            return [_CanSee()]
        return super().get_permissions()

    @extend_schema(request=DrillTransitionSerializer, responses=DrillSerializer)
    @action(detail=True, methods=["post"])
    def start(self, request: Request, pk=None) -> Response:
        return self._move(request, Drill.Status.RUNNING)

    @extend_schema(request=DrillTransitionSerializer, responses=DrillSerializer)
    @action(detail=True, methods=["post"])
    def complete(self, request: Request, pk=None) -> Response:
        return self._move(request, Drill.Status.COMPLETED)

    @extend_schema(request=DrillTransitionSerializer, responses=DrillSerializer)
    @action(detail=True, methods=["post"])
    def report(self, request: Request, pk=None) -> Response:
        return self._move(request, Drill.Status.REPORTED)

    @extend_schema(request=DrillTransitionSerializer, responses=DrillSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk=None) -> Response:
        return self._move(request, Drill.Status.CANCELLED)
