import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from incidents import selectors, services
from plans.models import ActionItem
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def resolved(sales, ops_user):
    incident = services.incident_open(title="DB disk full", severity="sev1", services=[sales], user=ops_user)
    return services.incident_resolve(incident=incident, user=ops_user)


def test_only_resolved_incidents_are_reviewed(sales, ops_user):
    incident = services.incident_open(title="x", severity="sev3", services=[sales])
    with pytest.raises(ValidationError) as exc:
        services.review_save(incident=incident, user=ops_user, summary="Too early")
    assert "incident" in exc.value.message_dict


def test_a_review_is_written_updated_and_completed(resolved, manager_user):
    review = services.review_save(incident=resolved, user=manager_user, summary="Disk filled with logs")
    again = services.review_save(incident=resolved, user=manager_user, summary="Disk filled", root_cause="")
    assert again.pk == review.pk and again.summary == "Disk filled"
    with pytest.raises(ValidationError) as exc:
        services.review_complete(review=review, user=manager_user)
    assert "root_cause" in exc.value.message_dict
    services.review_save(incident=resolved, user=manager_user, root_cause="Log rotation was off")
    done = services.review_complete(review=review, user=manager_user)
    assert done.is_complete
    assert list(resolved.timeline.filter(kind="review").values_list("message", flat=True)) == [
        "Post-incident review written",
        "Post-incident review updated",
        "Post-incident review updated",
        "Post-incident review completed",
    ]


def test_a_review_needs_a_summary(resolved, manager_user):
    with pytest.raises(ValidationError) as exc:
        services.review_save(incident=resolved, user=manager_user, summary="")
    assert "summary" in exc.value.message_dict


def test_action_items_are_shared_plan_action_items_tracked_to_closure(resolved, manager_user):
    review = services.review_save(incident=resolved, user=manager_user, summary="s")
    owner = UserFactory(role="it_operations")
    due = timezone.localdate() - datetime.timedelta(days=1)
    item = services.review_add_action_item(
        review=review, user=manager_user, title="Turn log rotation on", owner=owner, due_date=due
    )
    assert isinstance(item, ActionItem) and item.source == review
    assert list(selectors.review_action_items(review)) == [item]
    assert item in ActionItem.objects.overdue()
