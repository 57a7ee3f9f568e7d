"""The admin shows training evidence (attempts, completions, acknowledgements) but never rewrites it."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from training import services
from training.models import Course

from .factories import CourseFactory, quiz, right_answers

pytestmark = pytest.mark.django_db
# The read-only questions inline still sends its management form.
NO_QUESTIONS = {"questions-TOTAL_FORMS": 0, "questions-INITIAL_FORMS": 0}


def test_admin_reads_an_attempt_but_cannot_change_or_add_one(admin_client, business_user):
    course = CourseFactory(pass_mark=50)
    questions = quiz(course, [("single", [True, False])])
    attempt = services.attempt_submit(user=business_user, course=course, answers=right_answers(questions))

    page = admin_client.get(f"/admin/training/attempt/{attempt.pk}/change/")
    assert page.status_code == 200
    assert b'name="score"' not in page.content  # shown, not editable
    assert admin_client.get("/admin/training/attempt/add/").status_code == 403
    admin_client.post(f"/admin/training/attempt/{attempt.pk}/change/", {"score": 0, "passed": ""})
    attempt.refresh_from_db()
    assert attempt.score == 100 and attempt.passed
    assert admin_client.get("/admin/training/completion/add/").status_code == 403
    assert admin_client.get("/admin/training/acknowledgement/add/").status_code == 403


def test_a_course_added_in_the_admin_goes_through_the_service(admin_client, admin_user):
    response = admin_client.post(
        "/admin/training/course/add/",
        {"title": "Backup basics", "kind": "security", "summary": "", "content": "Read it.", "pass_mark": 80,
         "validity_months": 12, "is_active": "on", **NO_QUESTIONS},
    )  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:2000]
    course = Course.objects.get(title="Backup basics")
    assert course.created_by == admin_user


def test_an_emergency_course_without_its_plan_is_refused_in_the_admin_too(admin_client):
    response = admin_client.post(
        "/admin/training/course/add/",
        {
            "title": "Paper orders",
            "kind": "emergency",
            "content": "x",
            "pass_mark": 80,
            "validity_months": 12,
            **NO_QUESTIONS,
        },
    )
    assert response.status_code == 200  # the form again, with the service's error
    assert not Course.objects.exists()


def test_deleting_a_course_in_the_admin_removes_its_attachment_files(
    admin_client, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path
    course = CourseFactory()
    attachment = services.attachment_add(
        course=course, upload=SimpleUploadedFile("binder.pdf", b"%PDF-1.4\n%fake but well-formed enough\n")
    )
    stored = tmp_path / attachment.file.name
    assert stored.exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(f"/admin/training/course/{course.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Course.objects.exists() and not stored.exists()


def test_questions_are_read_only_in_the_admin(admin_client):
    course = CourseFactory()
    [question] = quiz(course, [("single", [True, False])])
    assert admin_client.get("/admin/training/question/add/").status_code == 403
    page = admin_client.get(f"/admin/training/question/{question.pk}/change/")
    assert page.status_code == 200 and b'name="text"' not in page.content
