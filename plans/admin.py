"""Admin for plans/: a back office for administrators, following the same rules as the app.

Saves go through plans/services.py (RTO within MTPD, no dependency cycles, a new plan starts with a
draft v1, a fallback's version grows when its content changes, an action item's completion date).
A plan version that is published or superseded is frozen: its page and its steps and communication
rules are read-only here, as everywhere else.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from . import services
from .models import (
    ActionItem,
    CommunicationRule,
    Department,
    EmergencyPlan,
    ERPService,
    FallbackProcedure,
    PlanStep,
    PlanVersion,
    Profile,
    ResponseRole,
    TeamMember,
)


def adopt_saved(obj, saved) -> None:
    """Make the admin's instance the row a service saved (services return their own instance;
    the admin keeps using `obj` for the m2m save, the log entry and the redirect)."""
    for field in obj._meta.concrete_fields:
        setattr(obj, field.attname, getattr(saved, field.attname))
    obj._state.adding = False
    obj._state.db = saved._state.db


def cleaned_fields(form, names) -> dict:
    return {name: form.cleaned_data[name] for name in names if name in form.cleaned_data}


def without_bulk_delete(actions: dict) -> dict:
    # The bulk "delete selected" action deletes with a queryset and would skip the rules of the
    # services (a published plan is kept, a service covered by a plan stays); delete one by one.
    actions.pop("delete_selected", None)
    return actions


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ("name", "description", "people_count")
    search_fields = ("name", "description")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(people_count=Count("people"))

    @admin.display(description=_("people"), ordering="people_count")
    def people_count(self, obj):
        return obj.people_count


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ("user", "department", "phone", "chat_handle")
    list_filter = ("department",)
    list_select_related = ("user", "department")
    search_fields = ("user__username", "user__first_name", "user__last_name", "phone", "chat_handle")
    autocomplete_fields = ("user",)


class ERPServiceAdminForm(forms.ModelForm):
    class Meta:
        model = ERPService
        fields = (*services.SERVICE_FIELDS, "depends_on")

    def clean(self):
        cleaned = super().clean()
        depends_on = cleaned.get("depends_on")
        if depends_on is not None:
            # The same check the service runs, here so a cycle is a form error and not a 500.
            try:
                services.check_dependencies(self.instance if self.instance.pk else None, depends_on)
            except ValidationError as error:
                self.add_error(None, error)
        return cleaned


@admin.register(ERPService)
class ERPServiceAdmin(admin.ModelAdmin):
    form = ERPServiceAdminForm
    list_display = (
        "name", "code", "kind", "criticality", "rto_display", "rpo_display", "mtpd_display", "owner_department",
        "business_owner",
    )  # fmt: skip
    list_filter = ("kind", "criticality", "owner_department")
    list_select_related = ("owner_department", "business_owner")
    search_fields = ("name", "code", "description")
    filter_horizontal = ("depends_on",)
    autocomplete_fields = ("business_owner",)

    @admin.display(description=_("RTO"), ordering="rto_minutes")
    def rto_display(self, obj):
        return obj.rto_display

    @admin.display(description=_("RPO"), ordering="rpo_minutes")
    def rpo_display(self, obj):
        return obj.rpo_display

    @admin.display(description=_("MTPD"), ordering="mtpd_minutes")
    def mtpd_display(self, obj):
        return obj.mtpd_display

    def save_model(self, request, obj, form, change):
        fields = cleaned_fields(form, services.SERVICE_FIELDS)
        depends_on = form.cleaned_data.get("depends_on", [])
        if change:
            saved = services.service_update(service=obj, depends_on=depends_on, **fields)
        else:
            saved = services.service_create(depends_on=depends_on, **fields)
        adopt_saved(obj, saved)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.plans.exists():
            return False  # covered by emergency plans: remove it from them first
        return super().has_delete_permission(request, obj)

    def delete_model(self, request, obj):
        services.service_delete(service=obj)

    def get_actions(self, request):
        return without_bulk_delete(super().get_actions(request))


class TeamMemberInline(admin.TabularInline):
    model = TeamMember
    fields = ("rank", "name", "user", "email", "phone", "chat_handle")
    autocomplete_fields = ("user",)
    extra = 0


@admin.register(ResponseRole)
class ResponseRoleAdmin(admin.ModelAdmin):
    list_display = ("name", "key", "order", "member_count")
    search_fields = ("name", "key", "description", "responsibilities")
    prepopulated_fields = {"key": ("name",)}
    inlines = [TeamMemberInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(member_count=Count("members"))

    @admin.display(description=_("members"), ordering="member_count")
    def member_count(self, obj):
        return obj.member_count


@admin.register(TeamMember)
class TeamMemberAdmin(admin.ModelAdmin):
    list_display = ("name", "role", "rank", "email", "phone", "chat_handle", "user")
    list_filter = ("role",)
    list_select_related = ("role", "user")
    search_fields = ("name", "email", "phone", "chat_handle", "role__name")
    autocomplete_fields = ("user",)


class PlanVersionInline(admin.TabularInline):
    """The versions of a plan, listed on the plan's page; each opens on its own page."""

    model = PlanVersion
    fields = ("number", "status", "created_by", "approved_by", "published_at")
    readonly_fields = fields
    show_change_link = True
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(EmergencyPlan)
class EmergencyPlanAdmin(admin.ModelAdmin):
    list_display = ("title", "scenario", "owner", "review_date", "review_overdue")
    list_filter = ("scenario", "services")
    list_select_related = ("owner",)
    search_fields = ("title",)
    filter_horizontal = ("services",)
    autocomplete_fields = ("owner",)
    date_hierarchy = "review_date"
    inlines = [PlanVersionInline]

    @admin.display(description=_("review overdue"), boolean=True)
    def review_overdue(self, obj):
        return obj.review_overdue

    def save_model(self, request, obj, form, change):
        fields = cleaned_fields(form, ("title", "scenario", "owner", "review_date"))
        plan_services = form.cleaned_data.get("services", [])
        if change:
            saved = services.plan_update(plan=obj, services=plan_services, **fields)
        else:
            # A new plan starts with an empty draft v1, as in the app.
            saved = services.plan_create(services=plan_services, user=request.user, **fields)
        adopt_saved(obj, saved)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.versions.exclude(status=PlanVersion.Status.DRAFT).exists():
            return False  # a plan that has been published is kept for the record
        return super().has_delete_permission(request, obj)

    def delete_model(self, request, obj):
        services.plan_delete(plan=obj)

    def get_actions(self, request):
        return without_bulk_delete(super().get_actions(request))


