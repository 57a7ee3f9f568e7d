"""REST API of incident response: serializers that validate and shape, views that call services.

- /api/incidents/: cursor-paginated on (-opened_at, -id) so page 2,000 costs what page 1 costs;
  filters status, severity, service, commander, opened_from, opened_to, q, is_drill. PATCH needs
  the `version` the edit was made against (a stale one is a 400 naming who changed it).
  POST actions: acknowledge, investigate, mitigate, resolve, close, reopen, note, attach-plan,
  public-update; checklist/<item>/done and /undo.
- /api/alerts/raise/ and /api/alerts/resolve/: the alert contract for machines (token auth,
  permission incidents.raise_alert; see `manage.py alert_token`). /api/alerts/: list, retrieve.
- /api/silences/, /api/notification-channels/ (+ test), /api/escalation-policies/,
  /api/escalation-levels/: managed by IT operations.
- /api/incident-stats/ (response statistics) and /api/status/ (service states, incidents.view_status).

Every write is a service call; a service's ValidationError becomes a 400 naming the field.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.shortcuts import get_object_or_404
from django.utils.dateparse import parse_date
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError as APIValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from erpcontinuity.api_permissions import ModelPermissions
from plans.models import EmergencyPlan, ERPService, Severity

from . import selectors, services
from .models import (
    Alert,
    ChecklistItem,
    EscalationLevel,
    EscalationPolicy,
    Incident,
    NotificationChannel,
    Silence,
    TimelineEntry,
)

# --- Permissions ---------------------------------------------------------------------------------


def has_perm(codename: str) -> type[BasePermission]:
    class HasPerm(BasePermission):
        def has_permission(self, request, view):
            return bool(request.user and request.user.is_authenticated and request.user.has_perm(codename))

    HasPerm.__name__ = f"Has_{codename.replace('.', '_')}"
    return HasPerm


class ChangeOnPost(ModelPermissions):
    """Actions on an existing object (acknowledge, note, test…) are changes, not creations."""

    perms_map = {**ModelPermissions.perms_map, "POST": ["%(app_label)s.change_%(model_name)s"]}


# --- Serializers ---------------------------------------------------------------------------------


class RefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


@extend_schema_field(RefSerializer(allow_null=True))
class UserRefField(serializers.Field):
    def to_representation(self, user):
        return {"id": user.pk, "name": user.get_full_name() or user.get_username()} if user else None


class IncidentListSerializer(serializers.ModelSerializer):
    services = RefSerializer(many=True, read_only=True)
    commander = UserRefField(read_only=True)

    class Meta:
        model = Incident
        fields = [
            "id", "reference", "title", "severity", "status", "services", "commander", "is_drill", "detected_at",
            "opened_at", "acknowledged_at", "resolved_at", "closed_at", "version",
        ]  # fmt: skip
        read_only_fields = fields


class TimelineEntrySerializer(serializers.ModelSerializer):
    author = UserRefField(read_only=True)

    class Meta:
        model = TimelineEntry
        fields = ["id", "at", "kind", "author", "message", "data"]
        read_only_fields = fields


class ChecklistItemSerializer(serializers.ModelSerializer):
    done_by = UserRefField(read_only=True)
    role_name = serializers.CharField(source="role.name", default="", read_only=True)

    class Meta:
        model = ChecklistItem
        fields = [
            "id", "phase", "order", "title", "instructions", "role", "role_name", "expected_minutes", "done_by",
            "done_at", "note", "plan_version",
        ]  # fmt: skip
        read_only_fields = fields


class AlertSerializer(serializers.ModelSerializer):
    service_code = serializers.CharField(source="service.code", default=None, read_only=True)

    class Meta:
        model = Alert
        fields = [
            "id", "source", "fingerprint", "severity", "summary", "service", "service_code", "details", "status",
            "first_seen", "last_seen", "resolved_at", "count", "incident", "silence", "is_drill",
        ]  # fmt: skip
        read_only_fields = fields


class IncidentDetailSerializer(IncidentListSerializer):
    opened_by = UserRefField(read_only=True)
    timeline = TimelineEntrySerializer(many=True, read_only=True)
    checklist = ChecklistItemSerializer(many=True, read_only=True)
    alerts = AlertSerializer(many=True, read_only=True)
    allowed_transitions = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta(IncidentListSerializer.Meta):
        fields = [
            *IncidentListSerializer.Meta.fields, "description", "business_impact", "opened_by", "plan",
            "plan_version", "investigating_at", "mitigated_at", "reopened_at", "reopen_count", "escalation_policy",
            "escalation_level", "next_escalation_at", "public_update", "public_update_at", "allowed_transitions",
            "timeline", "checklist", "alerts",
        ]  # fmt: skip
        read_only_fields = fields


class IncidentCreateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    severity = serializers.ChoiceField(choices=Severity.choices)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    business_impact = serializers.CharField(required=False, allow_blank=True, default="")
    services = serializers.PrimaryKeyRelatedField(
        queryset=ERPService.objects.all(), many=True, required=False, default=list
    )
    commander = serializers.PrimaryKeyRelatedField(
        queryset=get_user_model().objects.filter(is_active=True), required=False, allow_null=True, default=None
    )
    detected_at = serializers.DateTimeField(required=False, allow_null=True, default=None)


class IncidentUpdateSerializer(IncidentCreateSerializer):
    version = serializers.IntegerField(min_value=1, help_text="The version the edit was made against.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            if name != "version":
                field.required = False
                field.default = serializers.empty


class TransitionSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    version = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1)


class ReopenSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)
    version = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1)


class MessageSerializer(serializers.Serializer):
    message = serializers.CharField(max_length=10000)


class AttachPlanSerializer(serializers.Serializer):
    plan = serializers.PrimaryKeyRelatedField(queryset=EmergencyPlan.objects.all())


class ChecklistDoneSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


@extend_schema_field(OpenApiTypes.STR)
class ServiceField(serializers.Field):
    """An ERP service by code ("sales") or id (42), as monitoring tools know it."""

    def to_internal_value(self, data):
        if data in (None, ""):
            return None
        service = None
        if isinstance(data, int) or (isinstance(data, str) and data.isdigit()):
            service = ERPService.objects.filter(pk=int(data)).first()
        if service is None and isinstance(data, str):
            service = ERPService.objects.filter(code=data).first()
        if service is None:
            raise serializers.ValidationError("Unknown service: give its code or id.")
        return service

    def to_representation(self, value):
        return value.code if value else None


class RaiseAlertSerializer(serializers.Serializer):
    source = serializers.CharField(max_length=64)
    fingerprint = serializers.CharField(max_length=255)
    severity = serializers.ChoiceField(choices=Severity.choices)
    summary = serializers.CharField(max_length=500)
    service = ServiceField(required=False, allow_null=True, default=None)
    details = serializers.DictField(required=False, default=dict)
    at = serializers.DateTimeField(required=False, allow_null=True, default=None)


class ResolveAlertSerializer(serializers.Serializer):
    source = serializers.CharField(max_length=64)
    fingerprint = serializers.CharField(max_length=255)
    at = serializers.DateTimeField(required=False, allow_null=True, default=None)


class SilenceSerializer(serializers.ModelSerializer):
    author = UserRefField(read_only=True)
    is_active = serializers.SerializerMethodField()

    class Meta:
        model = Silence
        fields = [
            "id", "kind", "service", "source", "fingerprint_pattern", "summary_pattern", "starts_at", "ends_at",
            "reason", "author", "created_at", "is_active",
        ]  # fmt: skip
        read_only_fields = ["author", "created_at", "is_active"]

    def get_is_active(self, obj) -> bool:
        return obj.is_active()


class ChannelSerializer(serializers.ModelSerializer):
    # The signing secret can be set, never read back.
    secret = serializers.CharField(write_only=True, required=False, allow_blank=True, max_length=255)
    has_secret = serializers.SerializerMethodField()

    class Meta:
        model = NotificationChannel
        fields = [
            "id", "name", "kind", "target", "secret", "has_secret", "min_severity", "audience", "enabled",
            "include_drills", "rate_limit_per_minute", "created_at",
        ]  # fmt: skip
        read_only_fields = ["created_at", "has_secret"]

    def get_has_secret(self, obj) -> bool:
        return bool(obj.secret)


class LevelSerializer(serializers.ModelSerializer):
    class Meta:
        model = EscalationLevel
        fields = ["id", "policy", "order", "delay_minutes", "notify_role", "notify_user", "notify_channel"]
        validators = []  # uniqueness of (policy, order) is checked by the service's full_clean


class PolicySerializer(serializers.ModelSerializer):
    levels = LevelSerializer(many=True, read_only=True)

    class Meta:
        model = EscalationPolicy
        fields = ["id", "name", "description", "services", "is_default", "repeat_minutes", "levels", "created_at"]
        read_only_fields = ["levels", "created_at"]


# --- Incidents -----------------------------------------------------------------------------------


class IncidentCursorPagination(CursorPagination):
    """Keyset pagination on (-opened_at, -id): served by the (opened_at, id) index at any depth."""

    ordering = ("-opened_at", "-id")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


INCIDENT_FILTERS = ("status", "severity", "service", "commander", "opened_from", "opened_to", "q", "is_drill")


def _incident_filters(request: Request) -> dict:
    params = request.query_params
    filters: dict = {}
    errors = {}
    for name in ("status", "severity"):
        values = [v for v in params.getlist(name) for v in v.split(",") if v]
        allowed = Incident.Status.values if name == "status" else Severity.values
        bad = [v for v in values if v not in allowed]
        if bad:
            errors[name] = [f"Unknown value: {', '.join(bad)}."]
        filters[name] = values
    for name in ("service", "commander"):
        value = params.get(name)
        if value:
            if not value.isdigit():
                errors[name] = ["Give an id."]
            filters[name] = value
    for name in ("opened_from", "opened_to"):
        value = params.get(name)
        if value:
            date = parse_date(value) if len(value) == 10 else None
            if date is None:
                errors[name] = ["Give a date as YYYY-MM-DD."]
            filters[name] = date
    filters["q"] = params.get("q", "")
    if params.get("is_drill") not in (None, ""):
        filters["is_drill"] = params.get("is_drill")
    if errors:
        raise APIValidationError(errors)
    return filters


class IncidentViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Incidents: list (cursor pages, newest first), detail with timeline, checklist and alerts,
    open, edit with version, and the lifecycle actions."""

    queryset = Incident.objects.all()
    pagination_class = IncidentCursorPagination
    filter_backends: list = []  # filtering and order are the selector's; the cursor needs a fixed order

    def get_permissions(self):
        if self.action in ACTIONS or self.action in (
            "note",
            "attach_plan",
            "public_update",
            "checklist_done",
            "checklist_undo",
        ):
            return [ChangeOnPost()]
        return [ModelPermissions()]

    def get_queryset(self):
        if self.action == "list":
            return selectors.incident_list(filters=_incident_filters(self.request))
        return Incident.objects.all()

    def get_serializer_class(self):
        return IncidentListSerializer if self.action == "list" else IncidentDetailSerializer

    def _detail(self, pk, status_code=status.HTTP_200_OK) -> Response:
        incident = get_object_or_404(Incident.objects.all(), pk=pk)
        return Response(IncidentDetailSerializer(selectors.incident_detail(pk=incident.pk)).data, status=status_code)

    def retrieve(self, request, pk=None):
        return self._detail(pk)

    @extend_schema(request=IncidentCreateSerializer, responses=IncidentDetailSerializer)
    def create(self, request):
        data = _validated(IncidentCreateSerializer, request)
        incident = services.incident_open(user=request.user, **data)
        return self._detail(incident.pk, status.HTTP_201_CREATED)

    @extend_schema(request=IncidentUpdateSerializer, responses=IncidentDetailSerializer)
    def partial_update(self, request, pk=None):
        incident = self.get_object()
        data = _validated(IncidentUpdateSerializer, request)
        version = data.pop("version")
        services.incident_update(incident=incident, user=request.user, expected_version=version, **data)
        return self._detail(incident.pk)

    def _transition(self, request, pk, to):
        incident = self.get_object()
        data = _validated(TransitionSerializer, request)
        services.incident_transition(
            incident=incident, to=to, user=request.user, note=data["note"], expected_version=data["version"]
        )
        return self._detail(incident.pk)

    @extend_schema(request=TransitionSerializer, responses=IncidentDetailSerializer)
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        return self._transition(request, pk, Incident.Status.ACKNOWLEDGED)

    @extend_schema(request=TransitionSerializer, responses=IncidentDetailSerializer)
    @action(detail=True, methods=["post"])
    def investigate(self, request, pk=None):
        return self._transition(request, pk, Incident.Status.INVESTIGATING)

    @extend_schema(request=TransitionSerializer, responses=IncidentDetailSerializer)
    @action(detail=True, methods=["post"])
    def mitigate(self, request, pk=None):
        return self._transition(request, pk, Incident.Status.MITIGATED)

    @extend_schema(request=TransitionSerializer, responses=IncidentDetailSerializer)
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        return self._transition(request, pk, Incident.Status.RESOLVED)

    @extend_schema(request=TransitionSerializer, responses=IncidentDetailSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        return self._transition(request, pk, Incident.Status.CLOSED)

    @extend_schema(request=ReopenSerializer, responses=IncidentDetailSerializer)
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        incident = self.get_object()
        data = _validated(ReopenSerializer, request)
        services.incident_reopen(
            incident=incident, user=request.user, reason=data["reason"], expected_version=data["version"]
        )
        return self._detail(incident.pk)

    @extend_schema(request=MessageSerializer, responses=TimelineEntrySerializer)
    @action(detail=True, methods=["post"])
    def note(self, request, pk=None):
        incident = self.get_object()
        data = _validated(MessageSerializer, request)
        entry = services.incident_add_note(incident=incident, user=request.user, message=data["message"])
        return Response(TimelineEntrySerializer(entry).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=MessageSerializer, responses=IncidentDetailSerializer)
    @action(detail=True, methods=["post"], url_path="public-update")
    def public_update(self, request, pk=None):
        incident = self.get_object()
        data = _validated(MessageSerializer, request)
        services.incident_publish_update(incident=incident, user=request.user, message=data["message"])
        return self._detail(incident.pk)

    @extend_schema(request=AttachPlanSerializer, responses=IncidentDetailSerializer)
    @action(detail=True, methods=["post"], url_path="attach-plan")
    def attach_plan(self, request, pk=None):
        incident = self.get_object()
        data = _validated(AttachPlanSerializer, request)
        services.incident_attach_plan(incident=incident, user=request.user, plan=data["plan"])
        return self._detail(incident.pk)

    def _item(self, pk, item_id) -> ChecklistItem:
        incident = self.get_object()
        return get_object_or_404(ChecklistItem, pk=item_id, incident=incident)

    @extend_schema(request=ChecklistDoneSerializer, responses=ChecklistItemSerializer)
    @action(detail=True, methods=["post"], url_path=r"checklist/(?P<item_id>\d+)/done")
    def checklist_done(self, request, pk=None, item_id=None):
        item = self._item(pk, item_id)
        data = _validated(ChecklistDoneSerializer, request)
        item = services.checklist_item_done(item=item, user=request.user, note=data["note"])
        return Response(ChecklistItemSerializer(item).data)

    @extend_schema(request=None, responses=ChecklistItemSerializer)
    @action(detail=True, methods=["post"], url_path=r"checklist/(?P<item_id>\d+)/undo")
    def checklist_undo(self, request, pk=None, item_id=None):
        item = services.checklist_item_undo(item=self._item(pk, item_id), user=request.user)
        return Response(ChecklistItemSerializer(item).data)


ACTIONS = ("acknowledge", "investigate", "mitigate", "resolve", "close", "reopen")


def _validated(serializer_class, request: Request, **kwargs) -> dict:
    serializer = serializer_class(data=request.data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


# --- Alerts --------------------------------------------------------------------------------------


class AlertViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Alerts as sources raised them. Machines raise and resolve through the two POST actions."""

    serializer_class = AlertSerializer
    filter_backends: list = []

    def get_queryset(self):
        params = self.request.query_params
        return selectors.alert_list(filters={k: params.get(k) for k in ("status", "source", "service", "incident")})

    def get_permissions(self):
        if self.action in ("raise_alert", "resolve_alert"):
            return [IsAuthenticated(), has_perm("incidents.raise_alert")()]
        return [ModelPermissions()]

    @extend_schema(request=RaiseAlertSerializer, responses=AlertSerializer)
    @action(detail=False, methods=["post"], url_path="raise")
    def raise_alert(self, request):
        """Raise (or repeat) an alert: 201 when a new alert was created, 200 for a repeat."""
        data = _validated(RaiseAlertSerializer, request)
        alert = services.raise_alert(**data)
        code = status.HTTP_201_CREATED if alert.count == 1 else status.HTTP_200_OK
        return Response(AlertSerializer(alert).data, status=code)

    @extend_schema(request=ResolveAlertSerializer, responses=AlertSerializer)
    @action(detail=False, methods=["post"], url_path="resolve")
    def resolve_alert(self, request):
        """Resolve the active alert with this source and fingerprint; 404 when none is active."""
        data = _validated(ResolveAlertSerializer, request)
        alert = services.resolve_alert(**data)
        if alert is None:
            return Response({"detail": "No active alert with this source and fingerprint."}, status=404)
        return Response(AlertSerializer(alert).data)


# --- Silences, channels, policies ----------------------------------------------------------------


class _ServiceBackedViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    pass


class SilenceViewSet(_ServiceBackedViewSet):
    queryset = Silence.objects.select_related("author", "service")
    serializer_class = SilenceSerializer
    search_fields = ["reason", "source"]
    ordering_fields = ["starts_at", "ends_at"]
    filterset_fields = ["kind", "service"]

    def get_permissions(self):
        return [ChangeOnPost()] if self.action == "expire" else [ModelPermissions()]

    def perform_create(self, serializer):
        serializer.instance = services.silence_create(user=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.silence_update(silence=serializer.instance, **serializer.validated_data)

    def perform_destroy(self, instance):
        services.silence_delete(silence=instance)

    @extend_schema(request=None, responses=SilenceSerializer)
    @action(detail=True, methods=["post"])
    def expire(self, request, pk=None):
        silence = services.silence_expire(silence=self.get_object(), user=request.user)
        return Response(SilenceSerializer(silence).data)


class ChannelViewSet(_ServiceBackedViewSet):
    queryset = NotificationChannel.objects.all()
    serializer_class = ChannelSerializer
    search_fields = ["name", "target"]
    ordering_fields = ["name", "kind"]
    filterset_fields = ["kind", "audience", "enabled"]

    def get_permissions(self):
        return [ChangeOnPost()] if self.action == "test" else [ModelPermissions()]

    def perform_create(self, serializer):
        serializer.instance = services.channel_create(**serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.channel_update(channel=serializer.instance, **serializer.validated_data)

    def perform_destroy(self, instance):
        services.channel_delete(channel=instance)

    @extend_schema(request=None, responses={200: dict})
    @action(detail=True, methods=["post"])
    def test(self, request, pk=None):
        """Send a test message now; answers whether it went out, and why not."""
        notification = services.send_test(channel=self.get_object(), user=request.user)
        return Response({"status": notification.status, "error": notification.last_error})


class PolicyViewSet(_ServiceBackedViewSet):
    queryset = EscalationPolicy.objects.prefetch_related("services", "levels")
    serializer_class = PolicySerializer
    search_fields = ["name"]
    ordering_fields = ["name"]

    def perform_create(self, serializer):
        serializer.instance = services.policy_create(**serializer.validated_data)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        serializer.instance = services.policy_update(policy=serializer.instance, **data)

    def perform_destroy(self, instance):
        services.policy_delete(policy=instance)


class LevelViewSet(_ServiceBackedViewSet):
    queryset = EscalationLevel.objects.select_related("policy")
    serializer_class = LevelSerializer
    filterset_fields = ["policy"]
    ordering_fields = ["order"]

    def perform_create(self, serializer):
        serializer.instance = services.level_create(**serializer.validated_data)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        data.pop("policy", None)  # a level stays in its policy
        serializer.instance = services.level_update(level=serializer.instance, **data)

    def perform_destroy(self, instance):
        services.level_delete(level=instance)


# --- Statistics and status -----------------------------------------------------------------------


class StatsView(APIView):
    """Time to acknowledge and to recover (seconds; mean and median) by severity, service and month,
    and open/closed counts. Optional ?since=YYYY-MM-DD&until=YYYY-MM-DD (opened in that period)."""

    permission_classes = [has_perm("incidents.view_incident")]

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        import datetime

        from django.utils import timezone

        bounds = {}
        for name in ("since", "until"):
            value = request.query_params.get(name)
            if value:
                date = parse_date(value) if len(value) == 10 else None
                if date is None:
                    raise APIValidationError({name: ["Give a date as YYYY-MM-DD."]})
                bounds[name] = timezone.make_aware(datetime.datetime.combine(date, datetime.time.min))
        if "until" in bounds:
            bounds["until"] += datetime.timedelta(days=1)  # inclusive end date
        include_drills = request.query_params.get("include_drills") in ("1", "true")
        return Response(services.response_stats(include_drills=include_drills, **bounds))


class StatusView(APIView):
    """Each business-facing ERP service: operational, degraded or down, with the fallback
    procedures to follow and the latest public update."""

    permission_classes = [has_perm("incidents.view_status")]

    @extend_schema(
        responses={
            200: inline_serializer(
                "ServiceState",
                fields={
                    "service": RefSerializer(),
                    "state": serializers.ChoiceField(choices=["operational", "degraded", "down"]),
                    "incidents": serializers.ListField(child=serializers.DictField()),
                    "fallbacks": serializers.ListField(child=serializers.DictField()),
                    "public_update": serializers.CharField(),
                    "public_update_at": serializers.DateTimeField(allow_null=True),
                },
                many=True,
            )
        }
    )
    def get(self, request):
        return Response(
            [
                {
                    "service": {"id": s["service"].pk, "name": s["service"].name, "code": s["service"].code},
                    "state": s["state"],
                    "incidents": [
                        {"id": i.pk, "reference": i.reference, "severity": i.severity} for i in s["incidents"]
                    ]
                    if request.user.has_perm("incidents.view_incident")
                    else [],
                    "fallbacks": [
                        {"id": f.pk, "title": f.title, "url": request.build_absolute_uri(f.get_absolute_url())}
                        for f in s["fallbacks"]
                    ],
                    "public_update": s["public_update"],
                    "public_update_at": s["public_update_at"],
                }
                for s in services.service_states()
            ]
        )
