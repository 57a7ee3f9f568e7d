from django.contrib import admin

from .models import BackupLocation, BackupPolicy, BackupRun, Verification


class LocationInline(admin.TabularInline):
    model = BackupLocation
    extra = 0


@admin.register(BackupPolicy)
class BackupPolicyAdmin(admin.ModelAdmin):
    list_display = ["name", "service", "what", "expected_frequency_minutes", "enabled", "next_verification_at"]
    list_filter = ["what", "enabled"]
    search_fields = ["name", "service__name"]
    inlines = [LocationInline]


@admin.register(BackupRun)
class BackupRunAdmin(admin.ModelAdmin):
    list_display = ["file_path", "policy", "location", "status", "started_at", "size_bytes", "source"]
    list_filter = ["status", "source"]
    list_select_related = ["policy__service", "location"]


@admin.register(Verification)
class VerificationAdmin(admin.ModelAdmin):
    list_display = ["policy", "kind", "result", "started_at", "duration_seconds"]
    list_filter = ["kind", "result"]
    list_select_related = ["policy__service"]
