"""Pages of action items: the list with its overdue view, detail, create, edit."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from plans.models import ActionItem
from tests.factories import ActionItemFactory, PlanFactory, UserFactory

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


def _pages(item):
    return [
        reverse("plans:action-list"),
        reverse("plans:action-create"),
        reverse("plans:action-detail", args=[item.pk]),
        reverse("plans:action-edit", args=[item.pk]),
    ]


def _data(who, **overrides):
    data = {
        "title": "Test the database restore monthly",
        "description": "Found in the March drill.",
        "owner": who.pk,
        "due_date": "2030-03-31",
        "plan": "",
    }
    data.update(overrides)
    return data


YESTERDAY = timezone.localdate() - datetime.timedelta(days=1)


# --- Who may see what ----------------------------------------------------------------------------


@pytest.mark.parametrize("role", EDITORS)
def test_operations_managers_and_administrators_open_every_action_page(request, role):
    item = ActionItemFactory()
    client = _client(request, role)

    for url in _pages(item):
        assert client.get(url).status_code == 200, url


def test_a_business_user_is_refused_every_action_page(business_client):
    item = ActionItemFactory(title="Original")

    for url in _pages(item):
        assert business_client.get(url).status_code == 403, url
    response = business_client.post(reverse("plans:action-edit", args=[item.pk]), _data(item.owner, title="Hacked"))
    assert response.status_code == 403
    item.refresh_from_db()
    assert item.title == "Original"


def test_anonymous_visitors_are_sent_to_the_login_page(client):
    item = ActionItemFactory()

    for url in _pages(item):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.url.startswith(reverse("login"))


# --- The list ------------------------------------------------------------------------------------


def test_the_list_marks_overdue_items(manager_client):
    ActionItemFactory(title="Late one", due_date=YESTERDAY)
    ActionItemFactory(title="On time")

    response = manager_client.get(reverse("plans:action-list"))

    content = response.content.decode()
    assert content.count('<span class="badge overdue">overdue</span>') == 1
    assert "1 overdue" in content


def test_the_overdue_view_shows_only_open_items_past_their_due_date(manager_client):
    ActionItemFactory(title="Late one", due_date=YESTERDAY)
    ActionItemFactory(title="Late but done", due_date=YESTERDAY, status=ActionItem.Status.DONE)
    ActionItemFactory(title="On time")

    response = manager_client.get(reverse("plans:action-list"), {"overdue": "1"})

    assert [i.title for i in response.context["page"]] == ["Late one"]
    assert "Overdue action items" in response.content.decode()


def test_mine_shows_only_my_items(ops_client, ops_user):
    ActionItemFactory(title="Mine", owner=ops_user)
    ActionItemFactory(title="Someone else's")

    response = ops_client.get(reverse("plans:action-list"), {"mine": "1"})

    assert [i.title for i in response.context["page"]] == ["Mine"]


def test_the_list_filters_by_status_and_owner(manager_client):
    owner = UserFactory()
    ActionItemFactory(title="Owner open", owner=owner)
    ActionItemFactory(title="Owner done", owner=owner, status=ActionItem.Status.DONE)
    ActionItemFactory(title="Other done", status=ActionItem.Status.DONE)

    response = manager_client.get(reverse("plans:action-list"), {"status": "done", "owner": owner.pk})

    assert [i.title for i in response.context["page"]] == ["Owner done"]


def test_the_list_searches_titles_and_descriptions(manager_client):
    ActionItemFactory(title="Buy a spare disk")
    ActionItemFactory(title="Update contacts", description="The DBA phone number changed.")

    by_title = manager_client.get(reverse("plans:action-list"), {"q": "spare"}).context["page"]
    by_description = manager_client.get(reverse("plans:action-list"), {"q": "dba phone"}).context["page"]

    assert [i.title for i in by_title] == ["Buy a spare disk"]
    assert [i.title for i in by_description] == ["Update contacts"]


def test_the_list_ignores_an_unknown_status(manager_client):
    ActionItemFactory()

    response = manager_client.get(reverse("plans:action-list"), {"status": "bogus"})

    assert response.status_code == 200
    assert len(response.context["page"]) == 1


def test_the_list_runs_the_same_number_of_queries_however_many_items(manager_client, django_assert_max_num_queries):
    owners = [UserFactory(), UserFactory()]
    plan = PlanFactory()
    for n in range(3):
        ActionItemFactory(owner=owners[n % 2], plan=plan)
    url = reverse("plans:action-list")
    manager_client.get(url)

    with CaptureQueriesContext(connection) as few:
        manager_client.get(url)
    for n in range(20):
        ActionItemFactory(owner=owners[n % 2], plan=PlanFactory(), due_date=YESTERDAY)
    with CaptureQueriesContext(connection) as many:
        response = manager_client.get(url)

    assert len(response.context["page"]) == 23
    assert len(many) == len(few)
    # session, user, user's groups (role label), user permissions + group permissions, overdue
    # count, page count, the page of items (owner, plan and source type joined), owners for the
    # filter.
    with django_assert_max_num_queries(9):
        manager_client.get(url)


# --- Detail, create, edit ------------------------------------------------------------------------


def test_the_detail_shows_owner_due_date_and_status(manager_client):
    owner = UserFactory(first_name="Chen", last_name="Jie")
    item = ActionItemFactory(title="Rotate the backup tapes", owner=owner, due_date=YESTERDAY)

    content = manager_client.get(reverse("plans:action-detail", args=[item.pk])).content.decode()

    assert "Rotate the backup tapes" in content
    assert "Chen Jie" in content
    assert "Open" in content
    assert "overdue" in content


def test_it_creates_an_open_action_item(ops_client, ops_user):
    owner = UserFactory()

    response = ops_client.post(reverse("plans:action-create"), _data(owner))

    item = ActionItem.objects.get()
    assert response.status_code == 302
    assert response.url == item.get_absolute_url()
    assert item.owner == owner
    assert item.status == ActionItem.Status.OPEN
    assert item.due_date == datetime.date(2030, 3, 31)


def test_the_new_form_has_no_status_and_proposes_me_as_owner(ops_client, ops_user):
    form = ops_client.get(reverse("plans:action-create")).context["form"]

    assert "status" not in form.fields
    assert form.initial["owner"] == ops_user.pk
    assert 'type="date"' in str(form["due_date"])


def test_it_refuses_an_item_without_owner_or_due_date_and_writes_nothing(ops_client):
    response = ops_client.post(reverse("plans:action-create"), _data(UserFactory(), owner="", due_date=""))

    assert response.status_code == 200
    assert {"owner", "due_date"} <= set(response.context["form"].errors)
    assert not ActionItem.objects.exists()


def test_marking_an_item_done_records_its_completion(ops_client):
    item = ActionItemFactory()

    response = ops_client.post(
        reverse("plans:action-edit", args=[item.pk]), _data(item.owner, title=item.title, status="done")
    )

    assert response.status_code == 302
    item.refresh_from_db()
    assert item.status == ActionItem.Status.DONE
    assert item.completed_at is not None
    assert "Completed" in ops_client.get(item.get_absolute_url()).content.decode()


def test_reopening_an_item_clears_its_completion(ops_client):
    item = ActionItemFactory(status=ActionItem.Status.DONE, completed_at=timezone.now())

    ops_client.post(reverse("plans:action-edit", args=[item.pk]), _data(item.owner, status="in_progress"))

    item.refresh_from_db()
    assert item.status == ActionItem.Status.IN_PROGRESS
    assert item.completed_at is None


def test_a_refused_edit_changes_nothing(ops_client):
    item = ActionItemFactory(title="Original")

    response = ops_client.post(reverse("plans:action-edit", args=[item.pk]), _data(item.owner, title="", status="done"))

    assert response.status_code == 200
    item.refresh_from_db()
    assert item.title == "Original"
    assert item.status == ActionItem.Status.OPEN
    assert item.completed_at is None
