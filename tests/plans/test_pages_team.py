"""Pages of the response team: roles, their members and contact details."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from plans.models import ResponseRole, TeamMember
from tests.factories import MemberFactory, RoleFactory, StepFactory

pytestmark = pytest.mark.django_db

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


def _pages(role, member):
    """Every team page, as (url, method)."""
    return [
        (reverse("plans:team"), "get"),
        (reverse("plans:role-detail", args=[role.pk]), "get"),
        (reverse("plans:role-create"), "get"),
        (reverse("plans:role-edit", args=[role.pk]), "get"),
        (reverse("plans:role-delete", args=[role.pk]), "get"),
        (reverse("plans:member-create", args=[role.pk]), "get"),
        (reverse("plans:member-edit", args=[member.pk]), "get"),
        (reverse("plans:member-delete", args=[member.pk]), "get"),
    ]


@pytest.mark.parametrize("role_name", EDITORS)
def test_operations_managers_and_administrators_open_every_team_page(request, role_name):
    member = MemberFactory()
    client = _client(request, role_name)

    for url, _method in _pages(member.role, member):
        assert client.get(url).status_code == 200, url


def test_a_business_user_is_refused_every_team_page(business_client):
    member = MemberFactory()

    for url, _method in _pages(member.role, member):
        assert business_client.get(url).status_code == 403, url
    assert business_client.post(reverse("plans:member-delete", args=[member.pk])).status_code == 403
    assert TeamMember.objects.filter(pk=member.pk).exists()


def test_anonymous_visitors_are_sent_to_the_login_page(client):
    member = MemberFactory()

    for url, _method in _pages(member.role, member):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.url.startswith(reverse("login"))


def test_a_business_user_does_not_see_the_team_in_the_navigation(business_client):
    content = business_client.get(reverse("plans:fallback-list")).content.decode()

    assert reverse("plans:team") not in content


# --- The team page -------------------------------------------------------------------------------


def test_the_team_page_lists_primary_then_deputies_with_contact_links(manager_client):
    role = RoleFactory(name="Incident commander", responsibilities="Leads the response.\nDecides escalation.")
    MemberFactory(role=role, rank=2, name="Second Deputy", email="deputy@example.com", phone="+86 21 5555 0102")
    MemberFactory(role=role, rank=1, name="First Primary", email="primary@example.com", phone="+86 21 5555 0101")
    MemberFactory(role=role, rank=3, name="Third Person", email="", phone="", chat_handle="@third")

    response = manager_client.get(reverse("plans:team"))

    content = response.content.decode()
    assert content.index("First Primary") < content.index("Second Deputy") < content.index("Third Person")
    assert 'href="mailto:primary@example.com"' in content
    assert 'href="tel:+862155550101"' in content
    assert "@third" in content
    assert "Primary" in content
    assert "Deputy 1" in content
    assert "Deputy 2" in content
    assert "Decides escalation." in content


def test_the_team_page_orders_roles_by_their_order(manager_client):
    RoleFactory(name="Communications lead", order=2)
    RoleFactory(name="Incident commander", order=1)

    content = manager_client.get(reverse("plans:team")).content.decode()

    assert content.index("Incident commander") < content.index("Communications lead")


def test_the_team_page_flags_a_role_nobody_holds(manager_client):
    RoleFactory(name="Database administrator")

    assert "Nobody holds this role yet." in manager_client.get(reverse("plans:team")).content.decode()


def test_the_team_page_runs_the_same_number_of_queries_however_big_the_team(
    manager_client, django_assert_max_num_queries
):
    for _ in range(2):
        MemberFactory(role=RoleFactory())
    url = reverse("plans:team")
    manager_client.get(url)

    with CaptureQueriesContext(connection) as few:
        manager_client.get(url)
    for _ in range(10):
        role = RoleFactory()
        MemberFactory(role=role, rank=1)
        MemberFactory(role=role, rank=2)
    with CaptureQueriesContext(connection) as many:
        manager_client.get(url)

    assert len(many) == len(few)
    # session, user, user's groups (role label), user permissions + group permissions, roles,
    # their members (with linked user accounts).
    with django_assert_max_num_queries(7):
        manager_client.get(url)


def test_the_team_page_shows_change_buttons_to_operations(ops_client):
    member = MemberFactory()

    content = ops_client.get(reverse("plans:team")).content.decode()

    assert reverse("plans:member-edit", args=[member.pk]) in content
    assert reverse("plans:role-create") in content


# --- Roles ---------------------------------------------------------------------------------------


def test_it_creates_a_role(ops_client):
    response = ops_client.post(
        reverse("plans:role-create"),
        {
            "name": "Database administrator",
            "key": "dba",
            "order": "3",
            "description": "",
            "responsibilities": "Restore",
        },
    )

    role = ResponseRole.objects.get(key="dba")
    assert response.status_code == 302
    assert response.url == role.get_absolute_url()


def test_it_refuses_a_role_without_a_name_and_writes_nothing(ops_client):
    response = ops_client.post(reverse("plans:role-create"), {"name": "", "key": "dba", "order": "0"})

    assert response.status_code == 200
    assert "name" in response.context["form"].errors
    assert not ResponseRole.objects.exists()


def test_it_refuses_a_duplicate_role_key(ops_client):
    RoleFactory(key="dba")

    response = ops_client.post(reverse("plans:role-create"), {"name": "Another", "key": "dba", "order": "0"})

    assert "key" in response.context["form"].errors
    assert ResponseRole.objects.count() == 1


def test_it_edits_a_role(ops_client):
    role = RoleFactory(name="Comms", key="comms")

    ops_client.post(
        reverse("plans:role-edit", args=[role.pk]),
        {"name": "Communications lead", "key": "comms", "order": "2", "responsibilities": "Inform staff"},
    )

    role.refresh_from_db()
    assert role.name == "Communications lead"
    assert role.responsibilities == "Inform staff"


def test_it_deletes_a_role_with_its_members(ops_client):
    member = MemberFactory()

    response = ops_client.post(reverse("plans:role-delete", args=[member.role.pk]))

    assert response.status_code == 302
    assert response.url == reverse("plans:team")
    assert not ResponseRole.objects.exists()
    assert not TeamMember.objects.exists()


def test_it_refuses_to_delete_a_role_that_plan_steps_use(ops_client):
    step = StepFactory()

    response = ops_client.post(reverse("plans:role-delete", args=[step.role.pk]))

    assert response.status_code == 200
    assert "Plan steps are assigned to this role" in response.content.decode()
    assert ResponseRole.objects.filter(pk=step.role.pk).exists()


# --- Members -------------------------------------------------------------------------------------


def _member_data(**overrides):
    data = {"name": "Li Na", "rank": "1", "user": "", "email": "li.na@example.com", "phone": "", "chat_handle": ""}
    data.update(overrides)
    return data


def test_it_adds_a_member_to_a_role(ops_client):
    role = RoleFactory()

    response = ops_client.post(reverse("plans:member-create", args=[role.pk]), _member_data())

    assert response.status_code == 302
    assert response.url == role.get_absolute_url()
    assert role.members.get().name == "Li Na"


def test_the_new_member_form_proposes_the_next_free_rank(ops_client):
    role = RoleFactory()
    MemberFactory(role=role, rank=1)

    form = ops_client.get(reverse("plans:member-create", args=[role.pk])).context["form"]

    assert form.initial["rank"] == 2


def test_it_refuses_a_member_nobody_can_reach_and_writes_nothing(ops_client):
    role = RoleFactory()

    response = ops_client.post(reverse("plans:member-create", args=[role.pk]), _member_data(email=""))

    assert response.status_code == 200
    assert "at least one way to reach this person" in response.content.decode()
    assert not TeamMember.objects.exists()


def test_it_refuses_a_rank_already_taken_in_the_role(ops_client):
    role = RoleFactory()
    MemberFactory(role=role, rank=1, name="Wang Fang")

    response = ops_client.post(reverse("plans:member-create", args=[role.pk]), _member_data(rank="1"))

    assert "Wang Fang already holds rank 1" in response.context["form"].errors["rank"][0]
    assert role.members.count() == 1


def test_the_same_rank_in_another_role_is_fine(ops_client):
    MemberFactory(rank=1)
    role = RoleFactory()

    ops_client.post(reverse("plans:member-create", args=[role.pk]), _member_data(rank="1"))

    assert role.members.count() == 1


def test_it_edits_a_member_keeping_its_own_rank(ops_client):
    member = MemberFactory(rank=1, name="Old Name")

    response = ops_client.post(
        reverse("plans:member-edit", args=[member.pk]), _member_data(name="New Name", rank="1", phone="+86 1")
    )

    assert response.status_code == 302
    member.refresh_from_db()
    assert member.name == "New Name"
    assert member.phone == "+86 1"


def test_it_removes_a_member(ops_client):
    member = MemberFactory()

    response = ops_client.post(reverse("plans:member-delete", args=[member.pk]))

    assert response.status_code == 302
    assert not TeamMember.objects.exists()
