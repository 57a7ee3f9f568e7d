"""Every change training makes: courses and their quiz, attachments, assignments, attempts (and the
completion a pass earns), acknowledgements, and the daily reminders. Keyword arguments, one
transaction each; views, the API, tasks, the admin and the demo all come through here."""

from __future__ import annotations

import datetime
import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping
from pathlib import PurePath

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from plans.models import EmergencyPlan, FallbackProcedure, PlanVersion

from . import selectors
from .models import (
    ATTACHMENT_TYPES,
    MAX_ATTACHMENT_BYTES,
    Acknowledgement,
    Assignment,
    Attempt,
    Completion,
    Course,
    CourseAttachment,
    Question,
    ReminderLog,
)

logger = logging.getLogger(__name__)


# --- Courses -------------------------------------------------------------------------------------


@transaction.atomic
def course_create(*, created_by=None, **fields) -> Course:
    course = Course(created_by=created_by, **fields)
    course.full_clean()
    course.save()
    return course


@transaction.atomic
def course_update(*, course: Course, **fields) -> Course:
    for name, value in fields.items():
        setattr(course, name, value)
    course.full_clean()
    course.save()
    return course


@transaction.atomic
def course_delete(*, course: Course) -> None:
    for attachment in course.attachments.all():
        attachment.file.delete(save=False)
    course.delete()


@transaction.atomic
def question_save(
    *,
    course: Course,
    text: str,
    kind: str,
    order: int,
    choices: Iterable[tuple[str, bool]],
    question: Question | None = None,
) -> Question:
    """Create or replace a question and its choices. A single-choice question has exactly one
    right answer, a multiple-choice question at least one; both offer at least two answers."""
    choices = [(t.strip(), bool(ok)) for t, ok in choices if t and t.strip()]
    if len(choices) < 2:
        raise ValidationError({"choices": _("Give at least two answers.")})
    right = sum(ok for _t, ok in choices)
    if kind == Question.Kind.SINGLE and right != 1:
        raise ValidationError({"choices": _("A single-choice question has exactly one correct answer.")})
    if kind == Question.Kind.MULTIPLE and right < 1:
        raise ValidationError({"choices": _("Mark at least one answer as correct.")})
    if question is None:
        question = Question(course=course)
    question.text, question.kind, question.order = text, kind, order
    question.full_clean()
    question.save()
    # Replaced wholesale: attempts keep their own record of what was right at the time.
    question.choices.all().delete()
    for index, (choice_text, ok) in enumerate(choices, start=1):
        question.choices.create(text=choice_text, is_correct=ok, order=index)
    return question


@transaction.atomic
def question_delete(*, question: Question) -> None:
    question.delete()


# --- Attachments ---------------------------------------------------------------------------------

# The first bytes each allowed type must start with, so a renamed executable is refused.
MAGIC = {
    ".pdf": [b"%PDF"],
    ".png": [b"\x89PNG\r\n\x1a\n"],
    ".jpg": [b"\xff\xd8\xff"],
    ".jpeg": [b"\xff\xd8\xff"],
    ".docx": [b"PK\x03\x04"],
    ".xlsx": [b"PK\x03\x04"],
    ".pptx": [b"PK\x03\x04"],
}


