"""Backups API: backup jobs report runs (start / finish / fail) with a token holding
backups.report_backup; people list policies, runs and verifications and ask for "verify now".
Thin views: validate with a serializer, call the service, render."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from erpcontinuity.api_permissions import ModelPermissions

from . import services
from .models import BackupLocation, BackupPolicy, BackupRun, Verification


class CanReportBackups(BasePermission):
    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and user.has_perm("backups.report_backup"))


class CanChangePolicy(BasePermission):
    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and user.has_perm("backups.change_backuppolicy"))


# --- Serializers ---------------------------------------------------------------------------------


class BackupLocationSerializer(serializers.ModelSerializer):
    class Meta:
        model = BackupLocation
        fields = ["id", "name", "kind", "media_type", "offsite", "immutable_or_offline", "path", "file_pattern"]


class BackupPolicySerializer(serializers.ModelSerializer):
    service_name = serializers.CharField(source="service.name", read_only=True)
    scratch_target = serializers.CharField(source="scratch_target_display", read_only=True)
    locations = BackupLocationSerializer(many=True, read_only=True)

    class Meta:
        model = BackupPolicy
        fields = [
            "id", "service", "service_name", "name", "what", "expected_frequency_minutes", "grace_minutes",
            "retention_days", "min_copies", "min_media_kinds", "min_offsite", "require_offline_or_immutable",
            "restore_test_every_days", "verify_every_minutes", "scratch_target", "sanity_queries",
            "expected_tables", "expected_files", "min_size_bytes", "shrink_alert_ratio", "enabled",
            "next_verification_at", "locations",
        ]  # fmt: skip


class BackupRunSerializer(serializers.ModelSerializer):
    class Meta:
        model = BackupRun
        fields = [
            "id", "policy", "location", "backup_set", "started_at", "finished_at", "status", "file_path",
            "size_bytes", "file_mtime", "checksum_sha256", "message", "source",
        ]  # fmt: skip


class BackupVerificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Verification
        fields = [
            "id", "policy", "run", "kind", "result", "message", "started_at", "duration_seconds", "details",
            "measured_rpo_seconds",
        ]  # fmt: skip


class BackupRunReportSerializer(serializers.Serializer):
    """One body for the three reports. `finish` or `fail` without `run` records a one-shot run."""

    event = serializers.ChoiceField(choices=["start", "finish", "fail"])
    run = serializers.PrimaryKeyRelatedField(queryset=BackupRun.objects.select_related("location"), required=False)
    policy = serializers.PrimaryKeyRelatedField(queryset=BackupPolicy.objects.all(), required=False)
    location = serializers.PrimaryKeyRelatedField(queryset=BackupLocation.objects.all(), required=False)
    backup_set = serializers.CharField(required=False, allow_blank=True, max_length=255, default="")
    file_path = serializers.CharField(required=False, allow_blank=True, max_length=1000, default="")
    size_bytes = serializers.IntegerField(required=False, min_value=0, allow_null=True, default=None)
    checksum_sha256 = serializers.CharField(required=False, allow_blank=True, max_length=64, default="")
    message = serializers.CharField(required=False, allow_blank=True, default="")

    def validate(self, attrs):
        if attrs.get("run") is None:
            errors = {}
            if attrs.get("policy") is None:
                errors["policy"] = [_("Give the policy (or the run this report ends).")]
            if attrs.get("location") is None:
                errors["location"] = [_("Give the location (or the run this report ends).")]
            if attrs["event"] != "start" and errors:
                errors = {"run": [_("Give the run this report ends, or its policy and location.")], **errors}
            if errors:
                raise serializers.ValidationError(errors)
        elif attrs["event"] == "start":
            raise serializers.ValidationError({"run": [_("A start report creates the run; do not give one.")]})
        return attrs


# --- Views ---------------------------------------------------------------------------------------


class PolicyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = BackupPolicySerializer
    queryset = BackupPolicy.objects.select_related("service").prefetch_related("locations")
    filterset_fields = ["service", "enabled"]
    search_fields = ["name", "service__name"]

    def get_permissions(self):
        if self.action == "verify_now":
            return [CanChangePolicy()]
        return [ModelPermissions()]

    @extend_schema(request=None, responses={202: None})
    @action(detail=True, methods=["post"], url_path="verify-now")
    def verify_now(self, request, pk=None):
        """Queue a verification of every check, restore test included."""
        policy = self.get_object()
        services.request_verification(policy=policy, kinds=list(Verification.Kind.values))
        return Response({"detail": "Verification queued.", "policy": policy.pk}, status=status.HTTP_202_ACCEPTED)


class RunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = BackupRunSerializer
    queryset = BackupRun.objects.all()
    filterset_fields = ["policy", "location", "status", "source"]

    def get_permissions(self):
        if self.action == "create":
            return [CanReportBackups()]
        return [ModelPermissions()]

    @extend_schema(request=BackupRunReportSerializer, responses=BackupRunSerializer)
    def create(self, request):
        """Report a backup run: {"event": "start", "policy", "location"} → 201 with the run id;
        {"event": "finish", "run", "file_path", "size_bytes", "checksum_sha256"} or
        {"event": "fail", "run", "message"} → 200. Without "run", finish/fail record a one-shot run."""
        serializer = BackupRunReportSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        event, run = data["event"], data.get("run")
        if event == "start":
            run = services.run_report_start(
                policy=data["policy"], location=data["location"], backup_set=data["backup_set"]
            )
            return Response(BackupRunSerializer(run).data, status=status.HTTP_201_CREATED)
        code = status.HTTP_200_OK
        with transaction.atomic():  # a one-shot report is all or nothing
            if run is None:
                run = services.run_report_start(
                    policy=data["policy"], location=data["location"], backup_set=data["backup_set"]
                )
                code = status.HTTP_201_CREATED
            if event == "finish":
                run = services.run_report_finish(
                    run=run,
                    file_path=data["file_path"],
                    size_bytes=data["size_bytes"],
                    checksum_sha256=data["checksum_sha256"],
                )
            else:
                run = services.run_report_fail(run=run, message=data["message"])
        return Response(BackupRunSerializer(run).data, status=code)


class VerificationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = BackupVerificationSerializer
    queryset = Verification.objects.all()
    filterset_fields = ["policy", "kind", "result"]
