"""Emergency plan services: versions are drafted, published once, then frozen for good."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from plans import services
from plans.models import CommunicationRule, EmergencyPlan, PlanStep, PlanVersion
from tests.factories import (
    CommunicationFactory,
    RoleFactory,
    ServiceFactory,
    StepFactory,
    VersionFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def plan_with_published_v1(manager_user):
    """A plan whose v1 has two steps and one communication rule and is published."""
    plan = services.plan_create(title="ERP down", scenario="erp_down", services=[ServiceFactory()], user=manager_user)
    v1 = plan.versions.get()
    role = RoleFactory(name="Database administrator", key="dba")
    services.step_create(
        version=v1, phase="detect", order=1, title="Confirm the outage", role=role, expected_minutes=10
    )
    services.step_create(version=v1, phase="recover", order=2, title="Fail over", role=role, expected_minutes=30)
    services.communication_create(
        version=v1,
        severity="sev1",
        audience="All staff",
        channel="email",
        timing="within 15 min",
        message_template="The ERP is down.",
    )
    services.version_publish(version=v1, user=manager_user)
    return plan


def test_creating_a_plan_makes_version_1_a_draft(ops_user):
    service = ServiceFactory()

    plan = services.plan_create(
        title="Ransomware", scenario="ransomware", services=[service], user=ops_user, summary="Isolate first."
    )

    version = plan.versions.get()
    assert version.number == 1
    assert version.status == PlanVersion.Status.DRAFT
    assert version.summary == "Isolate first."
    assert version.created_by == ops_user
    assert list(plan.services.all()) == [service]


def test_it_refuses_a_plan_without_services_and_writes_nothing(ops_user):
    with pytest.raises(ValidationError) as excinfo:
        services.plan_create(title="No services", scenario="other", services=[], user=ops_user)

    assert "services" in excinfo.value.message_dict
    assert not EmergencyPlan.objects.exists()


def test_starting_a_draft_copies_steps_and_communication_rules(plan_with_published_v1, ops_user):
    draft = services.plan_start_draft(plan=plan_with_published_v1, user=ops_user)

    v1 = plan_with_published_v1.versions.get(number=1)
    assert draft.number == 2
    assert draft.status == PlanVersion.Status.DRAFT
    assert draft.created_by == ops_user
    assert [(s.phase, s.title, s.expected_minutes) for s in draft.steps.order_by("order")] == [
        ("detect", "Confirm the outage", 10),
        ("recover", "Fail over", 30),
    ]
    assert draft.communications.get().message_template == "The ERP is down."
    # The copies are new rows: v1 keeps its own.
    assert v1.steps.count() == 2
    assert PlanStep.objects.count() == 4
    assert CommunicationRule.objects.count() == 2


def test_there_is_only_one_draft_at_a_time(plan_with_published_v1, ops_user, manager_user):
    first = services.plan_start_draft(plan=plan_with_published_v1, user=ops_user)
    second = services.plan_start_draft(plan=plan_with_published_v1, user=manager_user)

    assert second == first
    assert plan_with_published_v1.versions.filter(status=PlanVersion.Status.DRAFT).count() == 1


def test_publishing_supersedes_the_previous_published_version(plan_with_published_v1, manager_user):
    draft = services.plan_start_draft(plan=plan_with_published_v1, user=manager_user)

    services.version_publish(version=draft, user=manager_user)

    statuses = dict(plan_with_published_v1.versions.values_list("number", "status"))
    assert statuses == {1: PlanVersion.Status.SUPERSEDED, 2: PlanVersion.Status.PUBLISHED}
    draft.refresh_from_db()
    assert draft.approved_by == manager_user
    assert draft.published_at is not None


def test_a_published_version_is_frozen_for_the_services(plan_with_published_v1):
    v1 = plan_with_published_v1.versions.get(number=1)
    step = v1.steps.first()

    with pytest.raises(ValidationError):
        services.step_update(step=step, title="Changed after approval")
    with pytest.raises(ValidationError):
        services.step_create(version=v1, phase="review", title="New", role=step.role, expected_minutes=5)
    with pytest.raises(ValidationError):
        services.step_delete(step=step)
    with pytest.raises(ValidationError):
        services.version_update(version=v1, summary="Changed")
    with pytest.raises(ValidationError):
        services.communication_update(rule=v1.communications.get(), audience="Nobody")

    step.refresh_from_db()
    assert step.title == "Confirm the outage"
    assert v1.steps.count() == 2


def test_a_published_version_is_frozen_at_the_model_level_too(plan_with_published_v1):
    v1 = plan_with_published_v1.versions.get(number=1)
    step = v1.steps.first()
    step.title = "Changed in the shell"

    with pytest.raises(ValidationError):
        step.save()
    with pytest.raises(ValidationError):
        v1.communications.get().delete()

    assert PlanStep.objects.get(pk=step.pk).title == "Confirm the outage"


def test_it_refuses_publishing_by_an_operations_user(ops_user):
    version = VersionFactory()
    StepFactory(version=version)

    with pytest.raises(PermissionDenied):
        services.version_publish(version=version, user=ops_user)

    version.refresh_from_db()
    assert version.status == PlanVersion.Status.DRAFT


def test_it_refuses_publishing_a_version_without_steps(manager_user):
    version = VersionFactory()

    with pytest.raises(ValidationError, match="without steps"):
        services.version_publish(version=version, user=manager_user)

    version.refresh_from_db()
    assert version.status == PlanVersion.Status.DRAFT


def test_it_refuses_publishing_a_version_twice(plan_with_published_v1, manager_user):
    v1 = plan_with_published_v1.versions.get(number=1)

    with pytest.raises(ValidationError, match="Only a draft"):
        services.version_publish(version=v1, user=manager_user)


def test_discarding_a_draft_removes_it_and_its_content(plan_with_published_v1, ops_user):
    draft = services.plan_start_draft(plan=plan_with_published_v1, user=ops_user)

    services.version_discard(version=draft)

    assert list(plan_with_published_v1.versions.values_list("number", flat=True)) == [1]
    assert PlanStep.objects.count() == 2


def test_it_refuses_discarding_a_published_version_or_the_only_version():
    published = VersionFactory(status=PlanVersion.Status.PUBLISHED)
    only_draft = VersionFactory()

    with pytest.raises(ValidationError):
        services.version_discard(version=published)
    with pytest.raises(ValidationError, match="only version"):
        services.version_discard(version=only_draft)

    assert PlanVersion.objects.count() == 2


def test_a_never_published_plan_can_be_deleted(ops_user):
    plan = services.plan_create(title="Draft plan", scenario="other", services=[ServiceFactory()], user=ops_user)
    StepFactory(version=plan.versions.get())

    services.plan_delete(plan=plan)

    assert not EmergencyPlan.objects.exists()


def test_it_refuses_deleting_a_plan_once_published(plan_with_published_v1):
    with pytest.raises(ValidationError, match="kept for the record"):
        services.plan_delete(plan=plan_with_published_v1)

    assert EmergencyPlan.objects.filter(pk=plan_with_published_v1.pk).exists()


def test_version_text_lists_steps_and_communication(plan_with_published_v1):
    lines = services.version_text(plan_with_published_v1.versions.get(number=1))

    assert "[Detect] 1. Confirm the outage — Database administrator, 10 min" in lines
    assert any(line.startswith("SEV1") and "All staff" in line for line in lines)


def test_communication_rules_of_a_draft_can_be_changed():
    version = VersionFactory()
    rule = CommunicationFactory(version=version)

    services.communication_update(rule=rule, audience="Warehouse staff")
    services.communication_delete(rule=rule)

    assert not version.communications.exists()
