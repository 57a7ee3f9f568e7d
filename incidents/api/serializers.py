"""Serializers of the incident-response API: validation and shape only, no logic."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from plans.models import EmergencyPlan, ERPService, Severity

from ..models import (
    Alert,
    ChecklistItem,
    EscalationLevel,
    EscalationPolicy,
    Incident,
    NotificationChannel,
    Silence,
    TimelineEntry,
)


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
