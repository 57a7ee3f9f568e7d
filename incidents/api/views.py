"""Views of the incident-response API: parse with a serializer, call a service, answer."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.utils.dateparse import parse_date
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError as APIValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from erpcontinuity.api_permissions import ModelPermissions
from plans.models import Severity

from .. import selectors, services
from ..models import ChecklistItem, EscalationLevel, EscalationPolicy, Incident, NotificationChannel, Silence
from .serializers import (
    AlertSerializer,
    AttachPlanSerializer,
    ChannelSerializer,
    ChecklistDoneSerializer,
    ChecklistItemSerializer,
    IncidentCreateSerializer,
    IncidentDetailSerializer,
    IncidentListSerializer,
    IncidentUpdateSerializer,
    LevelSerializer,
    MessageSerializer,
    PolicySerializer,
    RaiseAlertSerializer,
    RefSerializer,
    ReopenSerializer,
    ResolveAlertSerializer,
    SilenceSerializer,
    TimelineEntrySerializer,
    TransitionSerializer,
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