class FrozenVersionInlineMixin:
    """Steps and communication rules can only be added, changed or removed while the version is a draft."""

    extra = 0

    def _editable(self, obj) -> bool:
        return obj is None or not obj.is_frozen

    def has_add_permission(self, request, obj=None):
        return self._editable(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._editable(obj) and super().has_delete_permission(request, obj)


class PlanStepInline(FrozenVersionInlineMixin, admin.TabularInline):
    model = PlanStep
    fields = ("order", "phase", "title", "role", "expected_minutes", "instructions")

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "instructions":
            kwargs["widget"] = forms.Textarea(attrs={"rows": 2, "cols": 50})
        return super().formfield_for_dbfield(db_field, request, **kwargs)


class CommunicationRuleInline(FrozenVersionInlineMixin, admin.TabularInline):
    model = CommunicationRule
    fields = ("severity", "audience", "channel", "timing", "message_template")

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "message_template":
            kwargs["widget"] = forms.Textarea(attrs={"rows": 2, "cols": 50})
        return super().formfield_for_dbfield(db_field, request, **kwargs)


@admin.register(PlanVersion)
class PlanVersionAdmin(admin.ModelAdmin):
    list_display = ("__str__", "plan", "number", "status", "created_by", "approved_by", "published_at")
    list_filter = ("status", "plan")
    list_select_related = ("plan", "created_by", "approved_by")
    search_fields = ("plan__title", "summary", "change_note")
    fields = (
        "plan", "number", "status", "summary", "activation_criteria", "backup_strategy", "standby_systems",
        "change_note", "created_by", "created_at", "approved_by", "published_at",
    )  # fmt: skip
    readonly_fields = ("plan", "number", "status", "created_by", "created_at", "approved_by", "published_at")
    inlines = [PlanStepInline, CommunicationRuleInline]
    actions = ["publish_drafts"]

    def has_add_permission(self, request):
        # New versions are drafts started from the plan (copying the newest version), never typed in.
        return False

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.is_frozen:
            return False  # published and superseded versions are frozen for good
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and (obj.is_frozen or obj.plan.versions.count() == 1):
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        adopt_saved(obj, services.version_update(version=obj, **cleaned_fields(form, services.VERSION_FIELDS)))

    def delete_model(self, request, obj):
        services.version_discard(version=obj)

    def get_actions(self, request):
        return without_bulk_delete(super().get_actions(request))

    @admin.action(description=_("Approve and publish the selected drafts"), permissions=["approve"])
    def publish_drafts(self, request, queryset):
        for version in queryset.select_related("plan"):
            try:
                services.version_publish(version=version, user=request.user)
            except (ValidationError, PermissionDenied) as error:
                self.message_user(request, f"{version}: {' '.join(getattr(error, 'messages', [str(error)]))}",
                                  messages.ERROR)  # fmt: skip
            else:
                self.message_user(request, _("%(version)s is published.") % {"version": version}, messages.SUCCESS)

    def has_approve_permission(self, request):
        return request.user.has_perm("plans.approve_planversion")


class DraftVersionContentAdmin(admin.ModelAdmin):
    """Standalone admin of steps and communication rules: read-only once their version is frozen."""

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.version.is_frozen:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.version.is_frozen:
            return False
        return super().has_delete_permission(request, obj)

    def get_actions(self, request):
        return without_bulk_delete(super().get_actions(request))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "version":
            kwargs["queryset"] = PlanVersion.objects.filter(status=PlanVersion.Status.DRAFT).select_related("plan")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(PlanStep)
class PlanStepAdmin(DraftVersionContentAdmin):
    list_display = ("title", "version", "order", "phase", "role", "expected_minutes")
    list_filter = ("phase", "role", "version__status")
    list_select_related = ("version__plan", "role")
    search_fields = ("title", "instructions", "version__plan__title")


@admin.register(CommunicationRule)
class CommunicationRuleAdmin(DraftVersionContentAdmin):
    list_display = ("__str__", "version", "severity", "audience", "channel", "timing")
    list_filter = ("severity", "channel", "version__status")
    list_select_related = ("version__plan",)
    search_fields = ("audience", "message_template", "version__plan__title")


@admin.register(FallbackProcedure)
class FallbackProcedureAdmin(admin.ModelAdmin):
    list_display = ("title", "service", "audience", "version", "updated_at")
    list_filter = ("service",)
    list_select_related = ("service",)
    search_fields = ("title", "audience", "when_to_use", "steps", "paper_records", "reentry")
    readonly_fields = ("version", "updated_at")

    def save_model(self, request, obj, form, change):
        fields = cleaned_fields(form, services.FALLBACK_FIELDS)
        if change:
            # The version grows when the content changes, so acknowledgements are asked again.
            saved = services.fallback_update(procedure=obj, **fields)
        else:
            saved = services.fallback_create(**fields)
        adopt_saved(obj, saved)


@admin.register(ActionItem)
class ActionItemAdmin(admin.ModelAdmin):
    list_display = ("title", "owner", "due_date", "status", "is_overdue", "plan")
    list_filter = ("status", "plan")
    list_select_related = ("owner", "plan")
    search_fields = ("title", "description")
    date_hierarchy = "due_date"
    autocomplete_fields = ("owner",)
    fields = ("title", "description", "owner", "due_date", "status", "plan", "completed_at", "source_type", "source_id")
    readonly_fields = ("completed_at", "source_type", "source_id")

    @admin.display(description=_("overdue"), boolean=True)
    def is_overdue(self, obj):
        return obj.is_overdue

    def save_model(self, request, obj, form, change):
        fields = cleaned_fields(form, services.ACTION_FIELDS)
        if change:
            saved = services.action_item_update(item=obj, **fields)
        else:
            saved = services.action_item_create(**fields)
            if saved.status != ActionItem.Status.OPEN:
                saved = services.action_item_update(item=saved, status=saved.status)  # sets the completion date
        adopt_saved(obj, saved)
