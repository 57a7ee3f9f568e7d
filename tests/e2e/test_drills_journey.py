"""Drills in a real browser: the facilitator (IT operations) starts a planned drill, runs the plan
step by step on the run page, declares the disruption and the restore, records a finding and
completes the drill; a manager opens the report and reads achieved vs target recovery."""

import pytest

from drills.models import Drill, Finding
from tests.drills.factories import make_drill
from tests.e2e.conftest import login, shot
from tests.factories import UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_facilitator_runs_a_drill_and_a_manager_reads_the_report(page, browser, live_server):
    facilitator = UserFactory(username="olga-ops", role="it_operations", first_name="Olga", last_name="Wu")
    UserFactory(username="maria-manager", role="manager", first_name="Maria", last_name="Chen")
    drill = make_drill(facilitator=facilitator, steps=(10, 20), service_targets=((60, 15),), title="Failover drill")
    first, second = drill.plan_version.steps.order_by("order")

    login(page, "olga-ops")
    page.goto(page.base_url + drill.get_absolute_url())
    page.get_by_role("button", name="Start the drill").click()
    page.wait_for_load_state()
    assert page.url.endswith(f"/drills/{drill.pk}/run/")

    page.get_by_role("button", name="Disruption starts now").click()
    page.wait_for_load_state()
    for step in (first, second):
        page.get_by_role("button", name=f"Start step: {step.title}").click()
        page.wait_for_load_state()
        page.locator(f"#step-{step.pk} select[name=outcome]").select_option("done")
        page.locator(f"#step-{step.pk} input[name=note]").fill("went fine")
        page.get_by_role("button", name=f"Finish step: {step.title}").click()
        page.wait_for_load_state()
    assert page.locator(".drills-step-done").count() == 2

    page.fill("input[name=data_loss_minutes]", "5")
    page.get_by_role("button", name="Service restored").click()
    page.wait_for_load_state()

    form = page.locator(".drills-finding-form")
    form.locator("select[name=kind]").select_option("plan_gap")
    form.locator("input[name=title]").fill("Nobody re-keys EDI orders")
    form.get_by_role("button", name="Record finding").click()
    page.wait_for_load_state()
    assert Finding.objects.filter(title="Nobody re-keys EDI orders").exists()
    shot(page, "drills_run")

    done = page.locator(".drills-complete-form")
    done.locator("input[name=hypothesis_held][value=yes]").check()
    done.get_by_role("button", name="Complete the drill").click()
    page.wait_for_load_state()
    drill.refresh_from_db()
    assert drill.status == Drill.Status.COMPLETED and drill.passed is True

    manager = browser.new_context(viewport={"width": 1366, "height": 900}, locale="en-US").new_page()
    manager.base_url = page.base_url
    login(manager, "maria-manager")
    manager.goto(manager.base_url + f"/drills/{drill.pk}/report/")
    table = manager.locator("table.drills-results")
    assert "1 h" in table.inner_text()  # target RTO
    assert "within target" in table.inner_text()
    assert "Nobody re-keys EDI orders" in manager.content()
    assert manager.get_by_role("link", name="Download PDF").is_visible()
    shot(manager, "drills_report")
    manager.context.close()
