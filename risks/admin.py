"""Admin for the risk register. Saves go through risks/services.py so the scores, the level and the
next review date are computed exactly as in the app."""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from plans.admin import adopt_saved, cleaned_fields

from . import services
from .models import Risk


@admin.register(Risk)
class RiskAdmin(admin.ModelAdmin):
    list_display = (
        "title", "category", "inherent_score", "residual_score", "level", "owner", "treatment", "next_review_date",
        "review_overdue",
    )  # fmt: skip
    list_filter = (
        "category", "level", "treatment", ("owner", admin.RelatedOnlyFieldListFilter),
        ("services", admin.RelatedOnlyFieldListFilter),
    )  # fmt: skip
    list_select_related = ("owner",)
    search_fields = ("title", "description", "controls", "treatment_plan")
    filter_horizontal = ("services", "plans")
    autocomplete_fields = ("owner",)
    readonly_fields = ("inherent_score", "residual_score", "level", "next_review_date", "review_reminded_on")
    fieldsets = (
        (None, {"fields": ("title", "description", "category", "services", "owner")}),
        (_("Assessment"), {"fields": (
            ("likelihood", "impact"), ("residual_likelihood", "residual_impact"),
            ("inherent_score", "residual_score", "level"),
        )}),
        (_("Treatment"), {"fields": ("treatment", "treatment_plan", "controls", "plans")}),
        (_("Review"), {"fields": ("last_reviewed_on", "next_review_date", "review_reminded_on")}),
    )  # fmt: skip
    actions = ["mark_reviewed"]

    @admin.display(description=_("review overdue"), boolean=True)
    def review_overdue(self, obj):
        return obj.review_overdue

    def save_model(self, request, obj, form, change):
        fields = cleaned_fields(form, services.RISK_FIELDS)
        m2m = {"services": form.cleaned_data.get("services", []), "plans": form.cleaned_data.get("plans", [])}
        if change:
            saved = services.risk_update(risk=obj, **m2m, **fields)
        else:
            saved = services.risk_create(**m2m, **fields)
        adopt_saved(obj, saved)

    def delete_model(self, request, obj):
        services.risk_delete(risk=obj)

    @admin.action(description=_("Mark the selected risks reviewed today"), permissions=["change"])
    def mark_reviewed(self, request, queryset):
        for risk in queryset:
            services.risk_mark_reviewed(risk=risk)
        self.message_user(request, _("%(n)d risks marked reviewed.") % {"n": queryset.count()}, messages.SUCCESS)
