"""Browser pages of the risk register: access per role, forms, filters, heat map, query counts."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from risks.models import Risk
from tests.factories import PlanFactory, RiskFactory, ServiceFactory, UserFactory

pytestmark = pytest.mark.django_db

READERS = ["administrator", "it_operations", "manager"]


@pytest.fixture
def owner(db):
    return UserFactory(username="rita-owner", first_name="Rita", last_name="Owner", role="manager")


@pytest.fixture
def risk(owner):
    return RiskFactory(title="Core switch failure", owner=owner, services=[ServiceFactory(name="Network")])


def _form_data(owner, /, **overrides):
    data = {
        "title": "Typhoon floods the server room",
        "category": Risk.Category.NATURAL,
        "description": "Water in the basement.",
        "likelihood": "2",
        "impact": "5",
        "residual_likelihood": "2",
        "residual_impact": "3",
        "owner": str(owner.pk),
        "treatment": Risk.Treatment.MITIGATE,
        "treatment_plan": "Move the servers upstairs.",
        "controls": "Raised floor.",
        "last_reviewed_on": "",
    }
    data.update(overrides)
    return data


# --- access per role ---------------------------------------------------------------------------


@pytest.mark.parametrize("role", READERS)
@pytest.mark.parametrize("name", ["risks:risk-list", "risks:heatmap", "risks:risk-export"])
def test_operations_managers_and_admins_see_the_register_pages(role_clients, role, name, risk):
    response = role_clients[role].get(reverse(name))

    assert response.status_code == 200


@pytest.mark.parametrize("role", READERS)
def test_operations_managers_and_admins_see_a_risk(role_clients, role, risk):
    response = role_clients[role].get(risk.get_absolute_url())

    assert response.status_code == 200
    assert "Core switch failure" in response.content.decode()


@pytest.mark.parametrize(
    "url",
    [
        lambda r: reverse("risks:risk-list"),
        lambda r: reverse("risks:heatmap"),
        lambda r: reverse("risks:risk-export"),
        lambda r: reverse("risks:risk-create"),
        lambda r: reverse("risks:risk-detail", args=[r.pk]),
        lambda r: reverse("risks:risk-edit", args=[r.pk]),
        lambda r: reverse("risks:risk-delete", args=[r.pk]),
    ],
)
def test_it_refuses_a_business_user_and_sends_anonymous_to_login(role_clients, url, risk):
    assert role_clients["business_user"].get(url(risk)).status_code == 403

    response = role_clients["anonymous"].get(url(risk))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_missing_risk_is_a_404(manager_client):
    assert manager_client.get(reverse("risks:risk-detail", args=[999])).status_code == 404


# --- create ------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["it_operations", "manager", "administrator"])
def test_operations_and_managers_add_a_risk(role_clients, role, owner):
    service, plan = ServiceFactory(), PlanFactory()
    data = _form_data(owner, services=[service.pk], plans=[plan.pk])

    response = role_clients[role].post(reverse("risks:risk-create"), data)

    risk = Risk.objects.get()
    assert response.status_code == 302
    assert response["Location"] == risk.get_absolute_url()
    assert (risk.inherent_score, risk.residual_score, risk.level) == (10, 6, "medium")
    assert list(risk.services.all()) == [service]
    assert list(risk.plans.all()) == [plan]
    assert risk.next_review_date is not None


def test_the_new_risk_form_offers_descriptive_scales_and_the_user_as_owner(ops_client, ops_user):
    response = ops_client.get(reverse("risks:risk-create"))

    html = response.content.decode()
    assert "1 – Rare" in html and "5 – Almost certain" in html
    assert "1 – Negligible" in html and "5 – Severe" in html
    assert response.context["form"].initial["owner"] == ops_user.pk
    assert 'type="date"' in html


def test_it_refuses_a_business_user_who_posts_a_new_risk(business_client, owner):
    response = business_client.post(reverse("risks:risk-create"), _form_data(owner))

    assert response.status_code == 403
    assert Risk.objects.count() == 0


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"likelihood": "6"}, "likelihood"),
        ({"impact": "0"}, "impact"),
        ({"residual_likelihood": "3", "residual_impact": "4"}, "residual_impact"),  # 12 > 2×5
        ({"owner": ""}, "owner"),
        ({"title": ""}, "title"),
        ({"category": "meteor"}, "category"),
    ],
)
def test_bad_input_shows_form_errors_and_saves_nothing(manager_client, owner, overrides, field):
    response = manager_client.post(reverse("risks:risk-create"), _form_data(owner, **overrides))

    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert Risk.objects.count() == 0


def test_the_residual_error_explains_the_rule(manager_client, owner):
    data = _form_data(owner, likelihood="2", impact="2", residual_likelihood="3", residual_impact="3")

    response = manager_client.post(reverse("risks:risk-create"), data)

    assert "cannot be higher than the inherent score" in response.content.decode()


def test_an_inactive_user_cannot_be_made_owner(manager_client, owner):
    gone = UserFactory(username="gone", is_active=False)

    response = manager_client.get(reverse("risks:risk-create"))
    assert gone not in response.context["form"].fields["owner"].queryset

    response = manager_client.post(reverse("risks:risk-create"), _form_data(owner, owner=str(gone.pk)))
    assert "owner" in response.context["form"].errors
    assert Risk.objects.count() == 0


# --- edit, review, delete ----------------------------------------------------------------------


def test_operations_edit_a_risk(ops_client, risk, owner):
    data = _form_data(owner, title="Core switch pair failure", likelihood="2", impact="5")

    response = ops_client.post(reverse("risks:risk-edit", args=[risk.pk]), data)

    assert response.status_code == 302
    risk.refresh_from_db()
    assert risk.title == "Core switch pair failure"
    assert risk.inherent_score == 10
    assert list(risk.services.all()) == []  # the form sent no service: the link is removed


def test_an_edit_with_residual_above_inherent_changes_nothing(manager_client, risk, owner):
    data = _form_data(owner, title="Renamed", likelihood="1", impact="1", residual_likelihood="2", residual_impact="2")

    response = manager_client.post(reverse("risks:risk-edit", args=[risk.pk]), data)

    assert response.status_code == 200
    assert "residual_impact" in response.context["form"].errors
    assert "Core switch failure" in response.content.decode()  # the page keeps the stored title
    risk.refresh_from_db()
    assert risk.title == "Core switch failure"
    assert risk.services.count() == 1


def test_an_edit_keeps_a_deactivated_owner_selectable(manager_client, owner, risk):
    owner.is_active = False
    owner.save()

    response = manager_client.get(reverse("risks:risk-edit", args=[risk.pk]))

    assert owner in response.context["form"].fields["owner"].queryset


@pytest.mark.parametrize("role", ["it_operations", "manager"])
def test_operations_and_managers_mark_a_risk_reviewed(role_clients, role, owner):
    risk = RiskFactory(owner=owner, last_reviewed_on=datetime.date(2024, 1, 1))
    assert risk.review_overdue

    response = role_clients[role].post(reverse("risks:risk-review", args=[risk.pk]))

    assert response.status_code == 302
    risk.refresh_from_db()
    assert risk.last_reviewed_on == timezone.localdate()
    assert not risk.review_overdue


def test_marking_reviewed_needs_a_post(manager_client, risk):
    assert manager_client.get(reverse("risks:risk-review", args=[risk.pk])).status_code == 405


def test_a_business_user_cannot_mark_a_risk_reviewed(business_client, risk):
    response = business_client.post(reverse("risks:risk-review", args=[risk.pk]))

    assert response.status_code == 403
    risk.refresh_from_db()
    assert risk.last_reviewed_on is None


@pytest.mark.parametrize("role", ["manager", "administrator"])
def test_managers_and_admins_delete_a_risk(role_clients, role, risk):
    assert role_clients[role].get(reverse("risks:risk-delete", args=[risk.pk])).status_code == 200

    response = role_clients[role].post(reverse("risks:risk-delete", args=[risk.pk]))

    assert response.status_code == 302
    assert not Risk.objects.filter(pk=risk.pk).exists()


def test_operations_cannot_delete_a_risk(ops_client, risk):
    assert ops_client.get(reverse("risks:risk-delete", args=[risk.pk])).status_code == 403
    assert ops_client.post(reverse("risks:risk-delete", args=[risk.pk])).status_code == 403
    assert Risk.objects.filter(pk=risk.pk).exists()


def test_the_detail_page_shows_buttons_by_permission(ops_client, manager_client, risk):
    ops_html = ops_client.get(risk.get_absolute_url()).content.decode()
    manager_html = manager_client.get(risk.get_absolute_url()).content.decode()

    review_url = reverse("risks:risk-review", args=[risk.pk])
    delete_url = reverse("risks:risk-delete", args=[risk.pk])
    assert review_url in ops_html and delete_url not in ops_html
    assert review_url in manager_html and delete_url in manager_html


def test_the_detail_page_links_services_and_plans_and_warns_when_overdue(manager_client, owner):
    service = ServiceFactory(name="ERP database")
    plan = PlanFactory(title="Ransomware response")
    risk = RiskFactory(owner=owner, services=[service], last_reviewed_on=datetime.date(2024, 1, 1))
    risk.plans.set([plan])

    html = manager_client.get(risk.get_absolute_url()).content.decode()

    assert "ERP database" in html and "Ransomware response" in html
    assert reverse("plans:service-detail", args=[service.pk]) in html
    assert "review overdue" in html


# --- the register: filters, sorting, pagination ------------------------------------------------


def _listed(response) -> set[str]:
    return {r.title for r in response.context["page"].object_list}


def test_a_heat_map_cell_lists_exactly_the_risks_in_that_cell(manager_client, owner):
    RiskFactory(title="in cell", owner=owner, likelihood=3, impact=4, residual_likelihood=1, residual_impact=2)
    RiskFactory(title="also in cell", owner=owner, likelihood=3, impact=4, residual_likelihood=2, residual_impact=2)
    RiskFactory(title="same row", owner=owner, likelihood=3, impact=5, residual_likelihood=1, residual_impact=2)
    RiskFactory(title="same column", owner=owner, likelihood=2, impact=4, residual_likelihood=1, residual_impact=2)

    inherent = manager_client.get(reverse("risks:risk-list"), {"likelihood": 3, "impact": 4})
    residual = manager_client.get(reverse("risks:risk-list"), {"residual_likelihood": 1, "residual_impact": 2})

    assert _listed(inherent) == {"in cell", "also in cell"}
    assert _listed(residual) == {"in cell", "same row", "same column"}


def test_the_heat_map_links_lead_to_its_cells(manager_client, owner):
    RiskFactory(owner=owner, likelihood=3, impact=4, residual_likelihood=2, residual_impact=2)

    inherent = manager_client.get(reverse("risks:heatmap")).content.decode()
    residual = manager_client.get(reverse("risks:heatmap"), {"view": "residual"}).content.decode()

    assert "/risks/?likelihood=3&amp;impact=4" in inherent
    assert "/risks/?residual_likelihood=2&amp;residual_impact=2" in residual


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"q": "backup"}, {"tape"}),  # matches the controls
        ({"q": "SWITCH"}, {"switch"}),  # matches the title, any case
        ({"category": "cyber_threat"}, {"phishing"}),
        ({"level": "critical"}, {"switch"}),
        ({"treatment": "accept"}, {"phishing"}),
        ({"overdue": "1"}, {"tape"}),
        ({"likelihood": "9"}, {"tape", "switch", "phishing"}),  # an invalid value is ignored
    ],
)
def test_the_register_filters(manager_client, owner, params, expected):
    RiskFactory(
        title="tape", owner=owner, controls="Monthly backup restore test", last_reviewed_on=datetime.date(2024, 1, 1)
    )
    RiskFactory(title="switch", owner=owner, likelihood=5, impact=5, residual_likelihood=4, residual_impact=4)
    RiskFactory(title="phishing", owner=owner, category=Risk.Category.CYBER, treatment=Risk.Treatment.ACCEPT)

    response = manager_client.get(reverse("risks:risk-list"), params)

    assert response.status_code == 200
    assert _listed(response) == expected


def test_the_register_filters_by_service_and_owner(manager_client, owner):
    network = ServiceFactory(name="Network")
    other_owner = UserFactory(username="otto", role="it_operations")
    RiskFactory(title="switch", owner=owner, services=[network, ServiceFactory()])
    RiskFactory(title="router", owner=other_owner, services=[network])
    RiskFactory(title="payroll", owner=owner, services=[ServiceFactory()])

    by_service = manager_client.get(reverse("risks:risk-list"), {"service": network.pk})
    by_owner = manager_client.get(reverse("risks:risk-list"), {"owner": other_owner.pk})

    assert _listed(by_service) == {"switch", "router"}
    assert _listed(by_owner) == {"router"}


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("score", ["low", "mid", "top"]),
        ("-score", ["top", "mid", "low"]),
        ("title", ["low", "mid", "top"]),
        ("next_review", ["top", "mid", "low"]),  # critical is reviewed soonest
    ],
)
def test_the_register_sorts(manager_client, owner, sort, expected):
    RiskFactory(title="mid", owner=owner, likelihood=3, impact=3, residual_likelihood=2, residual_impact=3)
    RiskFactory(title="top", owner=owner, likelihood=5, impact=5, residual_likelihood=5, residual_impact=4)
    RiskFactory(title="low", owner=owner, likelihood=1, impact=2, residual_likelihood=1, residual_impact=1)

    response = manager_client.get(reverse("risks:risk-list"), {"sort": sort})

    assert [r.title for r in response.context["page"].object_list] == expected


def test_the_register_pages_by_50(manager_client, owner):
    for n in range(51):
        RiskFactory(title=f"risk {n:02d}", owner=owner)

    first = manager_client.get(reverse("risks:risk-list"))
    second = manager_client.get(reverse("risks:risk-list"), {"page": 2})

    assert len(first.context["page"].object_list) == 50
    assert len(second.context["page"].object_list) == 1


def test_the_register_shows_levels_scores_and_the_overdue_badge(manager_client, owner):
    RiskFactory(
        owner=owner,
        likelihood=4,
        impact=5,
        residual_likelihood=2,
        residual_impact=3,
        last_reviewed_on=datetime.date(2024, 1, 1),
    )

    html = manager_client.get(reverse("risks:risk-list")).content.decode()

    assert "level-critical" in html and "20 · Critical" in html
    assert "level-medium" in html and "6 · Medium" in html
    assert 'class="badge overdue"' in html


def test_the_export_link_keeps_the_current_filters(manager_client, risk):
    html = manager_client.get(reverse("risks:risk-list"), {"category": "hardware", "page": "1"}).content.decode()

    assert reverse("risks:risk-export") + "?category=hardware" in html


def test_every_role_that_sees_the_register_gets_the_new_risk_button(ops_client, manager_client, admin_client):
    for client in (ops_client, manager_client, admin_client):
        assert reverse("risks:risk-create") in client.get(reverse("risks:risk-list")).content.decode()


# --- heat map counts ---------------------------------------------------------------------------


def _cell(heat_map, likelihood, impact) -> int:
    row = next(r for r in heat_map if r["likelihood"] == likelihood)
    return next(c for c in row["cells"] if c["impact"] == impact)["count"]


def test_the_heat_map_counts_match_the_register(manager_client, owner):
    RiskFactory.create_batch(3, owner=owner, likelihood=4, impact=5, residual_likelihood=2, residual_impact=2)
    RiskFactory(
        owner=owner, likelihood=1, impact=1, residual_likelihood=1, residual_impact=1, category=Risk.Category.CYBER
    )

    inherent = manager_client.get(reverse("risks:heatmap")).context
    residual = manager_client.get(reverse("risks:heatmap"), {"view": "residual"}).context

    assert _cell(inherent["heat_map"], 4, 5) == 3
    assert _cell(inherent["heat_map"], 1, 1) == 1
    assert sum(c["count"] for r in inherent["heat_map"] for c in r["cells"]) == 4
    assert _cell(residual["heat_map"], 2, 2) == 3
    assert _cell(residual["heat_map"], 4, 5) == 0
    assert {row["value"]: row["count"] for row in inherent["levels"]} == {
        "critical": 0,
        "high": 0,
        "medium": 0,
        "low": 4,
    }
    assert {row["value"]: row["count"] for row in inherent["categories"]}["cyber_threat"] == 1


def test_the_registers_heat_maps_count_only_the_filtered_risks(manager_client, owner):
    RiskFactory(owner=owner, likelihood=4, impact=5, category=Risk.Category.CYBER)
    RiskFactory(owner=owner, likelihood=4, impact=5, category=Risk.Category.HARDWARE)

    context = manager_client.get(reverse("risks:risk-list"), {"category": "cyber_threat"}).context

    assert _cell(context["heat_inherent"], 4, 5) == 1


# --- query counts ------------------------------------------------------------------------------


def _make_risks(owner, n):
    for _ in range(n):
        RiskFactory(owner=owner, services=[ServiceFactory(), ServiceFactory()]).plans.set([PlanFactory()])


def _count_queries(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url, params or {}).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("params", [{}, {"q": "risk", "service": "", "sort": "-residual"}])
def test_the_register_query_count_stays_constant_as_risks_grow(
    manager_client, owner, params, django_assert_max_num_queries
):
    url = reverse("risks:risk-list")
    _make_risks(owner, 3)
    few = _count_queries(manager_client, url, params)
    _make_risks(owner, 20)
    many = _count_queries(manager_client, url, params)

    assert many == few
    # session, user, user and group permissions (2), the user's groups (menu role), paginator count,
    # inherent and residual heat-map GROUP BYs (2), owner and service choices of the filter form (2),
    # the page of risks with their owners, and their services (one prefetch).
    with django_assert_max_num_queries(12):
        manager_client.get(url, params)


def test_the_heat_map_query_count_stays_constant_as_risks_grow(manager_client, owner, django_assert_max_num_queries):
    url = reverse("risks:heatmap")
    _make_risks(owner, 3)
    few = _count_queries(manager_client, url)
    _make_risks(owner, 20)

    assert _count_queries(manager_client, url) == few
    # session, user, user and group permissions (2), the user's groups (menu role),
    # heat-map GROUP BY, level GROUP BY, category GROUP BY
    with django_assert_max_num_queries(8):
        manager_client.get(url)
