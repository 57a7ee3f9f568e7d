"""The training pages: my training, taking a course, results, authoring, coverage and its CSV —
who may see what, bad input, and query counts that do not grow with the data."""

import datetime

import pytest
from django.utils import timezone

from plans.models import Profile
from tests.factories import DepartmentFactory, UserFactory
from training import services
from training.models import Assignment, Attempt, Completion, Course, Question

from .factories import AssignmentFactory, CourseFactory, quiz, right_answers, wrong_answer

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


def form_answers(questions, answers) -> dict:
    return {f"q{qid}": ids if len(ids) > 1 else ids[0] for qid, ids in answers.items()}


# --- My training and taking a course -----------------------------------------------------------


def test_my_training_shows_due_overdue_and_done(business_client, business_user):
    AssignmentFactory(user=business_user, course=CourseFactory(title="To do course"), due_date=TODAY)
    AssignmentFactory(
        user=business_user, course=CourseFactory(title="Late course"), due_date=TODAY - datetime.timedelta(days=3)
    )
    done = CourseFactory(title="Finished course")
    AssignmentFactory(user=business_user, course=done)
    services.attempt_submit(course=done, user=business_user, answers={})
    page = business_client.get("/training/").content.decode()
    overdue, rest = page.split('id="sec-due"')
    assert "Late course" in overdue and "To do course" in rest and "Finished course" in rest.split('id="sec-done"')[1]


def test_taking_the_quiz_in_the_browser_passes_and_shows_the_result(business_client, business_user):
    course = CourseFactory(pass_mark=100)
    questions = quiz(course, [("single", [False, True]), ("multiple", [True, True, False])])
    AssignmentFactory(user=business_user, course=course)
    page = business_client.get(f"/training/courses/{course.pk}/")
    started = page.context["form"]["started"].value()
    response = business_client.post(
        f"/training/courses/{course.pk}/", {"started": started, **form_answers(questions, right_answers(questions))}
    )
    attempt = Attempt.objects.get(user=business_user)
    assert response.status_code == 302 and response["Location"] == f"/training/attempts/{attempt.pk}/"
    assert attempt.passed and attempt.started_at is not None
    result = business_client.get(response["Location"]).content.decode()
    assert "100%" in result and "Passed" in result


def test_a_failed_quiz_offers_a_retry(business_client, business_user):
    course = CourseFactory()
    [question] = quiz(course, [("single", [True, False])])
    response = business_client.post(f"/training/courses/{course.pk}/", {f"q{question.pk}": wrong_answer(question)[0]})
    result = business_client.get(response["Location"]).content.decode()
    assert "Not passed" in result and "Try again" in result
    assert not Completion.objects.exists()


@pytest.mark.parametrize("bad", ["foreign", "unknown", "missing", "junk"])
def test_tampered_form_answers_give_a_form_error_not_a_500(business_client, bad):
    course = CourseFactory()
    q1, q2 = quiz(course, [("single", [True, False]), ("multiple", [True, False])])
    data = form_answers([q1, q2], right_answers([q1, q2]))
    if bad == "foreign":
        data[f"q{q1.pk}"] = q2.choices.first().pk
    elif bad == "unknown":
        data[f"q{q1.pk}"] = 987654
    elif bad == "missing":
        del data[f"q{q1.pk}"]
    else:
        data[f"q{q2.pk}"] = ["x", "<script>"]
    response = business_client.post(f"/training/courses/{course.pk}/", data)
    assert response.status_code == 200
    assert response.context["form"].errors
    assert Attempt.objects.count() == 0


def test_a_forged_start_time_is_ignored(business_client, business_user):
    course = CourseFactory()
    business_client.post(f"/training/courses/{course.pk}/", {"started": "2020-01-01T00:00:00"})
    assert Attempt.objects.get().started_at is None


def test_an_inactive_course_is_not_found(business_client):
    assert business_client.get(f"/training/courses/{CourseFactory(is_active=False).pk}/").status_code == 404


def test_someone_elses_attempt_is_not_found_but_a_manager_sees_it(business_client, manager_client):
    attempt = services.attempt_submit(course=CourseFactory(), user=UserFactory(), answers={})
    assert business_client.get(f"/training/attempts/{attempt.pk}/").status_code == 404
    assert manager_client.get(f"/training/attempts/{attempt.pk}/").status_code == 200


def test_course_content_markdown_is_rendered_and_sanitised(business_client):
    course = CourseFactory(
        content="**Bold** <script>alert(1)</script> [x](javascript:alert(2)) <img src=x onerror=alert(3)>"
    )
    page = business_client.get(f"/training/courses/{course.pk}/").content.decode()
    assert "<strong>Bold</strong>" in page
    assert "<script>alert(1)" not in page and "javascript:alert" not in page and "onerror" not in page


