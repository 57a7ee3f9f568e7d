"""Service-layer rules of ERP services, fallback procedures and action items (plans/services.py)."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from plans import services
from plans.models import ActionItem, ERPService, FallbackProcedure
from tests.factories import (
    ActionItemFactory,
    FallbackFactory,
    PlanFactory,
    ServiceFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def _service_fields(**overrides):
    fields = {
        "name": "Sales orders",
        "code": "sales",
        "kind": ERPService.Kind.BUSINESS,
        "criticality": 1,
        "rto_minutes": 60,
        "rpo_minutes": 15,
        "mtpd_minutes": 240,
    }
    fields.update(overrides)
    return fields


# --- RTO within MTPD -----------------------------------------------------------------------------


def test_it_creates_a_service_with_its_dependencies():
    db = ServiceFactory(name="ERP database", kind=ERPService.Kind.INFRASTRUCTURE)

    service = services.service_create(depends_on=[db], **_service_fields())

    assert service.pk is not None
    assert list(service.depends_on.all()) == [db]


def test_it_refuses_an_rto_longer_than_the_mtpd_on_create():
    with pytest.raises(ValidationError) as exc:
        services.service_create(**_service_fields(rto_minutes=300, mtpd_minutes=240))

    assert "rto_minutes" in exc.value.message_dict
    assert not ERPService.objects.exists()


def test_it_refuses_an_rto_longer_than_the_mtpd_on_update_and_keeps_the_old_figures():
    service = ServiceFactory(rto_minutes=60, mtpd_minutes=240)

    with pytest.raises(ValidationError) as exc:
        services.service_update(service=service, rto_minutes=600)

    assert "rto_minutes" in exc.value.message_dict
    service.refresh_from_db()
    assert service.rto_minutes == 60


def test_it_accepts_an_rto_equal_to_the_mtpd():
    service = services.service_create(**_service_fields(rto_minutes=240, mtpd_minutes=240))

    assert service.rto_minutes == service.mtpd_minutes


# --- Dependency cycles ---------------------------------------------------------------------------


def test_it_refuses_a_service_that_depends_on_itself():
    service = ServiceFactory(name="Invoicing")

    with pytest.raises(ValidationError) as exc:
        services.service_update(service=service, depends_on=[service])

    assert "depends_on" in exc.value.message_dict
    assert not service.depends_on.exists()


def test_it_refuses_a_dependency_cycle_and_names_the_path():
    # Sales → Warehouse → ERP database; making the database depend on Sales closes a loop.
    sales = ServiceFactory(name="Sales")
    warehouse = ServiceFactory(name="Warehouse")
    database = ServiceFactory(name="ERP database")
    sales.depends_on.add(warehouse)
    warehouse.depends_on.add(database)

    with pytest.raises(ValidationError) as exc:
        services.service_update(service=database, depends_on=[sales])

    message = exc.value.message_dict["depends_on"][0]
    assert "ERP database → Sales → Warehouse → ERP database" in message
    assert not database.depends_on.exists()


def test_it_refuses_a_two_service_cycle():
    a = ServiceFactory(name="Alpha")
    b = ServiceFactory(name="Beta")
    a.depends_on.add(b)

    with pytest.raises(ValidationError) as exc:
        services.service_update(service=b, depends_on=[a])

    assert "Beta → Alpha → Beta" in exc.value.message_dict["depends_on"][0]


def test_it_accepts_a_diamond_which_is_not_a_cycle():
    top = ServiceFactory(name="Top")
    left = ServiceFactory(name="Left")
    right = ServiceFactory(name="Right")
    bottom = ServiceFactory(name="Bottom")
    left.depends_on.add(bottom)
    right.depends_on.add(bottom)

    services.service_update(service=top, depends_on=[left, right])

    assert set(top.depends_on.all()) == {left, right}


def test_a_refused_update_changes_neither_fields_nor_dependencies():
    a = ServiceFactory(name="Alpha", criticality=3)
    b = ServiceFactory(name="Beta")
    a.depends_on.add(b)

    with pytest.raises(ValidationError):
        services.service_update(service=b, depends_on=[a], name="Beta renamed", criticality=1)

    b.refresh_from_db()
    assert b.name == "Beta"
    assert not b.depends_on.exists()


# --- Effective objectives ------------------------------------------------------------------------


def test_an_infrastructure_service_takes_the_strictest_objectives_of_its_transitive_dependents():
    # Database (own RTO 8 h) ← Warehouse (2 h) ← Sales (30 min, RPO 5 min): the database must
    # recover within 30 min, because Sales stands on it through Warehouse.
    database = ServiceFactory(
        name="ERP database", kind=ERPService.Kind.INFRASTRUCTURE, rto_minutes=480, rpo_minutes=120, mtpd_minutes=960
    )
    warehouse = ServiceFactory(name="Warehouse", rto_minutes=120, rpo_minutes=10, mtpd_minutes=480)
    sales = ServiceFactory(name="Sales", rto_minutes=30, rpo_minutes=15, mtpd_minutes=240)
    ServiceFactory(name="Unrelated", rto_minutes=5, rpo_minutes=1, mtpd_minutes=60)
    warehouse.depends_on.add(database)
    sales.depends_on.add(warehouse)

    effective = services.effective_objectives(database)

    assert effective["rto_minutes"] == 30
    assert effective["rto_from"] == sales
    assert effective["rpo_minutes"] == 10
    assert effective["rpo_from"] == warehouse
    assert set(effective["dependents"]) == {warehouse, sales}


def test_a_service_stricter_than_its_dependents_keeps_its_own_objectives():
    database = ServiceFactory(kind=ERPService.Kind.INFRASTRUCTURE, rto_minutes=15, rpo_minutes=0, mtpd_minutes=60)
    sales = ServiceFactory(rto_minutes=60, rpo_minutes=15, mtpd_minutes=240)
    sales.depends_on.add(database)

    effective = services.effective_objectives(database)

    assert effective["rto_from"] == database
    assert effective["rpo_from"] == database


def test_on_a_tie_the_service_itself_sets_the_objective():
    database = ServiceFactory(rto_minutes=60, rpo_minutes=15, mtpd_minutes=240)
    sales = ServiceFactory(rto_minutes=60, rpo_minutes=15, mtpd_minutes=240)
    sales.depends_on.add(database)

    assert services.effective_objectives(database)["rto_from"] == database


# --- Deletion ------------------------------------------------------------------------------------


def test_it_refuses_to_delete_a_service_covered_by_a_plan():
    service = ServiceFactory()
    PlanFactory(title="ERP down", services=[service])

    with pytest.raises(ValidationError) as exc:
        services.service_delete(service=service)

    assert "ERP down" in exc.value.messages[0]
    assert ERPService.objects.filter(pk=service.pk).exists()


def test_it_deletes_an_uncovered_service():
    service = ServiceFactory()

    services.service_delete(service=service)

    assert not ERPService.objects.filter(pk=service.pk).exists()


# --- Fallback versions ---------------------------------------------------------------------------


def test_a_fallback_starts_at_version_one():
    procedure = services.fallback_create(
        service=ServiceFactory(),
        title="Paper orders",
        audience="Sales clerks",
        when_to_use="ERP down",
        steps="Write the order on form S-1.",
    )

    assert procedure.version == 1


def test_a_content_change_makes_a_new_fallback_version():
    procedure = FallbackFactory(version=1)

    updated = services.fallback_update(procedure=procedure, steps="A new first step.\nA second step.")

    assert updated.version == 2


def test_saving_a_fallback_unchanged_keeps_its_version():
    procedure = FallbackFactory(version=3)

    updated = services.fallback_update(
        procedure=procedure, title=procedure.title, steps=procedure.steps, when_to_use=procedure.when_to_use
    )

    assert updated.version == 3


def test_changing_only_the_audience_keeps_the_fallback_version():
    procedure = FallbackFactory(version=1, audience="Sales clerks")

    updated = services.fallback_update(procedure=procedure, audience="Sales clerks and team leads")

    assert updated.version == 1
    assert updated.audience == "Sales clerks and team leads"


def test_an_invalid_fallback_update_keeps_version_and_content():
    procedure = FallbackFactory(version=1)

    with pytest.raises(ValidationError):
        services.fallback_update(procedure=procedure, steps="")

    procedure.refresh_from_db()
    assert procedure.version == 1
    assert FallbackProcedure.objects.get(pk=procedure.pk).steps


# --- Action item completion ----------------------------------------------------------------------


def test_a_new_action_item_is_open_and_not_completed():
    item = services.action_item_create(
        title="Test the restore", owner=UserFactory(), due_date=datetime.date(2030, 1, 1)
    )

    assert item.status == ActionItem.Status.OPEN
    assert item.completed_at is None


def test_marking_an_action_item_done_records_when():
    item = ActionItemFactory()
    before = timezone.now()

    updated = services.action_item_update(item=item, status=ActionItem.Status.DONE)

    assert updated.completed_at is not None
    assert updated.completed_at >= before


def test_cancelling_an_action_item_also_records_completion():
    updated = services.action_item_update(item=ActionItemFactory(), status=ActionItem.Status.CANCELLED)

    assert updated.completed_at is not None


def test_saving_a_done_item_again_keeps_its_completion_time():
    item = ActionItemFactory()
    done = services.action_item_update(item=item, status=ActionItem.Status.DONE)

    again = services.action_item_update(item=done, title="Renamed")

    assert again.completed_at == done.completed_at


def test_reopening_an_action_item_clears_its_completion_time():
    item = ActionItemFactory()
    services.action_item_update(item=item, status=ActionItem.Status.DONE)

    reopened = services.action_item_update(item=item, status=ActionItem.Status.IN_PROGRESS)

    assert reopened.completed_at is None


def test_an_open_item_past_its_due_date_is_overdue_and_a_done_one_is_not():
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    late = ActionItemFactory(due_date=yesterday)
    finished = ActionItemFactory(due_date=yesterday, status=ActionItem.Status.DONE)

    assert late.is_overdue
    assert not finished.is_overdue
    assert list(ActionItem.objects.overdue()) == [late]
