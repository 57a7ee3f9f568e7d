"""The post-incident review page: write it, add action items, complete it."""

import pytest
from django.urls import reverse

from incidents import selectors, services
from incidents.models import PostIncidentReview
from plans.models import ActionItem

pytestmark = pytest.mark.django_db


@pytest.fixture
def incident(ops_user, sales):
    return services.incident_open(title="Orders cannot be saved", severity="sev2", user=ops_user, services=[sales])


@pytest.fixture
def resolved(incident, ops_user):
    return services.incident_resolve(incident=incident, user=ops_user)


REVIEW = {
    "summary": "The app server pool ran out.",
    "root_cause": "A report opened 200 connections.",
    "went_well": "Paper forms worked.",
    "went_badly": "Nobody paged the DBA.",
    "lessons": "Cap report connections.",
}


def _url(incident, name="review"):
    return reverse(f"incidents:{name}", args=[incident.pk])


@pytest.mark.parametrize("role", ["administrator", "it_operations", "manager"])
def test_reviewers_read_and_write_the_review_of_a_resolved_incident(request, role, resolved):
    client = request.getfixturevalue({"administrator": "admin_client", "it_operations": "ops_client",
                                      "manager": "manager_client"}[role])  # fmt: skip
    assert client.get(_url(resolved)).status_code == 200
    response = client.post(_url(resolved), REVIEW)
    assert response.status_code == 302
    review = PostIncidentReview.objects.get(incident=resolved)
    assert review.root_cause == REVIEW["root_cause"]


def test_a_business_user_and_an_anonymous_visitor_are_kept_out(business_client, client, resolved):
    assert business_client.get(_url(resolved)).status_code == 403
    assert business_client.post(_url(resolved), REVIEW).status_code == 403
    response = client.get(_url(resolved))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert not PostIncidentReview.objects.exists()


def test_an_open_incident_cannot_be_reviewed_yet(ops_client, incident):
    page = ops_client.get(_url(incident)).content.decode()
    assert "once the incident is resolved" in page
    response = ops_client.post(_url(incident), REVIEW)
    assert response.status_code == 200
    assert "Only a resolved or closed incident can be reviewed" in response.content.decode()
    assert not PostIncidentReview.objects.exists()


def test_a_review_without_summary_shows_the_error_and_writes_nothing(ops_client, resolved):
    response = ops_client.post(_url(resolved), {**REVIEW, "summary": ""})
    assert response.status_code == 200
    assert "summary" in response.context["form"].errors
    assert not PostIncidentReview.objects.exists()


def test_action_items_are_added_with_owner_and_due_date(manager_client, manager_user, resolved):
    manager_client.post(_url(resolved), REVIEW)
    response = manager_client.post(
        _url(resolved, "review-add-action"),
        {"title": "Cap report connections", "owner": manager_user.pk, "due_date": "2030-01-31"},
    )
    assert response.status_code == 302 and response["Location"].endswith("#actions")
    review = PostIncidentReview.objects.get()
    item = selectors.review_action_items(review).get()
    assert (item.title, item.owner, str(item.due_date)) == ("Cap report connections", manager_user, "2030-01-31")
    assert "Cap report connections" in manager_client.get(_url(resolved)).content.decode()


@pytest.mark.parametrize(
    "data, field",
    [
        ({"title": "", "due_date": "2030-01-31"}, "title"),
        ({"title": "x", "due_date": "soon"}, "due_date"),
        ({"title": "x", "due_date": "2030-01-31", "owner": 99999}, "owner"),
    ],
)
def test_bad_action_items_are_refused_and_nothing_is_written(ops_client, ops_user, resolved, data, field):
    ops_client.post(_url(resolved), REVIEW)
    data = {"owner": ops_user.pk, **data}
    response = ops_client.post(_url(resolved, "review-add-action"), data)
    assert response.status_code == 200
    assert field in response.context["action_form"].errors
    assert not ActionItem.objects.exists()


def test_an_action_item_needs_a_saved_review_first(ops_client, ops_user, resolved):
    response = ops_client.post(
        _url(resolved, "review-add-action"), {"title": "x", "owner": ops_user.pk, "due_date": "2030-01-31"}
    )
    assert response.status_code == 200
    assert "Write and save the review" in response.content.decode()
    assert not ActionItem.objects.exists()


def test_completing_the_review_needs_a_root_cause(ops_client, resolved):
    ops_client.post(_url(resolved), {**REVIEW, "root_cause": ""})
    response = ops_client.post(_url(resolved, "review-complete"))
    assert response.status_code == 200
    assert "Write the root cause" in response.content.decode()
    assert not PostIncidentReview.objects.get().is_complete
    ops_client.post(_url(resolved), REVIEW)
    assert ops_client.post(_url(resolved, "review-complete")).status_code == 302
    assert PostIncidentReview.objects.get().is_complete


def test_the_incident_page_links_to_its_review(ops_client, resolved):
    assert _url(resolved) in ops_client.get(resolved.get_absolute_url()).content.decode()
