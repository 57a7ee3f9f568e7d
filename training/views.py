"""Browser pages of training. Thin: parse with a form, call a service, render.

- Everyone logged in: My training, take a course and its quiz, see their attempt, download a
  course attachment, acknowledge a plan or fallback procedure.
- Authors (training.change_course: managers, administrators): courses, questions, attachments,
  assignments.
- training.view_coverage (managers, administrators): the coverage report and its CSV.
"""

from __future__ import annotations

import csv

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from erpcontinuity import charts
from erpcontinuity.csvsafe import csv_text
from plans.forms.plans import attach_errors
from plans.models import EmergencyPlan, FallbackProcedure

from . import selectors, services
from .content import render_markdown
from .forms import AssignmentForm, AttachmentForm, ChoiceFormSet, CourseForm, QuestionForm, QuizForm
from .models import Assignment, Attempt, Course, CourseAttachment, Question

AUTHOR_PERM = "training.change_course"
COVERAGE_PERM = "training.view_coverage"


# --- Access helpers ------------------------------------------------------------------------------


def _attempt_for(request: HttpRequest, pk: int) -> Attempt:
    """The person's own attempt; someone else's only for coverage readers. Otherwise 404."""
    attempt = get_object_or_404(Attempt.objects.select_related("course", "user"), pk=pk)
    if attempt.user_id != request.user.pk and not request.user.has_perm(COVERAGE_PERM):
        raise Http404
    return attempt


# --- Everyone ------------------------------------------------------------------------------------


@login_required
def my_training(request: HttpRequest) -> HttpResponse:
    data = selectors.my_training(user=request.user)
    sections = [
        (selectors.Status.OVERDUE, _("Overdue"), data["groups"][selectors.Status.OVERDUE]),
        (selectors.Status.EXPIRED, _("Expired: take again"), data["groups"][selectors.Status.EXPIRED]),
        (selectors.Status.DUE, _("To do"), data["groups"][selectors.Status.DUE]),
        (selectors.Status.EXPIRING, _("Expiring soon"), data["groups"][selectors.Status.EXPIRING]),
        (selectors.Status.DONE, _("Done"), data["groups"][selectors.Status.DONE]),
    ]
    context = {
        "sections": sections,
        "items": data["items"],
        "other_courses": data["other_courses"],
        "to_acknowledge": data["to_acknowledge"],
    }
    return render(request, "training/my_training.html", context)


@login_required
def course_take(request: HttpRequest, pk: int) -> HttpResponse:
    course = get_object_or_404(Course.objects.active().select_related("plan", "fallback"), pk=pk)
    questions = list(course.questions.prefetch_related("choices"))
    form = QuizForm(request.POST or None, questions=questions)
    if request.method == "POST" and form.is_valid():
        try:
            attempt = services.attempt_submit(
                course=course, user=request.user, answers=form.answers(), started_at=form.started_at()
            )
        except ValidationError as e:
            attach_errors(form, e)
        else:
            return redirect("training:attempt-detail", attempt.pk)
    last = Attempt.objects.filter(course=course, user=request.user).first()
    context = {
        "course": course,
        "content": render_markdown(course.content),
        "attachments": list(course.attachments.all()),
        "form": form,
        "questions": questions,
        "last_attempt": last,
    }
    return render(request, "training/course_take.html", context)


@login_required
def attempt_detail(request: HttpRequest, pk: int) -> HttpResponse:
    attempt = _attempt_for(request, pk)
    questions = list(attempt.course.questions.prefetch_related("choices"))
    rows = []
    for question in questions:
        record = attempt.answers.get(str(question.pk))
        if record is None:
            continue
        chosen = set(record.get("chosen", []))
        rows.append(
            {
                "question": question,
                "correct": record.get("correct"),
                "chosen": [c.text for c in question.choices.all() if c.pk in chosen],
            }
        )
    completion = getattr(attempt, "completion", None) if attempt.passed else None
    context = {"attempt": attempt, "course": attempt.course, "rows": rows, "completion": completion}
    return render(request, "training/attempt_detail.html", context)


@login_required
def attachment(request: HttpRequest, pk: int) -> FileResponse:
    item = get_object_or_404(CourseAttachment, pk=pk)
    try:
        handle = item.file.open("rb")
    except FileNotFoundError as e:
        raise Http404 from e
    response = FileResponse(handle, content_type=item.content_type, as_attachment=True, filename=item.name)
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_POST
def plan_acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    plan = get_object_or_404(EmergencyPlan, pk=pk)
    if not request.user.has_perm("plans.view_emergencyplan"):
        raise Http404
    try:
        ack = services.plan_acknowledge(user=request.user, plan=plan)
    except ValidationError as e:
        messages.error(request, " ".join(e.messages))
    else:
        messages.success(request, _("You acknowledged version %(n)d of this plan.") % {"n": ack.plan_version.number})
    return redirect(plan.get_absolute_url())


