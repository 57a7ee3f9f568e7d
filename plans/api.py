"""REST API of the continuity core: serializers that validate and shape, viewsets that call services.

Every write goes through plans/services.py (the `perform_*` hooks only hand the validated data to a
service and keep what it returns). A service's ValidationError becomes a 400 naming the field and
the reason, its PermissionDenied a 403 (erpcontinuity/api_errors.py). Reads need the model's view
permission (erpcontinuity/api_permissions.py), so a business user gets 403 where the pages refuse
them too.
"""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from erpcontinuity.api_base import ServiceWritesMixin

from . import selectors, services
from .api_filters import (
    ActionItemFilter,
    CommunicationFilter,
    FallbackFilter,
    MemberFilter,
    PlanFilter,
    PlanStepFilter,
    PlanVersionFilter,
    ServiceFilter,
)
from .models import (
    ActionItem,
    CommunicationRule,
    Department,
    EmergencyPlan,
    ERPService,
    FallbackProcedure,
    PlanStep,
    PlanVersion,
    ResponseRole,
    TeamMember,
)

# --- Serializers: validation and shape only -----------------------------------------------------


class DepartmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Department
        fields = ["id", "name", "description"]


class ServiceSerializer(serializers.ModelSerializer):
    class Meta:
        model = ERPService
        fields = [
            "id", "name", "code", "kind", "description", "criticality", "rto_minutes", "rpo_minutes",
            "mtpd_minutes", "owner_department", "business_owner", "depends_on", "created_at", "updated_at",
        ]  # fmt: skip


class ServiceRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class EffectiveObjectivesSerializer(serializers.Serializer):
    """The strictest RTO/RPO among the service and everything depending on it, and who sets each."""

    rto_minutes = serializers.IntegerField()
    rto_from = ServiceRefSerializer()
    rpo_minutes = serializers.IntegerField()
    rpo_from = ServiceRefSerializer()
    dependents = ServiceRefSerializer(many=True)


class ServiceDetailSerializer(ServiceSerializer):
    effective_objectives = serializers.SerializerMethodField()

    class Meta(ServiceSerializer.Meta):
        fields = [*ServiceSerializer.Meta.fields, "effective_objectives"]

    @extend_schema_field(EffectiveObjectivesSerializer)
    def get_effective_objectives(self, obj: ERPService) -> dict:
        return EffectiveObjectivesSerializer(services.effective_objectives(obj)).data


class RoleMemberSerializer(serializers.ModelSerializer):
    class Meta:
        model = TeamMember
        fields = ["id", "name", "rank", "user", "email", "phone", "chat_handle"]
        read_only_fields = fields


class RoleSerializer(serializers.ModelSerializer):
    members = RoleMemberSerializer(many=True, read_only=True)

    class Meta:
        model = ResponseRole
        fields = ["id", "name", "key", "description", "responsibilities", "order", "members"]


class MemberSerializer(serializers.ModelSerializer):
    class Meta:
        model = TeamMember
        fields = ["id", "role", "user", "name", "rank", "is_primary", "email", "phone", "chat_handle"]


class PlanStepSerializer(serializers.ModelSerializer):
    role_name = serializers.CharField(source="role.name", read_only=True)

    class Meta:
        model = PlanStep
        fields = ["id", "version", "phase", "order", "title", "instructions", "role", "role_name", "expected_minutes"]
        read_only_fields = ["version"]


class PlanStepCreateSerializer(PlanStepSerializer):
    """On create the version is given; afterwards a step stays in its version."""

    class Meta(PlanStepSerializer.Meta):
        read_only_fields = []


class CommunicationSerializer(serializers.ModelSerializer):
    class Meta:
        model = CommunicationRule
        fields = ["id", "version", "severity", "audience", "channel", "timing", "message_template"]
        read_only_fields = ["version"]


class CommunicationCreateSerializer(CommunicationSerializer):
    class Meta(CommunicationSerializer.Meta):
        read_only_fields = []


class PlanVersionSerializer(serializers.ModelSerializer):
    class Meta:
        model = PlanVersion
        fields = [
            "id", "plan", "number", "status", "summary", "activation_criteria", "backup_strategy",
            "standby_systems", "change_note", "created_by", "created_at", "approved_by", "published_at",
        ]  # fmt: skip
        # Only the draft's text is writable (services.VERSION_FIELDS); status changes by publishing.
        read_only_fields = ["plan", "number", "status", "created_by", "created_at", "approved_by", "published_at"]


class PlanVersionDetailSerializer(PlanVersionSerializer):
    steps = PlanStepSerializer(many=True, read_only=True)
    communications = CommunicationSerializer(many=True, read_only=True)

    class Meta(PlanVersionSerializer.Meta):
        fields = [*PlanVersionSerializer.Meta.fields, "steps", "communications"]


class VersionSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = PlanVersion
        fields = ["id", "number", "status", "created_at", "published_at"]
        read_only_fields = fields


class PlanSerializer(serializers.ModelSerializer):
    # `visible_versions` is prefetched by _plans_for(): every version for staff, the published one
    # only for people without plans.view_planversion.
    versions = VersionSummarySerializer(source="visible_versions", many=True, read_only=True)
    current_version = serializers.SerializerMethodField(help_text=_("Number of the published version, if any."))

    class Meta:
        model = EmergencyPlan
        fields = [
            "id", "title", "scenario", "services", "owner", "review_date", "review_overdue",
            "current_version", "versions", "created_at", "updated_at",
        ]  # fmt: skip

    def get_current_version(self, obj: EmergencyPlan) -> int | None:
        return next((v.number for v in obj.visible_versions if v.status == PlanVersion.Status.PUBLISHED), None)


class PlanCreateSerializer(PlanSerializer):
    summary = serializers.CharField(
        write_only=True, required=False, allow_blank=True, help_text=_("Summary of version 1.")
    )

    class Meta(PlanSerializer.Meta):
        fields = [*PlanSerializer.Meta.fields, "summary"]


class PlanDetailSerializer(PlanSerializer):
    published_version = serializers.SerializerMethodField(
        help_text=_("The content people follow: the published version.")
    )

    class Meta(PlanSerializer.Meta):
        fields = [*PlanSerializer.Meta.fields, "published_version"]

    @extend_schema_field(PlanVersionDetailSerializer(allow_null=True))
    def get_published_version(self, obj: EmergencyPlan) -> dict | None:
        version = next(iter(obj.published_versions), None)
        return PlanVersionDetailSerializer(version).data if version else None


