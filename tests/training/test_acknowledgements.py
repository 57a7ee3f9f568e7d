"""Acknowledgements are per published version: a new version asks again."""

import pytest
from django.core.exceptions import ValidationError

from plans import services as plan_services
from plans.models import PlanVersion
from tests.factories import (
    FallbackFactory,
    MemberFactory,
    PlanFactory,
    UserFactory,
    VersionFactory,
)
from training import services
from training.models import Acknowledgement

pytestmark = pytest.mark.django_db


def publish_new_version(plan, manager):
    draft = plan_services.plan_start_draft(plan=plan, user=manager)
    return plan_services.version_publish(version=draft, user=manager)


def test_acknowledging_twice_keeps_one_record(plan, business_user):
    first = services.plan_acknowledge(user=business_user, plan=plan)
    second = services.plan_acknowledge(user=business_user, plan=plan)
    assert first.pk == second.pk
    assert first.plan_version.number == 1


def test_a_new_published_version_asks_again(plan, business_user, manager_user, business_client):
    services.plan_acknowledge(user=business_user, plan=plan)
    assert "You acknowledged version 1" in business_client.get(plan.get_absolute_url()).content.decode()

    publish_new_version(plan, manager_user)
    page = business_client.get(plan.get_absolute_url()).content.decode()
    assert "You acknowledged" not in page
    assert "Confirm you have read version 2" in page

    services.plan_acknowledge(user=business_user, plan=plan)
    assert list(
        Acknowledgement.objects.filter(user=business_user).values_list("plan_version__number", flat=True).order_by("pk")
    ) == [1, 2]


def test_an_unpublished_plan_cannot_be_acknowledged(business_user):
    plan = PlanFactory()
    VersionFactory(plan=plan, status=PlanVersion.Status.DRAFT)
    with pytest.raises(ValidationError):
        services.plan_acknowledge(user=business_user, plan=plan)


def test_the_acknowledge_button_records_it(plan, business_client, business_user):
    response = business_client.post(f"/training/acknowledge/plan/{plan.pk}/")
    assert response.status_code == 302
    assert Acknowledgement.objects.filter(user=business_user, plan_version__plan=plan).exists()


def test_managers_see_who_has_and_has_not_acknowledged(plan, manager_client, business_user):
    role = plan.versions.published().get().steps.get().role
    ready, missing = (
        UserFactory(first_name="Ada", last_name="Ready"),
        UserFactory(first_name="Max", last_name="Missing"),
    )
    MemberFactory(role=role, user=ready, rank=1)
    MemberFactory(role=role, user=missing, rank=2)
    services.plan_acknowledge(user=ready, plan=plan)
    page = manager_client.get(plan.get_absolute_url()).content.decode()
    done = page.split("training-ack-done")[1].split("</ul>")[0]
    not_yet = page.split("training-ack-missing")[1].split("</ul>")[0]
    assert "Ada Ready" in done and "Max Missing" not in done
    assert "Max Missing" in not_yet and "Ada Ready" not in not_yet


def test_business_users_do_not_see_the_list_of_people(plan, business_client):
    page = business_client.get(plan.get_absolute_url()).content.decode()
    assert "acknowledged this version" not in page


def test_a_changed_fallback_procedure_asks_again(business_user, business_client, ops_user):
    procedure = FallbackFactory()
    services.fallback_acknowledge(user=business_user, procedure=procedure)
    assert "You acknowledged version 1" in business_client.get(procedure.get_absolute_url()).content.decode()
    plan_services.fallback_update(procedure=procedure, steps="A new first step.\nThen the old one.")
    procedure.refresh_from_db()
    assert procedure.version == 2
    page = business_client.get(procedure.get_absolute_url()).content.decode()
    assert "Confirm you have read version 2" in page
    business_client.post(f"/training/acknowledge/fallback/{procedure.pk}/")
    assert Acknowledgement.objects.filter(user=business_user, fallback=procedure, fallback_version=2).exists()


def test_acknowledging_needs_a_post_and_a_login(plan, client, business_client):
    assert business_client.get(f"/training/acknowledge/plan/{plan.pk}/").status_code == 405
    assert client.post(f"/training/acknowledge/plan/{plan.pk}/").status_code == 302
    assert Acknowledgement.objects.count() == 0


def test_my_training_lists_the_plans_my_role_must_acknowledge_until_i_do(plan, business_client, business_user):
    role = plan.versions.published().get().steps.get().role
    MemberFactory(role=role, user=business_user)
    assert plan.title in business_client.get("/training/").content.decode()
    services.plan_acknowledge(user=business_user, plan=plan)
    assert plan.title not in business_client.get("/training/").content.decode()