@login_required
@require_POST
def fallback_acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    procedure = get_object_or_404(FallbackProcedure, pk=pk)
    if not request.user.has_perm("plans.view_fallbackprocedure"):
        raise Http404
    ack = services.fallback_acknowledge(user=request.user, procedure=procedure)
    messages.success(request, _("You acknowledged version %(n)d of this procedure.") % {"n": ack.fallback_version})
    return redirect(procedure.get_absolute_url())


# --- Authoring -----------------------------------------------------------------------------------


@login_required
@permission_required(AUTHOR_PERM, raise_exception=True)
def course_list(request: HttpRequest) -> HttpResponse:
    courses = Course.objects.select_related("plan", "fallback").annotate(
        n_questions=Count("questions", distinct=True), n_assignments=Count("assignments", distinct=True)
    )
    return render(request, "training/course_list.html", {"courses": courses})


@login_required
@permission_required(AUTHOR_PERM, raise_exception=True)
def course_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    course = get_object_or_404(Course, pk=pk) if pk else None
    form = CourseForm(request.POST or None, instance=Course.objects.get(pk=pk) if pk else None)
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in CourseForm.Meta.fields}
        try:
            if course:
                course = services.course_update(course=course, **fields)
            else:
                course = services.course_create(created_by=request.user, **fields)
        except ValidationError as e:
            attach_errors(form, e)
        else:
            messages.success(request, _("Course saved."))
            return redirect("training:course-manage", course.pk)
    return render(request, "training/course_form.html", {"form": form, "course": course})


@login_required
@permission_required(AUTHOR_PERM, raise_exception=True)
def course_manage(request: HttpRequest, pk: int) -> HttpResponse:
    course = get_object_or_404(Course.objects.select_related("plan", "fallback"), pk=pk)
    assignment_form = AssignmentForm(prefix="assign")
    attachment_form = AttachmentForm(prefix="file")
    if request.method == "POST" and "assign-target" in request.POST:
        assignment_form = AssignmentForm(request.POST, prefix="assign")
        if assignment_form.is_valid():
            try:
                services.assignment_create(
                    course=course,
                    due_date=assignment_form.cleaned_data["due_date"],
                    assigned_by=request.user,
                    **assignment_form.target_kwargs(),
                )
            except ValidationError as e:
                attach_errors(assignment_form, e)
            else:
                messages.success(request, _("Course assigned."))
                return redirect("training:course-manage", course.pk)
    elif request.method == "POST":
        attachment_form = AttachmentForm(request.POST, request.FILES, prefix="file")
        if attachment_form.is_valid():
            try:
                services.attachment_add(
                    course=course,
                    upload=attachment_form.cleaned_data["file"],
                    name=attachment_form.cleaned_data["name"],
                )
            except ValidationError as e:
                attach_errors(attachment_form, e)
            else:
                messages.success(request, _("File attached."))
                return redirect("training:course-manage", course.pk)
    context = {
        "course": course,
        "questions": list(course.questions.prefetch_related("choices")),
        "attachments": list(course.attachments.all()),
        "assignments": list(course.assignments.select_related("user", "department", "role")),
        "assignment_form": assignment_form,
        "attachment_form": attachment_form,
        "content": render_markdown(course.content),
    }
    return render(request, "training/course_manage.html", context, status=400 if request.method == "POST" else 200)


@login_required
@permission_required(AUTHOR_PERM, raise_exception=True)
def course_delete(request: HttpRequest, pk: int) -> HttpResponse:
    course = get_object_or_404(Course, pk=pk)
    if request.method == "POST":
        services.course_delete(course=course)
        messages.success(request, _("Course deleted."))
        return redirect("training:course-list")
    return render(request, "training/course_delete.html", {"course": course})


