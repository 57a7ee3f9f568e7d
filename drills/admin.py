"""Admin for drills/: a back office following the app's rules. Drills are planned on their page
(services with frozen targets); here an administrator can correct a planned drill's details, read
everything recorded, and edit scenarios. Lifecycle fields are read-only: they change only through
drills/services.py (the run page, the API)."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from plans.admin import adopt_saved, cleaned_fields, without_bulk_delete

from . import services
from .models import Drill, DrillService, FeedToken, Finding, Inject, Scenario, StepRecord


class InjectInline(admin.TabularInline):
    model = Inject
    extra = 1


@admin.register(Scenario)
class ScenarioAdmin(admin.ModelAdmin):
    list_display = ("title", "kind")
    list_filter = ("kind",)
    search_fields = ("title", "description", "hypothesis")
    inlines = [InjectInline]

    def save_model(self, request, obj, form, change):
        fields = cleaned_fields(form, services.SCENARIO_FIELDS)
        saved = services.scenario_update(scenario=obj, **fields) if change else services.scenario_create(**fields)
        adopt_saved(obj, saved)


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class DrillServiceInline(ReadOnlyInline):
    model = DrillService
    fields = ("service", "target_rto_minutes", "target_rpo_minutes", "disruption_started_at", "restored_at",
              "data_loss_minutes")  # fmt: skip


class StepRecordInline(ReadOnlyInline):
    model = StepRecord
    fields = ("step", "started_at", "finished_at", "outcome", "note")


class FindingInline(ReadOnlyInline):
    model = Finding
    fields = ("kind", "severity", "title", "action_item")


@admin.register(Drill)
class DrillAdmin(admin.ModelAdmin):
    list_display = ("title", "scheduled_start", "kind", "status", "passed", "facilitator")
    list_filter = ("status", "kind")
    search_fields = ("title", "scenario__title")
    date_hierarchy = "scheduled_start"
    list_select_related = ("facilitator",)
    fields = ("title", "scenario", "plan_version", "kind", "scheduled_start", "duration_minutes", "location",
              "facilitator", "participant_roles", "status", "started_at", "completed_at", "reported_at",
              "cancelled_at", "cancel_reason", "hypothesis_held", "passed", "summary", "alert")  # fmt: skip
    readonly_fields = ("status", "started_at", "completed_at", "reported_at", "cancelled_at", "cancel_reason",
                       "hypothesis_held", "passed", "summary", "alert")  # fmt: skip
    inlines = [DrillServiceInline, StepRecordInline, FindingInline]

    def has_add_permission(self, request):
        return False  # planned on the drill page, where its services and their targets are chosen

    def save_model(self, request, obj, form, change):
        fields = cleaned_fields(form, services.DRILL_FIELDS)
        saved = services.drill_update(
            drill=obj, participant_roles=form.cleaned_data.get("participant_roles"), user=request.user, **fields
        )
        adopt_saved(obj, saved)

    def save_related(self, request, form, formsets, change):
        pass  # participant roles were saved by the service

    def get_actions(self, request):
        return without_bulk_delete(super().get_actions(request))


@admin.register(FeedToken)
class FeedTokenAdmin(admin.ModelAdmin):
    list_display = ("user", "created_at")
    fields = ("user", "created_at")
    readonly_fields = ("user", "created_at")
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Revoke (replace) the selected calendar links"))
    def revoke(self, request, queryset):
        for row in queryset.select_related("user"):
            services.feed_token_revoke(user=row.user)
