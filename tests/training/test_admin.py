"""The admin shows training evidence (attempts, completions, acknowledgements) but never rewrites it."""

import pytest

from training import services

from .factories import CourseFactory, quiz, right_answers

pytestmark = pytest.mark.django_db


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