@login_required
@permission_required(AUTHOR_PERM, raise_exception=True)
def question_edit(request: HttpRequest, course_pk: int, pk: int | None = None) -> HttpResponse:
    course = get_object_or_404(Course, pk=course_pk)
    question = get_object_or_404(course.questions.prefetch_related("choices"), pk=pk) if pk else None
    if request.method == "POST":
        form = QuestionForm(request.POST)
        formset = ChoiceFormSet(request.POST, prefix="choices")
    else:
        initial = (
            {"text": question.text, "kind": question.kind, "order": question.order}
            if question
            else {"order": course.questions.count() + 1}
        )
        form = QuestionForm(initial=initial)
        formset = ChoiceFormSet(
            prefix="choices",
            initial=[{"text": c.text, "is_correct": c.is_correct} for c in question.choices.all()] if question else [],
        )
    choice_errors = []
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        try:
            services.question_save(
                course=course,
                question=question,
                text=form.cleaned_data["text"],
                kind=form.cleaned_data["kind"],
                order=form.cleaned_data["order"],
                choices=[(f.cleaned_data.get("text", ""), f.cleaned_data.get("is_correct")) for f in formset],
            )
        except ValidationError as e:
            errors = dict(e.error_dict) if hasattr(e, "error_dict") else {None: e.error_list}
            choice_errors = [m for err in errors.pop("choices", []) for m in err.messages]
            for name, errs in errors.items():
                form.add_error(name if name in form.fields else None, errs)
        else:
            messages.success(request, _("Question saved."))
            return redirect("training:course-manage", course.pk)
    context = {"course": course, "question": question, "form": form, "formset": formset, "choice_errors": choice_errors}
    return render(request, "training/question_form.html", context, status=400 if request.method == "POST" else 200)


# What belongs to a course and can be removed from its page: model, service, its keyword, message.
COURSE_PARTS = {
    "question": (Question, services.question_delete, "question", gettext_lazy("Question deleted.")),
    "assignment": (Assignment, services.assignment_delete, "assignment", gettext_lazy("Assignment removed.")),
    "attachment": (CourseAttachment, services.attachment_delete, "attachment", gettext_lazy("File removed.")),
}


@login_required
@permission_required(AUTHOR_PERM, raise_exception=True)
@require_POST
def course_part_delete(request: HttpRequest, course_pk: int, pk: int, part: str) -> HttpResponse:
    model, delete, keyword, message = COURSE_PARTS[part]
    delete(**{keyword: get_object_or_404(model, course_id=course_pk, pk=pk)})
    messages.success(request, message)
    return redirect("training:course-manage", course_pk)


# --- Coverage ------------------------------------------------------------------------------------


def _short(label: str, room: float = 162) -> str:
    """Chart labels have a fixed column (charts.hbar): long course titles are cut to fit it, by
    their drawn width so Chinese titles fit too (the table below has them whole)."""
    if charts.text_width(label, 12) <= room:
        return label
    while label and charts.text_width(label + "…", 12) > room:
        label = label[:-1]
    return label + "…"


@login_required
@permission_required(COVERAGE_PERM, raise_exception=True)
def coverage(request: HttpRequest) -> HttpResponse:
    data = selectors.coverage()
    chart = charts.hbar(
        [(_short(row.label), row.percent) for row in data["courses"]],
        title=_("Completed per course, as a share of the people assigned"),
        unit="%",
    )
    depts = data["departments"]
    dept_chart = charts.columns(
        [row.label for row in depts],
        [
            charts.Series(_("Completed"), [row.completed for row in depts], charts.PALETTE[2]),
            charts.Series(_("To do"), [row.pending for row in depts], charts.PALETTE[3]),
            charts.Series(_("Overdue"), [row.overdue for row in depts], charts.PALETTE[1]),
            charts.Series(_("Expired"), [row.expired for row in depts], charts.PALETTE[7]),
        ],
        title=_("Assignments per department"),
        stacked=True,
    )
    return render(request, "training/coverage.html", {**data, "chart": chart, "dept_chart": dept_chart})


@login_required
@permission_required(COVERAGE_PERM, raise_exception=True)
def coverage_export(request: HttpRequest) -> HttpResponse:
    data = selectors.coverage()
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="training-coverage-{timezone.localdate():%Y-%m-%d}.csv"'
    response.write("\ufeff")  # so Excel opens Chinese text as UTF-8
    writer = csv.writer(response)
    writer.writerow([_("Per"), _("Name"), _("Assigned"), _("Completed"), _("Overdue"), _("Expired"), _("Completed %")])
    for per, rows in ((_("Department"), data["departments"]), (_("Course"), data["courses"])):
        for row in rows:
            writer.writerow(
                [per, csv_text(row.label), row.assigned, row.completed, row.overdue, row.expired, row.percent]
            )
    return response
