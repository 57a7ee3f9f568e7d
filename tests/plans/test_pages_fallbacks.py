"""Pages of fallback procedures: what business users do while an ERP service is down."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from plans.models import FallbackProcedure
from tests.factories import FallbackFactory, ServiceFactory

pytestmark = pytest.mark.django_db

ALL_ROLES = ["administrator", "it_operations", "manager", "business_user"]
EDITORS = ["administrator", "it_operations", "manager"]


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


def _data(service, **overrides):
    data = {
        "service": service.pk,
        "title": "Take orders on paper",
        "audience": "Sales clerks",
        "when_to_use": "The ERP cannot take orders.",
        "steps": "Write the order on form S-1.\nRead it back to the customer.\nPut it in the red tray.",
        "paper_records": "Customer, items, quantities, price, time.",
        "reentry": "Enter the forms in the order of the time written on them.",
        "forms_location": "Sales office, cabinet B, top drawer",
    }
    data.update(overrides)
    return data


# --- Who may see what ----------------------------------------------------------------------------


@pytest.mark.parametrize("role", ALL_ROLES)
def test_every_role_reads_the_fallback_procedures(request, role):
    procedure = FallbackFactory()
    client = _client(request, role)

    assert client.get(reverse("plans:fallback-list")).status_code == 200
    assert client.get(reverse("plans:fallback-detail", args=[procedure.pk])).status_code == 200


@pytest.mark.parametrize("role", EDITORS)
def test_editors_open_the_forms(request, role):
    procedure = FallbackFactory()
    client = _client(request, role)

    assert client.get(reverse("plans:fallback-create")).status_code == 200
    assert client.get(reverse("plans:fallback-edit", args=[procedure.pk])).status_code == 200
    assert client.get(reverse("plans:fallback-delete", args=[procedure.pk])).status_code == 200


def test_a_business_user_cannot_change_a_procedure(business_client):
    procedure = FallbackFactory()
    data = _data(procedure.service, title="Hacked")

    assert business_client.get(reverse("plans:fallback-create")).status_code == 403
    assert business_client.post(reverse("plans:fallback-create"), data).status_code == 403
    assert business_client.post(reverse("plans:fallback-edit", args=[procedure.pk]), data).status_code == 403
    assert business_client.post(reverse("plans:fallback-delete", args=[procedure.pk])).status_code == 403
    procedure.refresh_from_db()
    assert procedure.title != "Hacked"


def test_a_business_user_sees_no_change_buttons(business_client):
    procedure = FallbackFactory()

    listing = business_client.get(reverse("plans:fallback-list")).content.decode()
    detail = business_client.get(reverse("plans:fallback-detail", args=[procedure.pk])).content.decode()

    assert reverse("plans:fallback-create") not in listing
    assert reverse("plans:fallback-edit", args=[procedure.pk]) not in detail


@pytest.mark.parametrize("name", ["fallback-list", "fallback-create"])
def test_anonymous_visitors_are_sent_to_the_login_page(client, name):
    response = client.get(reverse(f"plans:{name}"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_anonymous_visitors_cannot_read_a_procedure(client):
    response = client.get(reverse("plans:fallback-detail", args=[FallbackFactory().pk]))

    assert response.status_code == 302


# --- The list ------------------------------------------------------------------------------------


def test_the_list_groups_procedures_by_service_most_critical_first(business_client):
    payroll = ServiceFactory(name="Payroll", criticality=3)
    sales = ServiceFactory(name="Sales orders", criticality=1)
    FallbackFactory(service=payroll, title="Pay by last month's figures")
    FallbackFactory(service=sales, title="Take orders on paper")
    FallbackFactory(service=sales, title="Quote prices from the printed list")

    content = business_client.get(reverse("plans:fallback-list")).content.decode()

    assert "Which ERP service is down?" in content
    assert content.count("Sales orders is down") == 1
    assert content.index("Sales orders is down") < content.index("Quote prices") < content.index("Take orders")
    assert content.index("Take orders") < content.index("Payroll is down")


def test_the_list_searches_titles_services_and_steps(business_client):
    FallbackFactory(service=ServiceFactory(name="Warehouse"), title="Pick by paper list", steps="Use the clipboard.")
    FallbackFactory(service=ServiceFactory(name="Invoicing"), title="Hand-written invoices", steps="Use form F-2.")
    url = reverse("plans:fallback-list")

    by_service = business_client.get(url, {"q": "warehouse"}).context["page"]
    by_step = business_client.get(url, {"q": "F-2"}).context["page"]

    assert [p.title for p in by_service] == ["Pick by paper list"]
    assert [p.title for p in by_step] == ["Hand-written invoices"]


def test_the_list_filters_by_service(business_client):
    sales = ServiceFactory()
    FallbackFactory(service=sales, title="Mine")
    FallbackFactory(title="Other")

    page = business_client.get(reverse("plans:fallback-list"), {"service": sales.pk}).context["page"]

    assert [p.title for p in page] == ["Mine"]


def test_the_list_says_so_when_nothing_matches(business_client):
    FallbackFactory()

    content = business_client.get(reverse("plans:fallback-list"), {"q": "zzz-nothing"}).content.decode()

    assert "Nothing matches" in content


def test_the_list_runs_the_same_number_of_queries_however_many_procedures(
    business_client, django_assert_max_num_queries
):
    for _ in range(3):
        FallbackFactory()
    url = reverse("plans:fallback-list")
    business_client.get(url)

    with CaptureQueriesContext(connection) as few:
        business_client.get(url)
    for _ in range(20):
        FallbackFactory()
    with CaptureQueriesContext(connection) as many:
        response = business_client.get(url)

    assert len(response.context["page"]) == 23
    assert len(many) == len(few)
    # session, user, user's groups (role label), user permissions + group permissions,
    # count, the page of procedures with their service joined, the services for the picker.
    with django_assert_max_num_queries(8):
        business_client.get(url)


# --- The procedure page and its print layout ----------------------------------------------------


def test_the_procedure_page_has_numbered_steps_and_everything_needed_on_paper(business_client):
    service = ServiceFactory(name="Sales orders")
    procedure = FallbackFactory(
        service=service,
        title="Take orders on paper",
        steps="Write the order on form S-1.\n\n  Read it back to the customer.  \nPut it in the red tray.",
        paper_records="Customer, items, quantities.",
        reentry="Enter the forms by time.",
        forms_location="Cabinet B, top drawer",
        version=3,
    )

    response = business_client.get(reverse("plans:fallback-detail", args=[procedure.pk]))

    content = response.content.decode()
    assert '<ol class="big-steps">' in content
    assert "<li>Write the order on form S-1.</li>" in content
    assert "<li>Read it back to the customer.</li>" in content
    assert "<li>Put it in the red tray.</li>" in content
    assert content.count("<li>", content.index("big-steps"), content.index("</ol>", content.index("big-steps"))) == 3
    assert "Customer, items, quantities." in content
    assert "Enter the forms by time." in content
    assert "Cabinet B, top drawer" in content
    assert "Version 3" in content


def test_the_procedure_page_prints_with_a_header_and_signoff_lines(business_client):
    procedure = FallbackFactory(service=ServiceFactory(name="Sales orders"), title="Take orders on paper", version=2)

    content = business_client.get(reverse("plans:fallback-detail", args=[procedure.pk])).content.decode()

    assert "data-print" in content
    header = content[content.index('class="print-only print-header"') :]
    header = header[: header.index("</header>")]
    assert "Sales orders" in header
    assert "Version 2" in header
    signoff = content[content.index("print-signoff") :]
    assert "Recorded by" in signoff
    assert "Date" in signoff
    # The steps sit between the print header and the sign-off.
    assert (
        content.index("print-header")
        < content.index("Take the order on the paper form.")
        < content.index("print-signoff")
    )


# --- Create, edit, delete -------------------------------------------------------------------------


def test_the_new_form_preselects_the_service_from_the_link(ops_client):
    service = ServiceFactory()

    form = ops_client.get(reverse("plans:fallback-create"), {"service": service.pk}).context["form"]

    assert form.initial["service"] == service.pk


def test_it_creates_a_procedure(ops_client):
    service = ServiceFactory()

    response = ops_client.post(reverse("plans:fallback-create"), _data(service))

    procedure = FallbackProcedure.objects.get()
    assert response.status_code == 302
    assert response.url == procedure.get_absolute_url()
    assert procedure.version == 1
    assert len(procedure.step_list) == 3


def test_it_refuses_a_procedure_without_steps_and_writes_nothing(ops_client):
    response = ops_client.post(reverse("plans:fallback-create"), _data(ServiceFactory(), steps=""))

    assert response.status_code == 200
    assert "steps" in response.context["form"].errors
    assert not FallbackProcedure.objects.exists()


def test_it_refuses_a_second_procedure_with_the_same_title_for_a_service(ops_client):
    existing = FallbackFactory(title="Take orders on paper")

    response = ops_client.post(reverse("plans:fallback-create"), _data(existing.service))

    assert response.status_code == 200
    assert response.context["form"].errors
    assert FallbackProcedure.objects.count() == 1


def test_editing_the_steps_makes_a_new_version(ops_client):
    procedure = FallbackFactory()
    data = _data(procedure.service, title=procedure.title, steps="A completely new step.")

    response = ops_client.post(reverse("plans:fallback-edit", args=[procedure.pk]), data, follow=True)

    procedure.refresh_from_db()
    assert procedure.version == 2
    assert "Saved as version 2." in response.content.decode()


def test_saving_without_a_change_keeps_the_version(ops_client):
    procedure = FallbackFactory()
    data = _data(
        procedure.service,
        title=procedure.title,
        audience=procedure.audience,
        when_to_use=procedure.when_to_use,
        steps=procedure.steps,
        paper_records="",
        reentry="",
        forms_location="",
    )

    ops_client.post(reverse("plans:fallback-edit", args=[procedure.pk]), data)

    procedure.refresh_from_db()
    assert procedure.version == 1


def test_a_refused_edit_changes_nothing(ops_client):
    procedure = FallbackFactory(title="Original")

    response = ops_client.post(
        reverse("plans:fallback-edit", args=[procedure.pk]), _data(procedure.service, title="", steps="New")
    )

    assert response.status_code == 200
    procedure.refresh_from_db()
    assert procedure.title == "Original"
    assert procedure.version == 1


def test_it_deletes_a_procedure(ops_client):
    procedure = FallbackFactory()

    response = ops_client.post(reverse("plans:fallback-delete", args=[procedure.pk]))

    assert response.status_code == 302
    assert response.url == reverse("plans:fallback-list")
    assert not FallbackProcedure.objects.exists()