class FallbackSerializer(serializers.ModelSerializer):
    class Meta:
        model = FallbackProcedure
        fields = [
            "id", "service", "title", "audience", "when_to_use", "steps", "paper_records", "reentry",
            "forms_location", "version", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["version", "updated_at"]


class ActionItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = ActionItem
        fields = [
            "id", "title", "description", "owner", "due_date", "status", "plan", "is_overdue",
            "completed_at", "created_at",
        ]  # fmt: skip
        read_only_fields = ["completed_at", "created_at"]


# --- Read side ----------------------------------------------------------------------------------


def _plans_for(user, *, with_content: bool = False) -> QuerySet[EmergencyPlan]:
    """Plans as `user` may read them: without plans.view_planversion (business users) only plans
    that have a published version, and only that version; drafts and history stay internal."""
    versions = PlanVersion.objects.order_by("-number")
    plans = EmergencyPlan.objects.select_related("owner").prefetch_related("services")
    if not user.has_perm("plans.view_planversion"):
        versions = versions.published()
        plans = plans.filter(versions__status=PlanVersion.Status.PUBLISHED)
    plans = plans.prefetch_related(Prefetch("versions", queryset=versions, to_attr="visible_versions"))
    if with_content:
        content = PlanVersion.objects.published().prefetch_related(
            Prefetch("steps", queryset=PlanStep.objects.select_related("role")), "communications"
        )
        plans = plans.prefetch_related(Prefetch("versions", queryset=content, to_attr="published_versions"))
    return plans


# --- ViewSets: parse, call a service, answer ----------------------------------------------------


class ServiceViewSet(
    ServiceWritesMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """ERP services with their business impact figures and dependencies."""

    queryset = selectors.service_list()
    filterset_class = ServiceFilter
    search_fields = ["name", "code", "description"]
    ordering_fields = ["name", "code", "criticality", "rto_minutes", "rpo_minutes"]

    def get_serializer_class(self):
        return ServiceSerializer if self.action == "list" else ServiceDetailSerializer

    writes = (services.service_create, services.service_update, services.service_delete)
    write_key = "service"


class DepartmentViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    queryset = Department.objects.all()
    serializer_class = DepartmentSerializer
    search_fields = ["name"]
    ordering_fields = ["name"]

    def perform_create(self, serializer):
        serializer.instance = services.department_create(**serializer.validated_data)


class RoleViewSet(
    ServiceWritesMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Roles of the emergency organisation, each with its members (primary first, then deputies)."""

    queryset = ResponseRole.objects.prefetch_related(
        Prefetch("members", queryset=TeamMember.objects.order_by("rank", "name"))
    )
    serializer_class = RoleSerializer
    search_fields = ["name", "key", "description"]
    ordering_fields = ["order", "name"]

    writes = (services.role_create, services.role_update, services.role_delete)
    write_key = "role"


class MemberViewSet(
    ServiceWritesMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    queryset = TeamMember.objects.all()
    serializer_class = MemberSerializer
    filterset_class = MemberFilter
    search_fields = ["name", "email", "phone", "chat_handle"]
    ordering_fields = ["name", "rank"]

    writes = (services.member_create, services.member_update, services.member_delete)
    write_key = "member"


class PlanViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Emergency plans. Business users see only plans with a published version, and only that one."""

    queryset = EmergencyPlan.objects.all()  # model for the permission check; rows come from _plans_for()
    filterset_class = PlanFilter
    search_fields = ["title"]
    ordering_fields = ["title", "review_date"]

    def get_queryset(self):
        return _plans_for(self.request.user, with_content=self.action == "retrieve")

    def get_serializer_class(self):
        return {"create": PlanCreateSerializer, "retrieve": PlanDetailSerializer}.get(self.action, PlanSerializer)

    def perform_create(self, serializer):
        plan = services.plan_create(user=self.request.user, **serializer.validated_data)
        serializer.instance = self.get_queryset().get(pk=plan.pk)

    def perform_update(self, serializer):
        plan = services.plan_update(plan=serializer.instance, **serializer.validated_data)
        serializer.instance = self.get_queryset().get(pk=plan.pk)

    @extend_schema(
        request=None, responses={200: PlanVersionDetailSerializer}, summary="Start (or return) the plan's draft"
    )
    @action(detail=True, methods=["post"], url_path="start-draft")
    def start_draft(self, request: Request, pk: str | None = None) -> Response:
        """The draft copied from the newest version; if a draft already exists, that draft."""
        draft = services.plan_start_draft(plan=self.get_object(), user=request.user)
        return Response(PlanVersionDetailSerializer(draft).data)


class PlanVersionViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Versions of the plans. Only a draft's text changes; publishing freezes it for good."""

    queryset = PlanVersion.objects.all()
    filterset_class = PlanVersionFilter
    search_fields = ["summary", "plan__title"]
    ordering_fields = ["number", "created_at", "published_at"]

    def get_queryset(self):
        versions = PlanVersion.objects.all()
        if self.action != "list":
            versions = versions.prefetch_related(
                Prefetch("steps", queryset=PlanStep.objects.select_related("role")), "communications"
            )
        return versions

    def get_serializer_class(self):
        return PlanVersionSerializer if self.action == "list" else PlanVersionDetailSerializer

    def perform_update(self, serializer):
        serializer.instance = services.version_update(version=serializer.instance, **serializer.validated_data)

    @extend_schema(request=None, responses={200: PlanVersionDetailSerializer}, summary="Approve and publish a draft")
    @action(detail=True, methods=["post"])
    def publish(self, request: Request, pk: str | None = None) -> Response:
        """Managers and administrators only; the previously published version becomes superseded."""
        version = services.version_publish(version=self.get_object(), user=request.user)
        return Response(PlanVersionDetailSerializer(version).data)


class PlanStepViewSet(
    ServiceWritesMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Response steps of a plan version; they change only while the version is a draft."""

    queryset = PlanStep.objects.select_related("role")
    filterset_class = PlanStepFilter
    search_fields = ["title", "instructions"]
    ordering_fields = ["order"]

    def get_serializer_class(self):
        return PlanStepCreateSerializer if self.action == "create" else PlanStepSerializer

    writes = (services.step_create, services.step_update, services.step_delete)
    write_key = "step"


class CommunicationViewSet(
    ServiceWritesMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Communication matrix rules of a plan version; they change only while the version is a draft."""

    queryset = CommunicationRule.objects.all()
    filterset_class = CommunicationFilter
    search_fields = ["audience", "message_template"]
    ordering_fields = ["severity", "audience"]

    def get_serializer_class(self):
        return CommunicationCreateSerializer if self.action == "create" else CommunicationSerializer

    writes = (services.communication_create, services.communication_update, services.communication_delete)
    write_key = "rule"


class FallbackViewSet(
    ServiceWritesMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """What business users do while a service is down. Changing the content bumps `version`."""

    queryset = FallbackProcedure.objects.all()
    serializer_class = FallbackSerializer
    filterset_class = FallbackFilter
    search_fields = ["title", "audience", "when_to_use", "steps"]
    ordering_fields = ["title", "updated_at"]

    writes = (services.fallback_create, services.fallback_update, services.fallback_delete)
    write_key = "procedure"


class ActionItemViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Improvements from drills and reviews; closed by setting the status, never deleted."""

    queryset = ActionItem.objects.all()
    serializer_class = ActionItemSerializer
    filterset_class = ActionItemFilter
    search_fields = ["title", "description"]
    ordering_fields = ["due_date", "status", "created_at"]

    def perform_create(self, serializer):
        serializer.instance = services.action_item_create(**serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.action_item_update(item=serializer.instance, **serializer.validated_data)
