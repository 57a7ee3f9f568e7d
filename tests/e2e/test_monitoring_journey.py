"""Monitoring in a real browser: an IT operations user creates an HTTP check against the live
server's health endpoint, runs it now (the task runs in process here), and sees it go green with a
chart; then the endpoint "fails" (a wrong expected status) and the check goes red."""

import pytest

from monitoring import services, tasks
from monitoring.models import Check
from tests.e2e.conftest import login, shot
from tests.factories import ServiceFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def run_tasks_in_process(monkeypatch):
    # No worker in this test: "Run now" runs the check in the request's process.
    monkeypatch.setattr(tasks.run_check, "delay", lambda pk: services.run_check(check_id=pk))


def test_ops_create_an_http_check_run_it_and_watch_it_go_green_then_red(page, run_tasks_in_process):
    UserFactory(username="olga-ops", role="it_operations")
    service = ServiceFactory(name="Sales order-to-cash", code="sales")
    login(page, "olga-ops")

    page.goto(page.base_url + "/monitoring/")
    page.get_by_role("link", name="New check").click()
    page.wait_for_load_state()
    page.select_option("#id_service", str(service.pk))
    page.fill("#id_name", "Sales health")
    page.select_option("#id_kind", "http")
    # Only the HTTP settings show for an HTTP check.
    assert page.locator("fieldset[data-kind=http]").is_visible()
    assert not page.locator("fieldset[data-kind=sql]").is_visible()
    page.fill("#id_http_url", "ftp://nowhere")
    page.get_by_role("button", name="Save").click()
    page.wait_for_load_state()
    assert "Give a URL starting with http or https." in page.locator("fieldset[data-kind=http]").inner_text()
    assert not Check.objects.exists()

    page.fill("#id_http_url", page.base_url + "/healthz")
    page.get_by_role("button", name="Save").click()
    page.wait_for_load_state()
    check = Check.objects.get()
    assert page.url.endswith(check.get_absolute_url())
    assert page.locator("h1").inner_text().startswith("Sales health")

    page.get_by_role("button", name="Run now").click()
    page.wait_for_load_state()
    assert page.locator(".facts .badge").first.inner_text() == "OK"
    assert page.locator(".chart-card svg").count() == 1
    shot(page, "monitoring-check-ok")

    # The endpoint does not answer as expected any more: the check goes red and raises an alert.
    page.get_by_role("link", name="Edit").click()
    page.wait_for_load_state()
    page.fill("#id_http_expected_status", "418")
    page.get_by_role("button", name="Save").click()
    page.wait_for_load_state()
    page.get_by_role("button", name="Run now").click()
    page.wait_for_load_state()
    assert page.locator(".facts .badge").first.inner_text() == "Unknown"
    assert "status 200, expected 418" in page.content()
    assert check.service.alerts.filter(source="monitoring", status="firing").exists()
