"""Admin of training: a back office for administrators, following the app's rules. Courses and
assignments are saved and deleted through training/services.py (a deleted course takes its
attachment files with it); questions and their answers are written on the authoring pages
(/training/manage/), where a question is checked together with its answers, so here they are read
only. Attempts, completions and acknowledgements are evidence (who passed, who confirmed which
version): the admin shows them and never edits or adds them."""

from django.contrib import admin

from plans.admin import adopt_saved, cleaned_fields, without_bulk_delete

from . import services
from .models import Acknowledgement, Assignment, Attempt, Choice, Completion, Course, CourseAttachment, Question


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class QuestionInline(ReadOnlyInline):
    model = Question


class ChoiceInline(ReadOnlyInline):
    model = Choice


class RecordAdmin(admin.ModelAdmin):
    """Read-only: these rows are written by training/services.py only."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ServiceAdmin(admin.ModelAdmin):
    """Saves and deletes through `create`/`update`/`delete` service functions, one row at a time."""

    def get_actions(self, request):
        return without_bulk_delete(super().get_actions(request))


@admin.register(Course)
class CourseAdmin(ServiceAdmin):
    list_display = ["title", "kind", "plan", "fallback", "pass_mark", "validity_months", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["title", "summary"]
    exclude = ["created_by"]
    inlines = [QuestionInline]

    def save_model(self, request, obj, form, change):
        fields = cleaned_fields(form, form.fields)
        if change:
            saved = services.course_update(course=obj, **fields)
        else:
            saved = services.course_create(created_by=request.user, **fields)
        adopt_saved(obj, saved)

    def delete_model(self, request, obj):
        services.course_delete(course=obj)


@admin.register(Question)
class QuestionAdmin(RecordAdmin):
    list_display = ["text", "course", "kind", "order"]
    list_filter = ["course"]
    inlines = [ChoiceInline]


@admin.register(Assignment)
class AssignmentAdmin(ServiceAdmin):
    list_display = ["course", "user", "department", "role", "due_date"]
    list_filter = ["course", "department", "role"]
    raw_id_fields = ["user"]
    exclude = ["assigned_by"]

    def has_change_permission(self, request, obj=None):
        return False  # an assignment is made or removed, not edited (like on the course page)

    def save_model(self, request, obj, form, change):
        fields = cleaned_fields(form, ["course", "due_date", "user", "department", "role"])
        adopt_saved(obj, services.assignment_create(assigned_by=request.user, **fields))

    def delete_model(self, request, obj):
        services.assignment_delete(assignment=obj)


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
class CourseAttachmentAdmin(RecordAdmin):
    """Uploaded on the course's authoring page (type and size checked there); deleted here through
    the service, which removes the file too."""

    def has_delete_permission(self, request, obj=None):
        return admin.ModelAdmin.has_delete_permission(self, request, obj)

    def delete_model(self, request, obj):
        services.attachment_delete(attachment=obj)

    def get_actions(self, request):
        return without_bulk_delete(super().get_actions(request))

    list_display = ["name", "course", "size", "uploaded_at"]