def validate_upload(upload: UploadedFile) -> None:
    suffix = PurePath(upload.name or "").suffix.lower()
    if suffix not in ATTACHMENT_TYPES:
        raise ValidationError(
            {
                "file": _("This type of file is not accepted. Allowed: %(types)s.")
                % {"types": ", ".join(ATTACHMENT_TYPES)}
            }
        )
    if upload.size > MAX_ATTACHMENT_BYTES:
        raise ValidationError(
            {"file": _("The file is too large (at most %(mb)d MB).") % {"mb": MAX_ATTACHMENT_BYTES // (1024 * 1024)}}
        )
    upload.seek(0)
    head = upload.read(8)
    upload.seek(0)
    if suffix in MAGIC and not any(head.startswith(m) for m in MAGIC[suffix]):
        raise ValidationError({"file": _("The file's content does not match its %(ext)s extension.") % {"ext": suffix}})
    if suffix == ".txt" and b"\x00" in head:
        raise ValidationError({"file": _("The file's content does not match its %(ext)s extension.") % {"ext": suffix}})


@transaction.atomic
def attachment_add(*, course: Course, upload: UploadedFile, name: str = "") -> CourseAttachment:
    validate_upload(upload)
    attachment = CourseAttachment(course=course, name=(name or upload.name)[:200], size=upload.size)
    attachment.file.save(upload.name, upload, save=False)
    try:
        attachment.save()
    except Exception:
        attachment.file.delete(save=False)
        raise
    return attachment


@transaction.atomic
def attachment_delete(*, attachment: CourseAttachment) -> None:
    stored = attachment.file.name
    storage = attachment.file.storage
    attachment.delete()
    transaction.on_commit(lambda: storage.delete(stored))


# --- Assignments ---------------------------------------------------------------------------------


@transaction.atomic
def assignment_create(
    *, course: Course, due_date: datetime.date, assigned_by=None, user=None, department=None, role=None
) -> Assignment:
    assignment = Assignment(
        course=course, due_date=due_date, assigned_by=assigned_by, user=user, department=department, role=role
    )
    assignment.full_clean()
    assignment.save()
    return assignment


@transaction.atomic
def assignment_delete(*, assignment: Assignment) -> None:
    assignment.delete()


# --- Attempts ------------------------------------------------------------------------------------


def _as_id(value) -> int | None:
    # bool is an int in Python; an answer of `true` is not a choice id.
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def score_answers(*, questions: list[Question], answers) -> tuple[int, dict]:
    """Check raw answers against the quiz and score them.

    `answers` maps a question id to the chosen choice id(s), as a browser or API client sent them.
    Anything that does not fit — not a mapping, an unknown question, a choice of another question,
    an unknown id, two answers to a single-choice question, a question left out — raises a
    ValidationError naming the question, so nothing half-valid is ever counted.
    Returns (score in %, the record stored on the attempt)."""
    if not isinstance(answers, Mapping):
        raise ValidationError({"answers": _("Answers must map each question to the chosen answers.")})
    by_id = {q.pk: q for q in questions}
    errors: dict[str, list[str]] = defaultdict(list)
    chosen: dict[int, set[int]] = {}
    for raw_key, raw_value in answers.items():
        qid = _as_id(raw_key)
        if qid not in by_id:
            errors["answers"].append(_("There is no question %(id)s in this course.") % {"id": str(raw_key)[:20]})
            continue
        values = raw_value if isinstance(raw_value, list | tuple) else [raw_value]
        ids = [_as_id(v) for v in values]
        valid = {c.pk for c in by_id[qid].choices.all()}
        if any(i is None or i not in valid for i in ids):
            errors[f"q{qid}"].append(_("Choose among the answers offered for this question."))
            continue
        chosen[qid] = set(ids)
    for question in questions:
        key, picked = f"q{question.pk}", chosen.get(question.pk)
        if key in errors:
            continue
        if not picked:
            errors[key].append(_("Answer this question."))
        elif question.kind == Question.Kind.SINGLE and len(picked) > 1:
            errors[key].append(_("Choose one answer only."))
    if errors:
        raise ValidationError(dict(errors))
    record, right = {}, 0
    for question in questions:
        correct_ids = {c.pk for c in question.choices.all() if c.is_correct}
        ok = chosen[question.pk] == correct_ids
        right += ok
        record[str(question.pk)] = {"chosen": sorted(chosen[question.pk]), "correct": ok}
    score = (100 * right) // len(questions) if questions else 100
    return score, record


# A quiz's start time travels with the page (or the API's course detail) as a signed token, so the
# attempt records how long it took without a server-side "started" row, and cannot be forged.
START_SALT = "training.quiz.started"
START_TOKEN_MAX_AGE = 86400


def start_token(now: datetime.datetime | None = None) -> str:
    return signing.dumps((now or timezone.now()).isoformat(), salt=START_SALT)


def started_at_from_token(token: str) -> datetime.datetime:
    """The start time a token carries; ValidationError if it was altered or is over a day old."""
    try:
        return datetime.datetime.fromisoformat(signing.loads(token, salt=START_SALT, max_age=START_TOKEN_MAX_AGE))
    except (signing.BadSignature, ValueError, TypeError):
        raise ValidationError({"start_token": _("This start token is invalid or expired; fetch the course again.")})


@transaction.atomic
def attempt_submit(
    *, course: Course, user, answers, started_at: datetime.datetime | None = None, now: datetime.datetime | None = None
) -> Attempt:
    """Record an attempt; a pass (score ≥ pass mark) completes the course until it expires.
    A course without a quiz is completed by confirming it was read (score 100)."""
    if not course.is_active:
        raise ValidationError(_("This course is not open for taking."))
    now = now or timezone.now()
    questions = list(course.questions.prefetch_related("choices"))
    score, record = score_answers(questions=questions, answers=answers or {}) if questions else (100, {})
    if started_at is not None and not (now - datetime.timedelta(days=1) <= started_at <= now):
        started_at = None  # a start time we cannot believe is dropped, not trusted
    attempt = Attempt.objects.create(
        course=course,
        user=user,
        started_at=started_at,
        submitted_at=now,
        answers=record,
        score=score,
        passed=score >= course.pass_mark,
    )
    if attempt.passed:
        Completion.objects.create(
            course=course, user=user, attempt=attempt, completed_at=now, expires_at=course.expires_at(now)
        )
    return attempt


# --- Acknowledgements ----------------------------------------------------------------------------


def current_version(plan: EmergencyPlan) -> PlanVersion | None:
    return plan.versions.published().first()


@transaction.atomic
def plan_acknowledge(*, user, plan: EmergencyPlan) -> Acknowledgement:
    """Acknowledge the plan's published version. Again on the same version: the first one stands."""
    version = current_version(plan)
    if version is None:
        raise ValidationError(_("This plan has no published version to acknowledge yet."))
    ack, _created = Acknowledgement.objects.get_or_create(user=user, plan_version=version)
    return ack


@transaction.atomic
def fallback_acknowledge(*, user, procedure: FallbackProcedure) -> Acknowledgement:
    ack, _created = Acknowledgement.objects.get_or_create(
        user=user, fallback=procedure, fallback_version=procedure.version
    )
    return ack


# --- Reminders -----------------------------------------------------------------------------------


def _reminder_lines(items: list[selectors.Item], today: datetime.date) -> list[str]:
    lines = []
    for item in items:
        if item.status == selectors.Status.OVERDUE:
            lines.append(_("- %(course)s: overdue since %(date)s") % {"course": item.course, "date": item.due_date})
        elif item.status == selectors.Status.DUE:
            lines.append(_("- %(course)s: due on %(date)s") % {"course": item.course, "date": item.due_date})
        else:
            lines.append(
                _("- %(course)s: your completion expires on %(date)s; take it again before then")
                % {"course": item.course, "date": timezone.localdate(item.completion.expires_at)}
            )
    return lines


def reminder_items(*, now: datetime.datetime) -> dict[int, list[selectors.Item]]:
    """Per user id, what to remind them of today: due within a week, overdue, expiring soon."""
    today = timezone.localdate(now)
    due_soon = today + datetime.timedelta(days=selectors.DUE_SOON_DAYS)
    per_user: dict[int, list[selectors.Item]] = defaultdict(list)
    for item in selectors.training_items(now=now):
        if (
            item.status == selectors.Status.OVERDUE
            or (item.status == selectors.Status.DUE and item.due_date <= due_soon)
            or item.status == selectors.Status.EXPIRING
        ):
            per_user[item.user.pk].append(item)
    return per_user


def send_reminders(*, now: datetime.datetime | None = None) -> int:
    """Email each person with training due soon, overdue or expiring: at most once a day.

    The claim is the insert of (user, day) into ReminderLog under a unique constraint, in the same
    transaction as the email: a second run, or a run in parallel, fails the insert and sends
    nothing; a failed email rolls the claim back so the next tick tries again."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    per_user = reminder_items(now=now)
    already = set(ReminderLog.objects.filter(day=today, user_id__in=per_user).values_list("user_id", flat=True))
    sent = 0
    url = settings.SITE_URL + reverse("training:my-training")
    for user_id, items in per_user.items():
        user = items[0].user
        if user_id in already or not user.email:
            continue
        try:
            with transaction.atomic():
                ReminderLog.objects.create(user=user, day=today, items=len(items), sent_at=now)
                send_mail(
                    subject=_("Training reminder: %(n)d course(s) need your attention") % {"n": len(items)},
                    message="\n".join(
                        [
                            _("Hello %(name)s,") % {"name": user.get_full_name() or user.get_username()},
                            "",
                            *_reminder_lines(items, today),
                            "",
                            _("Open your training: %(url)s") % {"url": url},
                        ]
                    ),
                    from_email=None,
                    recipient_list=[user.email],
                    fail_silently=False,
                )
        except IntegrityError:
            continue  # someone else claimed this person today
        logger.info("training reminder user=%s items=%s", user_id, len(items))
        sent += 1
    return sent
