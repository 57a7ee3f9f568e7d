"""Admin of training: a back office for administrators. Quiz and assignment changes made here
skip the authoring pages' checks, so authors are pointed at /training/manage/. Attempts,
completions and acknowledgements are evidence (who passed, who confirmed which version): the
admin shows them and never edits or adds them."""

from django.contrib import admin

from .models import Acknowledgement, Assignment, Attempt, Choice, Completion, Course, CourseAttachment, Question


class QuestionInline(admin.TabularInline):
    model = Question
    extra = 0


class ChoiceInline(admin.TabularInline):
    model = Choice
    extra = 0


@admin.register(Course)
class CourseAdmin(admin.ModelAdmin):
    list_display = ["title", "kind", "plan", "fallback", "pass_mark", "validity_months", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["title", "summary"]
    inlines = [QuestionInline]


@admin.register(Question)
class QuestionAdmin(admin.ModelAdmin):
    list_display = ["text", "course", "kind", "order"]
    list_filter = ["course"]
    inlines = [ChoiceInline]


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    list_display = ["course", "user", "department", "role", "due_date"]
    list_filter = ["course", "department", "role"]
    raw_id_fields = ["user"]


class RecordAdmin(admin.ModelAdmin):
    """Read-only: these rows are written by training/services.py only."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Attempt)
class AttemptAdmin(RecordAdmin):
    list_display = ["user", "course", "score", "passed", "submitted_at"]
    list_filter = ["course", "passed"]
    readonly_fields = ["answers"]


@admin.register(Completion)
class CompletionAdmin(RecordAdmin):
    list_display = ["user", "course", "completed_at", "expires_at"]
    list_filter = ["course"]


@admin.register(Acknowledgement)
class AcknowledgementAdmin(RecordAdmin):
    list_display = ["user", "plan_version", "fallback", "fallback_version", "acknowledged_at"]


@admin.register(CourseAttachment)
class CourseAttachmentAdmin(admin.ModelAdmin):
    list_display = ["name", "course", "size", "uploaded_at"]