def test_anonymous_visitors_are_sent_to_login(client):
    course = CourseFactory()
    for url in ("/training/", f"/training/courses/{course.pk}/", "/training/coverage/"):
        assert client.get(url)["Location"].startswith("/accounts/login/")


# --- Authoring -------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["business_user", "it_operations"])
def test_only_managers_and_admins_author(role_clients, role):
    course = CourseFactory()
    c = role_clients[role]
    assert c.get("/training/manage/").status_code == 403
    assert c.post("/training/manage/new/", {"title": "X", "kind": "security", "pass_mark": 80}).status_code == 403
    assert c.get(f"/training/manage/{course.pk}/").status_code == 403
    assert c.post(f"/training/manage/{course.pk}/questions/new/", {}).status_code == 403
    assert Course.objects.count() == 1


def test_a_manager_writes_a_course_with_a_quiz_and_assigns_it(manager_client, manager_user):
    response = manager_client.post(
        "/training/manage/new/",
        {
            "title": "Backups 101",
            "kind": "erp_basics",
            "content": "# Hi",
            "pass_mark": 75,
            "validity_months": 12,
            "is_active": "on",
        },
    )
    course = Course.objects.get(title="Backups 101")
    assert response["Location"] == f"/training/manage/{course.pk}/"
    response = manager_client.post(
        f"/training/manage/{course.pk}/questions/new/",
        {
            "text": "Which are backups?", "kind": "multiple", "order": 1,
            "choices-TOTAL_FORMS": 4, "choices-INITIAL_FORMS": 0, "choices-MIN_NUM_FORMS": 0, "choices-MAX_NUM_FORMS": 8,
            "choices-0-text": "A copy offsite", "choices-0-is_correct": "on",
            "choices-1-text": "A snapshot", "choices-1-is_correct": "on",
            "choices-2-text": "A RAID mirror", "choices-3-text": "",
        },
    )  # fmt: skip
    assert response.status_code == 302
    question = Question.objects.get(course=course)
    assert [(c.text, c.is_correct) for c in question.choices.all()] == [
        ("A copy offsite", True), ("A snapshot", True), ("A RAID mirror", False)
    ]  # fmt: skip
    dept = DepartmentFactory(name="Finance")
    response = manager_client.post(
        f"/training/manage/{course.pk}/",
        {"assign-target": "department", "assign-department": dept.pk, "assign-due_date": "2030-01-31"},
    )
    assert response.status_code == 302
    assert Assignment.objects.get(course=course).department == dept


def test_a_single_choice_question_with_two_right_answers_is_refused(manager_client):
    course = CourseFactory()
    response = manager_client.post(
        f"/training/manage/{course.pk}/questions/new/",
        {
            "text": "Pick one", "kind": "single", "order": 1,
            "choices-TOTAL_FORMS": 2, "choices-INITIAL_FORMS": 0, "choices-MIN_NUM_FORMS": 0, "choices-MAX_NUM_FORMS": 8,
            "choices-0-text": "A", "choices-0-is_correct": "on", "choices-1-text": "B", "choices-1-is_correct": "on",
        },
    )  # fmt: skip
    assert response.status_code == 400
    assert "exactly one correct answer" in response.content.decode()
    assert not Question.objects.exists()


def test_an_emergency_course_needs_its_plan_or_procedure(manager_client):
    response = manager_client.post("/training/manage/new/", {"title": "Outage", "kind": "emergency", "pass_mark": 80})
    assert response.status_code == 200
    assert "plan" in response.context["form"].errors
    assert not Course.objects.exists()


def test_an_assignment_without_its_target_is_a_form_error(manager_client):
    course = CourseFactory()
    response = manager_client.post(
        f"/training/manage/{course.pk}/", {"assign-target": "role", "assign-due_date": "2030-01-01"}
    )
    assert response.status_code == 400
    assert "role" in response.context["assignment_form"].errors
    assert not Assignment.objects.exists()


# --- Coverage --------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["business_user", "it_operations"])
def test_coverage_is_for_managers(role_clients, role):
    assert role_clients[role].get("/training/coverage/").status_code == 403
    assert role_clients[role].get("/training/coverage.csv").status_code == 403


def make_people(n: int, department, course) -> None:
    for i in range(n):
        user = UserFactory()
        Profile.objects.create(user=user, department=department)
        if i % 2:
            services.attempt_submit(course=course, user=user, answers={})


def test_coverage_counts_per_department_and_course(manager_client):
    sales = DepartmentFactory(name="Sales")
    course = CourseFactory(title="Phishing")
    services.assignment_create(course=course, department=sales, due_date=TODAY - datetime.timedelta(days=1))
    make_people(4, sales, course)
    response = manager_client.get("/training/coverage/")
    [row] = response.context["departments"]
    assert (row.label, row.assigned, row.completed, row.overdue, row.expired) == ("Sales", 4, 2, 2, 0)
    assert "<svg" in response.content.decode()
    csv_text = manager_client.get("/training/coverage.csv").content.decode("utf-8-sig")
    assert "Department,Sales,4,2,2,0,50" in csv_text
    assert "Course,Phishing,4,2,2,0,50" in csv_text


