"""A manager's first journey: dashboard, heat map, a new risk, and the register showing it."""

import pytest

from risks.models import Risk
from tests.e2e.conftest import login, shot
from tests.factories import RiskFactory, ServiceFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_manager_reviews_the_heat_map_and_registers_a_new_risk(page):
    manager = UserFactory(username="mei-manager", role="manager", first_name="Mei", last_name="Lin")
    sales = ServiceFactory(name="Sales order-to-cash", code="sales")
    RiskFactory(
        title="RAID controller failure",
        likelihood=2,
        impact=5,
        residual_likelihood=1,
        residual_impact=5,
        owner=manager,
        services=[sales],
    )
    RiskFactory(title="Failed ERP upgrade", likelihood=3, impact=4, owner=manager)

    login(page, "mei-manager")
    page.goto(page.base_url + "/dashboard/")
    assert page.locator("h1").first.inner_text() == "Dashboard"
    assert page.get_by_role("link", name="Sales order-to-cash").is_visible()
    shot(page, "manager_dashboard")

    page.goto(page.base_url + "/risks/heatmap/")
    # The cell likelihood 2 × impact 5 holds one risk; following it filters the register to that risk.
    cell = page.locator("table.heatmap a[href*='likelihood=2'][href*='impact=5']").first
    assert cell.inner_text().strip() == "1"
    shot(page, "manager_heatmap")
    cell.click()
    page.wait_for_load_state()
    assert page.get_by_text("RAID controller failure").first.is_visible()
    assert page.get_by_text("Failed ERP upgrade").count() == 0

    page.goto(page.base_url + "/risks/new/")
    page.fill("#id_title", "Ransomware encrypts the ERP file server")
    page.select_option("#id_category", "cyber_threat")
    page.select_option("#id_likelihood", "3")
    page.select_option("#id_impact", "5")
    page.select_option("#id_residual_likelihood", "2")
    page.select_option("#id_residual_impact", "4")
    page.select_option("#id_owner", str(manager.pk))
    page.select_option("#id_services", str(sales.pk))
    page.locator("form.stacked button[type=submit]").click()
    page.wait_for_load_state()

    risk = Risk.objects.get(title="Ransomware encrypts the ERP file server")
    assert (risk.inherent_score, risk.residual_score, risk.level) == (15, 8, "medium")

    page.goto(page.base_url + "/risks/")
    row = page.locator("tr", has_text="Ransomware encrypts the ERP file server")
    assert row.count() == 1
    assert "15" in row.inner_text()
    shot(page, "manager_register")
