"""Pages of ERP services: list, detail, create, edit, delete."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from plans.models import ERPService
from tests.factories import (
    DepartmentFactory,
    FallbackFactory,
    PlanFactory,
    RiskFactory,
    ServiceFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


ALL_ROLES = ["administrator", "it_operations", "manager", "business_user"]
EDITORS = ["administrator", "it_operations", "manager"]


def _valid_data(**overrides):
    data = {
        "name": "Sales orders",
        "code": "sales",
        "kind": "business",
        "criticality": "1",
        "description": "Order entry.",
        "rto_minutes": "60",
        "rpo_minutes": "15",
        "mtpd_minutes": "240",
        "owner_department": "",
        "business_owner": "",
    }
    data.update(overrides)
    return data


def _client(request, role):
    """The logged-in client of one role (only that role's user is created)."""
    fixture = {
        "administrator": "admin_client",
        "it_operations": "ops_client",
        "manager": "manager_client",
        "business_user": "business_client",
        "anonymous": "client",
    }[role]
    return request.getfixturevalue(fixture)


def _assert_login_redirect(response):
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


# --- Who may see what ----------------------------------------------------------------------------


@pytest.mark.parametrize("role", ALL_ROLES)
@pytest.mark.parametrize("page", ["list", "detail"])
def test_every_role_sees_the_services(request, role, page):
    service = ServiceFactory()
    url = reverse("plans:service-list") if page == "list" else reverse("plans:service-detail", args=[service.pk])

    assert _client(request, role).get(url).status_code == 200


@pytest.mark.parametrize("page", ["service-list", "service-create"])
def test_it_sends_anonymous_visitors_to_the_login_page(client, page):
    _assert_login_redirect(client.get(reverse(f"plans:{page}")))


@pytest.mark.parametrize("page", ["service-detail", "service-edit", "service-delete"])
def test_it_sends_anonymous_visitors_to_the_login_page_for_one_service(client, page):
    service = ServiceFactory()

    _assert_login_redirect(client.get(reverse(f"plans:{page}", args=[service.pk])))


@pytest.mark.parametrize("role", EDITORS)
def test_editors_open_the_forms(request, role):
    service = ServiceFactory()
    client = _client(request, role)

    assert client.get(reverse("plans:service-create")).status_code == 200
    assert client.get(reverse("plans:service-edit", args=[service.pk])).status_code == 200
    assert client.get(reverse("plans:service-delete", args=[service.pk])).status_code == 200


def test_it_refuses_every_change_to_a_business_user(business_client):
    service = ServiceFactory()

    assert business_client.get(reverse("plans:service-create")).status_code == 403
    assert business_client.post(reverse("plans:service-create"), _valid_data()).status_code == 403
    assert business_client.get(reverse("plans:service-edit", args=[service.pk])).status_code == 403
    assert business_client.post(reverse("plans:service-edit", args=[service.pk]), _valid_data()).status_code == 403
    assert business_client.post(reverse("plans:service-delete", args=[service.pk])).status_code == 403
    assert ERPService.objects.count() == 1


def test_it_hides_the_change_buttons_from_a_business_user(business_client):
    service = ServiceFactory()

    listing = business_client.get(reverse("plans:service-list")).content.decode()
    detail = business_client.get(reverse("plans:service-detail", args=[service.pk])).content.decode()

    assert reverse("plans:service-create") not in listing
    assert reverse("plans:service-edit", args=[service.pk]) not in detail
    assert reverse("plans:service-delete", args=[service.pk]) not in detail


def test_it_shows_the_change_buttons_to_operations(ops_client):
    service = ServiceFactory()

    listing = ops_client.get(reverse("plans:service-list")).content.decode()
    detail = ops_client.get(reverse("plans:service-detail", args=[service.pk])).content.decode()

    assert reverse("plans:service-create") in listing
    assert reverse("plans:service-edit", args=[service.pk]) in detail


# --- The list ------------------------------------------------------------------------------------


def test_the_list_searches_by_name_and_code(manager_client):
    ServiceFactory(name="Sales orders", code="sales")
    ServiceFactory(name="Payroll", code="hr-pay")

    by_name = manager_client.get(reverse("plans:service-list"), {"q": "sales"})
    by_code = manager_client.get(reverse("plans:service-list"), {"q": "hr-pay"})

    assert [s.name for s in by_name.context["page"]] == ["Sales orders"]
    assert [s.name for s in by_code.context["page"]] == ["Payroll"]


def test_the_list_filters_by_kind_criticality_and_department(manager_client):
    finance = DepartmentFactory(name="Finance")
    ServiceFactory(name="Ledger", criticality=1, owner_department=finance)
    ServiceFactory(name="Reports", criticality=4, owner_department=finance)
    ServiceFactory(name="Database", kind=ERPService.Kind.INFRASTRUCTURE, criticality=1)
    url = reverse("plans:service-list")

    infra = manager_client.get(url, {"kind": "infrastructure"}).context["page"]
    vital = manager_client.get(url, {"criticality": "1"}).context["page"]
    owned = manager_client.get(url, {"owner_department": finance.pk, "criticality": "4"}).context["page"]

    assert [s.name for s in infra] == ["Database"]
    assert {s.name for s in vital} == {"Ledger", "Database"}
    assert [s.name for s in owned] == ["Reports"]


def test_the_list_ignores_filter_values_it_does_not_know(manager_client):
    ServiceFactory()

    response = manager_client.get(reverse("plans:service-list"), {"kind": "nope", "criticality": "x", "sort": "evil"})

    assert response.status_code == 200
    assert len(response.context["page"]) == 1


@pytest.mark.parametrize(("sort", "expected"), [("rto", ["Fast", "Slow"]), ("-rto", ["Slow", "Fast"])])
def test_the_list_sorts_by_a_column_both_ways(manager_client, sort, expected):
    ServiceFactory(name="Slow", rto_minutes=480, mtpd_minutes=960)
    ServiceFactory(name="Fast", rto_minutes=15, mtpd_minutes=60)

    response = manager_client.get(reverse("plans:service-list"), {"sort": sort})

    assert [s.name for s in response.context["page"]] == expected


def test_the_list_shows_objectives_in_human_units(manager_client):
    ServiceFactory(name="Sales", rto_minutes=240, rpo_minutes=30, mtpd_minutes=1440)

    content = manager_client.get(reverse("plans:service-list")).content.decode()

    assert "4 h" in content
    assert "30 min" in content
    assert "1 d" in content


def test_the_list_runs_the_same_number_of_queries_however_many_services(manager_client):
    database = ServiceFactory(kind=ERPService.Kind.INFRASTRUCTURE, owner_department=DepartmentFactory())
    for _ in range(3):
        ServiceFactory(owner_department=DepartmentFactory()).depends_on.add(database)
    url = reverse("plans:service-list")
    manager_client.get(url)  # warm the session

    with CaptureQueriesContext(connection) as few:
        manager_client.get(url)
    owners = [UserFactory(), UserFactory()]
    for n in range(20):
        ServiceFactory(owner_department=DepartmentFactory(), business_owner=owners[n % 2]).depends_on.add(database)
    with CaptureQueriesContext(connection) as many:
        response = manager_client.get(url)

    assert len(response.context["page"]) == 24
    assert len(many) == len(few)


def test_the_list_query_count_is_pinned(manager_client, django_assert_max_num_queries):
    database = ServiceFactory(kind=ERPService.Kind.INFRASTRUCTURE)
    for _ in range(10):
        ServiceFactory(owner_department=DepartmentFactory()).depends_on.add(database)

    # session, user, user's groups (role label), user permissions + group permissions, count,
    # the page of services (with department and owner joined), their dependencies, departments
    # for the filter.
    with django_assert_max_num_queries(9):
        manager_client.get(reverse("plans:service-list"))


# --- The detail page -----------------------------------------------------------------------------


def test_the_detail_shows_the_business_impact_facts(manager_client):
    department = DepartmentFactory(name="Sales department")
    owner = UserFactory(first_name="Wei", last_name="Zhang")
    service = ServiceFactory(
        name="Sales orders",
        criticality=1,
        rto_minutes=120,
        rpo_minutes=15,
        mtpd_minutes=480,
        owner_department=department,
        business_owner=owner,
    )

    content = manager_client.get(reverse("plans:service-detail", args=[service.pk])).content.decode()

    assert "1 – Vital" in content
    assert "2 h" in content
    assert "15 min" in content
    assert "8 h" in content
    assert "Sales department" in content
    assert "Wei Zhang" in content


def test_the_detail_of_an_infrastructure_service_names_the_dependent_that_sets_its_objectives(manager_client):
    database = ServiceFactory(
        name="ERP database", kind=ERPService.Kind.INFRASTRUCTURE, rto_minutes=480, rpo_minutes=60, mtpd_minutes=960
    )
    warehouse = ServiceFactory(name="Warehouse", rto_minutes=240, rpo_minutes=5, mtpd_minutes=480)
    sales = ServiceFactory(name="Sales orders", rto_minutes=30, rpo_minutes=30, mtpd_minutes=240)
    warehouse.depends_on.add(database)
    sales.depends_on.add(warehouse)

    response = manager_client.get(reverse("plans:service-detail", args=[database.pk]))

    effective = response.context["effective"]
    assert effective["rto_from"] == sales
    assert effective["rpo_from"] == warehouse
    content = response.content.decode()
    assert "Effective RTO" in content
    assert "set by" in content
    assert sales.get_absolute_url() in content


def test_the_detail_of_a_service_nothing_depends_on_has_no_effective_box(manager_client):
    service = ServiceFactory()

    response = manager_client.get(reverse("plans:service-detail", args=[service.pk]))

    assert response.context["effective"] is None
    assert "Effective RTO" not in response.content.decode()


def test_the_detail_lists_dependencies_both_ways(manager_client):
    database = ServiceFactory(name="ERP database")
    sales = ServiceFactory(name="Sales orders")
    network = ServiceFactory(name="Network")
    sales.depends_on.add(database)
    database.depends_on.add(network)

    response = manager_client.get(reverse("plans:service-detail", args=[database.pk]))

    assert list(response.context["depends_on"]) == [network]
    assert response.context["dependents"] == [sales]


def test_the_detail_lists_plans_fallbacks_and_risks(manager_client):
    service = ServiceFactory()
    PlanFactory(title="Total ERP outage", services=[service])
    FallbackFactory(service=service, title="Take orders on paper")
    RiskFactory(title="Disk array failure", services=[service])

    content = manager_client.get(reverse("plans:service-detail", args=[service.pk])).content.decode()

    assert "Total ERP outage" in content
    assert "Take orders on paper" in content
    assert "Disk array failure" in content


def test_the_detail_hides_risks_from_a_business_user(business_client):
    service = ServiceFactory()
    RiskFactory(title="Disk array failure", services=[service])
    FallbackFactory(service=service, title="Take orders on paper")

    response = business_client.get(reverse("plans:service-detail", args=[service.pk]))

    assert "risks" not in response.context
    assert "Disk array failure" not in response.content.decode()
    assert "Take orders on paper" in response.content.decode()


def test_an_unknown_service_is_a_404(manager_client):
    assert manager_client.get(reverse("plans:service-detail", args=[999999])).status_code == 404


# --- Create and edit -----------------------------------------------------------------------------


def test_it_creates_a_service_with_its_dependencies(ops_client):
    database = ServiceFactory(name="ERP database")

    response = ops_client.post(reverse("plans:service-create"), _valid_data(depends_on=[database.pk]))

    service = ERPService.objects.get(code="sales")
    assert response.status_code == 302
    assert response.url == service.get_absolute_url()
    assert list(service.depends_on.all()) == [database]
    assert "was created" in ops_client.get(response.url).content.decode()


def test_it_refuses_an_rto_beyond_the_mtpd_and_writes_nothing(ops_client):
    response = ops_client.post(reverse("plans:service-create"), _valid_data(rto_minutes="600", mtpd_minutes="240"))

    assert response.status_code == 200
    assert response.context["form"].errors["rto_minutes"]
    assert "must not exceed" in response.content.decode()
    assert not ERPService.objects.exists()


def test_it_refuses_a_missing_name_and_writes_nothing(ops_client):
    response = ops_client.post(reverse("plans:service-create"), _valid_data(name=""))

    assert response.status_code == 200
    assert "name" in response.context["form"].errors
    assert not ERPService.objects.exists()


def test_it_refuses_a_duplicate_code(ops_client):
    ServiceFactory(code="sales")

    response = ops_client.post(reverse("plans:service-create"), _valid_data())

    assert "code" in response.context["form"].errors
    assert ERPService.objects.count() == 1


def test_it_saves_an_edit(ops_client):
    service = ServiceFactory(name="Old name", code="old")

    response = ops_client.post(reverse("plans:service-edit", args=[service.pk]), _valid_data(name="New name"))

    assert response.status_code == 302
    service.refresh_from_db()
    assert service.name == "New name"
    assert service.rto_minutes == 60


def test_the_edit_form_does_not_offer_the_service_itself_as_a_dependency(ops_client):
    service = ServiceFactory()
    other = ServiceFactory()

    form = ops_client.get(reverse("plans:service-edit", args=[service.pk])).context["form"]

    assert list(form.fields["depends_on"].queryset) == [other]


def test_the_edit_shows_a_dependency_cycle_on_the_field_and_writes_nothing(ops_client):
    sales = ServiceFactory(name="Sales", code="sales-svc")
    database = ServiceFactory(name="ERP database", code="erp-db")
    sales.depends_on.add(database)

    response = ops_client.post(
        reverse("plans:service-edit", args=[database.pk]),
        _valid_data(name="ERP database renamed", code="erp-db", depends_on=[sales.pk]),
    )

    assert response.status_code == 200
    errors = response.context["form"].errors["depends_on"]
    assert "ERP database → Sales → ERP database" in errors[0]
    assert "dependency cycle" in response.content.decode()
    database.refresh_from_db()
    assert database.name == "ERP database"
    assert not database.depends_on.exists()


def test_the_edit_keeps_the_stored_name_in_the_heading_when_refused(ops_client):
    service = ServiceFactory(name="Payroll", code="pay")

    response = ops_client.post(reverse("plans:service-edit", args=[service.pk]), _valid_data(name="", code="pay"))

    assert "Edit Payroll" in response.content.decode()


# --- Delete --------------------------------------------------------------------------------------


def test_it_deletes_a_service_after_confirmation(ops_client):
    service = ServiceFactory(name="Old reports")
    FallbackFactory(service=service)

    confirm = ops_client.get(reverse("plans:service-delete", args=[service.pk]))
    response = ops_client.post(reverse("plans:service-delete", args=[service.pk]))

    assert "fallback procedure will be deleted too" in confirm.content.decode()
    assert response.status_code == 302
    assert response.url == reverse("plans:service-list")
    assert not ERPService.objects.filter(pk=service.pk).exists()


def test_it_refuses_to_delete_a_service_covered_by_a_plan_and_says_why(ops_client):
    service = ServiceFactory()
    PlanFactory(title="ERP down plan", services=[service])

    response = ops_client.post(reverse("plans:service-delete", args=[service.pk]))

    assert response.status_code == 200
    assert "covered by emergency plans (ERP down plan)" in response.content.decode()
    assert ERPService.objects.filter(pk=service.pk).exists()