def test_coverage_query_count_does_not_grow(manager_client, django_assert_num_queries):
    sales, hr = DepartmentFactory(name="Sales"), DepartmentFactory(name="HR")
    course = CourseFactory()
    services.assignment_create(course=course, department=sales, due_date=TODAY)
    make_people(2, sales, course)
    # session, user, its permissions (user, group), people, profiles, role holders, assignments,
    # completions, departments of people, departments, the user's groups (navigation)
    queries = 12
    with django_assert_num_queries(queries):
        manager_client.get("/training/coverage/")
    other = CourseFactory()
    services.assignment_create(course=other, department=hr, due_date=TODAY)
    make_people(15, sales, course)
    make_people(10, hr, other)
    with django_assert_num_queries(queries):
        response = manager_client.get("/training/coverage/")
    assert response.context["total"].assigned == 27


def test_my_training_query_count_does_not_grow(business_client, business_user, django_assert_num_queries):
    sales = DepartmentFactory(name="Sales")
    Profile.objects.create(user=business_user, department=sales)
    course = CourseFactory()
    services.assignment_create(course=course, department=sales, due_date=TODAY)
    # session, user, profile, role holdings, assignments, completions, other courses, plans to
    # acknowledge, the user's groups and permissions (navigation)
    with django_assert_num_queries(11) as first:
        business_client.get("/training/")
    for _ in range(10):
        c = CourseFactory()
        services.assignment_create(course=c, department=sales, due_date=TODAY)
        services.attempt_submit(course=c, user=business_user, answers={})
        AssignmentFactory(course=c)
    with django_assert_num_queries(len(first.captured_queries)):
        business_client.get("/training/")


def test_removing_parts_of_a_course_is_for_authors_and_only_through_that_course(manager_client, business_client):
    course, other = CourseFactory(), CourseFactory()
    [question] = quiz(course, [("single", [True, False])])
    assignment = AssignmentFactory(course=course)
    assert business_client.post(f"/training/manage/{course.pk}/questions/{question.pk}/delete/").status_code == 403
    # The right id through another course's address is not found.
    assert manager_client.post(f"/training/manage/{other.pk}/questions/{question.pk}/delete/").status_code == 404
    assert manager_client.get(f"/training/manage/{course.pk}/questions/{question.pk}/delete/").status_code == 405
    assert Question.objects.filter(pk=question.pk).exists()
    assert manager_client.post(f"/training/manage/{course.pk}/questions/{question.pk}/delete/").status_code == 302
    assert manager_client.post(f"/training/manage/{course.pk}/assignments/{assignment.pk}/delete/").status_code == 302
    assert not Question.objects.exists() and not Assignment.objects.exists()


def test_editing_a_question_of_another_course_is_not_found(manager_client):
    [question] = quiz(CourseFactory(), [("single", [True, False])])
    assert manager_client.get(f"/training/manage/{CourseFactory().pk}/questions/{question.pk}/").status_code == 404


def test_editing_a_question_replaces_its_answers(manager_client):
    course = CourseFactory()
    [question] = quiz(course, [("single", [True, False])])
    page = manager_client.get(f"/training/manage/{course.pk}/questions/{question.pk}/")
    assert len(page.context["formset"].forms) == 4  # the two answers and two empty lines
    manager_client.post(
        f"/training/manage/{course.pk}/questions/{question.pk}/",
        {
            "text": "Renamed?", "kind": "single", "order": 1,
            "choices-TOTAL_FORMS": 3, "choices-INITIAL_FORMS": 2, "choices-MIN_NUM_FORMS": 2, "choices-MAX_NUM_FORMS": 8,
            "choices-0-text": "Yes", "choices-1-text": "No", "choices-2-text": "Maybe", "choices-2-is_correct": "on",
        },
    )  # fmt: skip
    question.refresh_from_db()
    assert question.text == "Renamed?"
    assert [(c.text, c.is_correct) for c in question.choices.all()] == [("Yes", False), ("No", False), ("Maybe", True)]


def test_a_manager_edits_and_deletes_a_course(manager_client):
    course = CourseFactory(title="Old title")
    response = manager_client.post(
        f"/training/manage/{course.pk}/edit/", {"title": "New title", "kind": "security", "pass_mark": 90}
    )
    assert response.status_code == 302
    course.refresh_from_db()
    assert (course.title, course.pass_mark, course.is_active) == ("New title", 90, False)
    assert manager_client.post(f"/training/manage/{course.pk}/delete/").status_code == 302
    assert not Course.objects.exists()
