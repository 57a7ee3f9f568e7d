"""REST API: read courses (without the right answers), my assignments, submit an attempt."""

import datetime

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from training.models import Attempt

from .factories import AssignmentFactory, CourseFactory, quiz, right_answers

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(business_user):
    client = APIClient()
    client.force_authenticate(business_user)
    return client


def test_courses_list_hides_which_answers_are_right(api):
    course = CourseFactory()
    quiz(course, [("single", [True, False])])
    CourseFactory(is_active=False)
    data = api.get("/api/training/courses/").json()
    assert [c["id"] for c in data["results"]] == [course.pk]
    assert "is_correct" not in str(data)


def test_my_assignments_lists_only_mine_with_status(api, business_user):
    AssignmentFactory(user=business_user, due_date=timezone.localdate() - datetime.timedelta(days=1))
    AssignmentFactory()  # someone else's
    [row] = api.get("/api/training/my-assignments/").json()
    assert row["status"] == "overdue"


def test_submitting_an_attempt_scores_it(api, business_user):
    course = CourseFactory()
    questions = quiz(course, [("single", [True, False]), ("multiple", [True, True, False])])
    response = api.post(
        "/api/training/attempts/", {"course": course.pk, "answers": right_answers(questions)}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["score"] == 100 and response.json()["passed"] is True
    assert Attempt.objects.get().user == business_user


@pytest.mark.parametrize(
    "answers",
    [{"999": [1]}, {"abc": "def"}, ["not", "a", "mapping"], None],
)
def test_bad_answers_are_a_400_naming_the_field(api, answers):
    course = CourseFactory()
    quiz(course, [("single", [True, False])])
    response = api.post("/api/training/attempts/", {"course": course.pk, "answers": answers}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert "answers" in body or any(key.startswith("q") for key in body)
    assert not Attempt.objects.exists()


def test_an_unknown_or_inactive_course_is_404(api):
    assert api.post("/api/training/attempts/", {"course": 123456, "answers": {}}, format="json").status_code == 404
    inactive = CourseFactory(is_active=False)
    assert api.post("/api/training/attempts/", {"course": inactive.pk}, format="json").status_code == 404


def test_anonymous_callers_are_refused(client):
    assert APIClient().get("/api/training/courses/").status_code in (401, 403)


def test_the_schema_describes_the_training_endpoints(admin_client):
    schema = admin_client.get("/api/schema/").content.decode()
    for path in ("/api/training/courses/", "/api/training/my-assignments/", "/api/training/attempts/"):
        assert path in schema


def test_the_start_token_of_the_course_records_how_long_the_attempt_took(api, time_machine):
    course = CourseFactory()
    questions = quiz(course, [("single", [True, False])])
    time_machine.move_to("2026-11-24 09:00:00+00:00", tick=False)
    token = api.get(f"/api/training/courses/{course.pk}/").json()["start_token"]
    time_machine.move_to("2026-11-24 09:07:30+00:00", tick=False)
    response = api.post(
        "/api/training/attempts/",
        {"course": course.pk, "answers": right_answers(questions), "start_token": token},
        format="json",
    )
    assert response.status_code == 201
    attempt = Attempt.objects.get()
    assert attempt.submitted_at - attempt.started_at == datetime.timedelta(minutes=7, seconds=30)


@pytest.mark.parametrize("token", ["forged", "a:b:c"])
def test_an_altered_start_token_is_a_400_and_records_nothing(api, token):
    course = CourseFactory()
    questions = quiz(course, [("single", [True, False])])
    response = api.post(
        "/api/training/attempts/",
        {"course": course.pk, "answers": right_answers(questions), "start_token": token},
        format="json",
    )
    assert response.status_code == 400 and "start_token" in response.json()
    assert not Attempt.objects.exists()
