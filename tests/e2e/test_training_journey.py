"""Training: a business user takes an assigned course on a phone and passes its quiz; a manager
sees the coverage change."""

import datetime

import pytest
from django.utils import timezone

from plans.models import Profile
from tests.e2e.conftest import login, shot
from tests.factories import DepartmentFactory, UserFactory
from tests.training.factories import CourseFactory, quiz
from training import services

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def coverage_row(page) -> str:
    page.goto(page.base_url + "/training/coverage/")
    return page.locator("table.training-coverage").first.locator("tr", has_text="Sales").inner_text()


def test_a_business_user_passes_an_assigned_course_and_the_manager_sees_it(phone_page, page):
    sales = DepartmentFactory(name="Sales")
    clerk = UserFactory(username="lin-clerk", role="business_user", first_name="Lin", last_name="Clerk")
    Profile.objects.create(user=clerk, department=sales)
    UserFactory(username="mei-manager", role="manager")
    course = CourseFactory(title="Taking orders on paper", content="Use the **numbered forms**.", pass_mark=100)
    single, multiple = quiz(course, [("single", [False, True, False]), ("multiple", [True, False, True])])
    services.assignment_create(
        course=course, department=sales, due_date=timezone.localdate() + datetime.timedelta(days=7)
    )

    login(page, "mei-manager")
    before = coverage_row(page)
    assert "0%" in before

    login(phone_page, "lin-clerk")
    phone_page.goto(phone_page.base_url + "/training/")
    phone_page.get_by_role("link", name="Start").click()
    phone_page.wait_for_load_state()
    assert phone_page.locator("strong", has_text="numbered forms").is_visible()

    # A first try with one wrong answer fails and offers a retry.
    single_choices, multiple_choices = list(single.choices.all()), list(multiple.choices.all())
    phone_page.get_by_label(single_choices[0].text).check()
    phone_page.get_by_label(multiple_choices[0].text).check()
    phone_page.get_by_role("button", name="Submit answers").click()
    phone_page.wait_for_load_state()
    assert phone_page.get_by_text("Not passed").is_visible()
    phone_page.get_by_role("link", name="Try again").click()
    phone_page.wait_for_load_state()

    phone_page.get_by_label(single_choices[1].text).check()
    phone_page.get_by_label(multiple_choices[0].text).check()
    phone_page.get_by_label(multiple_choices[2].text).check()
    # Everything fits the phone's width: no sideways scrolling.
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(phone_page, "training_quiz_phone")
    phone_page.get_by_role("button", name="Submit answers").click()
    phone_page.wait_for_load_state()
    assert phone_page.locator(".training-score .badge").inner_text() == "100%"
    assert phone_page.get_by_text("Passed", exact=True).is_visible()
    shot(phone_page, "training_result_phone")

    phone_page.goto(phone_page.base_url + "/training/")
    assert phone_page.locator("#sec-done").is_visible()

    after = coverage_row(page)
    assert "100%" in after
    shot(page, "training_coverage")
