"""Monitoring API: checks (CRUD, secrets masked), pushed metrics, heartbeats, log lines and
security events (token holding monitoring.push_metrics), and a receiver for Prometheus Alertmanager webhooks (payload version 4).
Thin views: validate with a serializer, call the service, render."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from erpcontinuity.api_permissions import ModelPermissions
from incidents.services import raise_alert, resolve_alert
from plans.models import ERPService, Severity

from . import services
from .models import SECRET_SETTINGS, Check, mask_settings

ALERTMANAGER_SOURCE = "alertmanager"
ALERTMANAGER_SEVERITY = {"critical": Severity.SEV2, "warning": Severity.SEV3}
SERVICE_LABEL = "erp_service"  # Alertmanager label carrying ERPService.code


class CanPushMetrics(BasePermission):
    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and user.has_perm("monitoring.push_metrics"))


class CheckSerializer(serializers.ModelSerializer):
    service_name = serializers.CharField(source="service.name", read_only=True)

    class Meta:
        model = Check
        fields = [
            "id", "service", "service_name", "name", "kind", "settings", "interval_seconds", "timeout_seconds",
            "comparison", "warning_threshold", "critical_threshold", "breaches_to_fire", "recoveries_to_clear",
            "use_baseline", "baseline_sigma", "paused", "state", "last_value", "last_run_at", "last_error",
            "last_ping_at", "next_run_at",
        ]  # fmt: skip
        read_only_fields = ["state", "last_value", "last_run_at", "last_error", "last_ping_at", "next_run_at"]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["settings"] = mask_settings(instance.settings)
        return data


class CheckViewSet(viewsets.ModelViewSet):
    serializer_class = CheckSerializer
    queryset = Check.objects.select_related("service")
    filterset_fields = ["service", "kind", "state", "paused"]
    search_fields = ["name", "service__name"]

    def get_permissions(self):
        if self.action == "ping":
            return [CanPushMetrics()]
        return [ModelPermissions()]

    def perform_create(self, serializer):
        serializer.instance = services.check_create(**serializer.validated_data)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        check = serializer.instance
        if "settings" in data and isinstance(data["settings"], dict):
            # A masked secret sent back unchanged keeps the stored one.
            masked = mask_settings(check.settings)
            for key in SECRET_SETTINGS:
                if key in data["settings"] and data["settings"][key] == masked.get(key):
                    data["settings"][key] = check.settings.get(key)
        serializer.instance = services.check_update(check=check, **data)

    @extend_schema(request=None, responses=CheckSerializer)
    @action(detail=True, methods=["post"])
    def ping(self, request, pk=None):
        """A heartbeat from a batch job."""
        check = self.get_object()
        return Response(CheckSerializer(services.heartbeat_ping(check=check)).data)


class MetricSampleSerializer(serializers.Serializer):
    """One pushed sample (documentation of the batch; the service validates the batch whole)."""

    check = serializers.IntegerField(help_text=_("The check's id."))
    value = serializers.FloatField(required=False, allow_null=True)
    at = serializers.DateTimeField(required=False, help_text=_("ISO 8601 with a time zone; default now."))
    error = serializers.CharField(required=False, allow_blank=True)


class MetricBatchSerializer(serializers.Serializer):
    samples = MetricSampleSerializer(many=True)


class EventItemSerializer(serializers.Serializer):
    """One pushed log line or security event (documentation; the service validates the batch)."""

    kind = serializers.CharField(help_text="log, login_failure, privileged_operation or deletion")
    service = serializers.CharField(help_text=_("The ERP service's code."))
    at = serializers.DateTimeField(required=False, help_text=_("ISO 8601 with a time zone; default now."))
    user = serializers.CharField(required=False, allow_blank=True, max_length=150)
    source = serializers.CharField(required=False, allow_blank=True, max_length=255)
    message = serializers.CharField(required=False, allow_blank=True, help_text=_("The log line (required for log)."))


class EventBatchSerializer(serializers.Serializer):
    events = EventItemSerializer(many=True)


class WrittenSerializer(serializers.Serializer):
    written = serializers.IntegerField()


class EventsView(APIView):
    """POST {"events": [{"kind": "login_failure", "service": "erp-core", "user": "jdoe",
    "source": "10.0.0.7", "at": "2026-…Z"}, {"kind": "log", "service": "erp-core",
    "message": "ORA-00060: deadlock detected"}, ...]} → 201. Log lines feed log pattern checks,
    the other kinds security and behaviour rules. A bad item gives 400 naming it
    ("events[3].service") and nothing of the batch is written."""

    permission_classes = [CanPushMetrics]

    @extend_schema(request=EventBatchSerializer, responses={201: WrittenSerializer})
    def post(self, request):
        events = request.data.get("events") if isinstance(request.data, dict) else None
        written = services.ingest_events(events=events)
        return Response({"written": written}, status=status.HTTP_201_CREATED)


class MetricsView(APIView):
    """POST {"samples": [{"check": id, "value": 1.5, "at": "2026-…Z", "error": ""}, ...]} → 201.
    A bad sample gives 400 naming it ("samples[3].value") and nothing of the batch is written."""

    permission_classes = [CanPushMetrics]

    @extend_schema(request=MetricBatchSerializer, responses={201: WrittenSerializer})
    def post(self, request):
        samples = request.data.get("samples") if isinstance(request.data, dict) else None
        written = services.ingest_metrics(samples=samples, user=request.user)
        return Response({"written": written}, status=status.HTTP_201_CREATED)


def _validate_am_status(value: str) -> str:
    # A plain CharField (not a ChoiceField) keeps the OpenAPI enum names free of collisions.
    if value not in ("firing", "resolved"):
        raise serializers.ValidationError(_('Use "firing" or "resolved".'))
    return value


class AlertmanagerAlertSerializer(serializers.Serializer):
    status = serializers.CharField(validators=[_validate_am_status])
    fingerprint = serializers.CharField(max_length=200)
    labels = serializers.DictField(child=serializers.CharField(allow_blank=True))
    annotations = serializers.DictField(child=serializers.CharField(allow_blank=True), required=False, default=dict)
    startsAt = serializers.DateTimeField(required=False)  # noqa: N815 - Alertmanager's names
    endsAt = serializers.DateTimeField(required=False)  # noqa: N815


class AlertmanagerPayloadSerializer(serializers.Serializer):
    version = serializers.CharField()
    status = serializers.CharField(validators=[_validate_am_status])
    alerts = AlertmanagerAlertSerializer(many=True, allow_empty=False)

    def validate_version(self, value):
        if value != "4":
            raise serializers.ValidationError(_("Only Alertmanager webhook payload version 4 is supported."))
        return value

    def validate_alerts(self, alerts):
        for i, alert in enumerate(alerts):
            if not alert["labels"].get("alertname"):
                raise serializers.ValidationError({i: {"labels": [_("An alert needs the alertname label.")]}})
        return alerts


class AlertmanagerView(APIView):
    """Prometheus Alertmanager webhook receiver (payload version 4). Firing alerts raise and
    resolved alerts resolve (source "alertmanager", Alertmanager's fingerprint); severity from
    labels.severity (critical → sev2, otherwise sev3); the ERP service from the `erp_service` label
    (an ERPService code)."""

    permission_classes = [CanPushMetrics]

    @extend_schema(request=AlertmanagerPayloadSerializer, responses={200: None})
    def post(self, request):
        serializer = AlertmanagerPayloadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        alerts = serializer.validated_data["alerts"]
        codes = {a["labels"].get(SERVICE_LABEL) for a in alerts} - {None, ""}
        by_code = {s.code: s for s in ERPService.objects.filter(code__in=codes)}
        raised = resolved = 0
        with transaction.atomic():
            for alert in alerts:
                labels, annotations = alert["labels"], alert["annotations"]
                if alert["status"] == "resolved":
                    resolve_alert(source=ALERTMANAGER_SOURCE, fingerprint=alert["fingerprint"], at=alert.get("endsAt"))
                    resolved += 1
                    continue
                raise_alert(
                    source=ALERTMANAGER_SOURCE,
                    fingerprint=alert["fingerprint"],
                    severity=ALERTMANAGER_SEVERITY.get(labels.get("severity", ""), Severity.SEV3),
                    summary=(annotations.get("summary") or labels["alertname"])[:255],
                    service=by_code.get(labels.get(SERVICE_LABEL, "")),
                    details={"labels": labels, "annotations": annotations},
                )
                raised += 1
        return Response({"raised": raised, "resolved": resolved})
