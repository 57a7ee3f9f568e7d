"""Incident response in a real browser: an IT operations user opens an incident on Sales, works it
through the plan's checklist and resolves it; meanwhile a business user, on a phone, lands on the
status page, sees Sales down and follows its fallback procedure."""

import pytest
from django.utils import timezone

from incidents.models import ChecklistItem, Incident
from plans.models import PlanVersion
from tests.e2e.conftest import login, shot
from tests.factories import FallbackFactory, PlanFactory, ServiceFactory, StepFactory, UserFactory, VersionFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _plan_for(service):
    plan = PlanFactory(title="ERP outage response", services=[service])
    version = VersionFactory(plan=plan)
    StepFactory(version=version, phase="assess", order=1, title="Confirm which users are affected")
    StepFactory(version=version, phase="recover", order=2, title="Restart the order service")
    StepFactory(version=version, phase="recover", order=3, title="Tell the sales desk it is back")
    PlanVersion.objects.filter(pk=version.pk).update(status=PlanVersion.Status.PUBLISHED, published_at=timezone.now())
    return plan


def test_ops_works_an_incident_while_a_business_user_follows_the_fallback(page, phone_page):
    UserFactory(username="olga-ops", role="it_operations", first_name="Olga", last_name="Wu")
    UserFactory(username="ben-sales", role="business_user", first_name="Ben", last_name="Li")
    sales = ServiceFactory(name="Sales order-to-cash", code="sales", criticality=1)
    ServiceFactory(name="Payroll", code="payroll", criticality=3)
    FallbackFactory(service=sales, title="Taking customer orders on paper", audience="Sales clerks")
    _plan_for(sales)

    # IT operations opens the incident in the browser.
    login(page, "olga-ops")
    page.goto(page.base_url + "/incidents/new/")
    page.fill("#id_title", "Orders cannot be saved")
    page.check("input[name=severity][value=sev2]")
    page.check(f"input[name=services][value='{sales.pk}']")
    page.fill("#id_business_impact", "Sales clerks cannot enter orders.")
    page.locator("form.incident-form button[type=submit]").click()
    page.wait_for_load_state()
    incident = Incident.objects.get()
    assert page.url.endswith(incident.get_absolute_url())
    assert page.locator("h1").inner_text() == "Orders cannot be saved"

    # Acknowledge.
    page.get_by_role("button", name="Acknowledge").click()
    page.wait_for_load_state()
    assert page.locator(".incident-badges .st").inner_text() == "Acknowledged"

    # Attach the proposed plan; its steps become the checklist.
    page.locator(".proposed-plan", has_text="ERP outage response").get_by_role("button", name="Attach").click()
    page.wait_for_load_state()
    assert page.locator(".checklist li").count() == 3

    # Follow two steps.
    page.get_by_role("button", name="Mark “Confirm which users are affected” done").click()
    page.wait_for_load_state()
    page.get_by_role("button", name="Mark “Restart the order service” done").click()
    page.wait_for_load_state()
    assert page.locator(".checklist li.is-done").count() == 2
    assert "Done by Olga Wu" in page.locator("#checklist").inner_text()

    # A note, without leaving the page.
    page.fill("#timeline textarea[name=message]", "Order service restarted; watching error rate.")
    page.get_by_role("button", name="Add note").click()
    page.wait_for_load_state()
    assert page.url.endswith("#timeline")
    assert "Order service restarted; watching error rate." in page.locator(".timeline li").first.inner_text()
    shot(page, "ops_incident_page")

    # Meanwhile, a business user on a phone lands on the status page and sees Sales down.
    login(phone_page, "ben-sales")
    assert phone_page.url.endswith("/status/")
    card = phone_page.locator(".status-card", has_text="Sales order-to-cash")
    assert card.locator(".badge").inner_text() == "Down"
    assert phone_page.locator(".status-card", has_text="Payroll").count() == 0
    shot(phone_page, "business_status_sales_down")
    card.get_by_role("link", name="What to do now: Taking customer orders on paper").click()
    phone_page.wait_for_load_state()
    assert "Taking customer orders on paper" in phone_page.locator("h1").inner_text()

    # IT resolves the incident; the status page shows everything working again.
    page.get_by_role("button", name="Resolve").click()
    page.wait_for_load_state()
    assert page.locator(".incident-badges .st").inner_text() == "Resolved"
    shot(page, "ops_incident_resolved")
    incident.refresh_from_db()
    assert incident.status == Incident.Status.RESOLVED and incident.acknowledged_at
    assert ChecklistItem.objects.filter(incident=incident, done_at__isnull=False).count() == 2
    assert set(incident.timeline.values_list("kind", flat=True)) >= {
        "opened",
        "status",
        "plan_attached",
        "plan_step",
        "note",
    }

    phone_page.goto(phone_page.base_url + "/status/")
    assert "All ERP services are working normally." in phone_page.locator(".status-banner").inner_text()
