"""The demo data command: a believable data set, loaded once however often it runs."""

import re
from io import StringIO

import pytest
from django.apps import apps
from django.contrib.auth import authenticate
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import transaction
from django.test import RequestFactory, override_settings

from erpcontinuity.management.commands.load_demo import DEMO_LOADERS
from plans.models import EmergencyPlan, ERPService, FallbackProcedure, PlanVersion, ResponseRole
from risks.models import Risk

pytestmark = pytest.mark.django_db

FAST_HASHER = "django.contrib.auth.hashers.MD5PasswordHasher"

DEMO_LOGINS = {"admin": "administrator", "ops": "it_operations", "manager": "manager", "business": "business_user"}


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The demo data, loaded once for this module. It stays in an outer transaction that each
    test's own transaction nests in (as a savepoint), and is rolled back after the last test."""
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=[FAST_HASHER]), transaction.atomic():
        out = StringIO()
        call_command("load_demo", stdout=out)
        yield out.getvalue()
        transaction.set_rollback(True)


def _counts() -> dict[str, int]:
    """Rows of every model of the project's apps (and users), to compare two runs."""
    labels = {"auth", "plans", "risks", "incidents", "monitoring", "backups", "drills", "training"}
    return {
        model._meta.label: model.objects.count()
        for model in apps.get_models()
        if model._meta.app_label in labels and not model._meta.proxy
    }


def test_it_loads_business_and_infrastructure_services(demo):
    assert ERPService.objects.business().count() >= 6
    assert set(ERPService.objects.infrastructure().values_list("code", flat=True)) >= {
        "erp-db", "erp-app", "network", "identity",
    }  # fmt: skip
    for service in ERPService.objects.all():
        assert service.rto_minutes <= service.mtpd_minutes, service


def test_business_services_stand_on_the_application_servers_and_the_database(demo):
    sales = ERPService.objects.get(code="sales")
    assert set(sales.depends_on.values_list("code", flat=True)) >= {"erp-app", "network", "identity"}
    app_servers = ERPService.objects.get(code="erp-app")
    assert "erp-db" in app_servers.depends_on.values_list("code", flat=True)


def test_it_loads_at_least_three_plans_each_with_a_published_version(demo):
    plans = EmergencyPlan.objects.all()
    assert plans.count() >= 3
    for plan in plans:
        published = plan.versions.get(status=PlanVersion.Status.PUBLISHED)
        assert published.approved_by.username == "manager"
        assert 8 <= published.steps.count() <= 14
        assert {step.phase for step in published.steps.all()} == {
            "detect", "assess", "escalate", "contain", "recover", "review",
        }  # fmt: skip
        assert {rule.severity for rule in published.communications.all()} == {"sev1", "sev2", "sev3"}
        assert published.backup_strategy and published.standby_systems and published.activation_criteria


def test_one_plan_has_a_draft_that_changes_a_step(demo):
    draft = PlanVersion.objects.get(status=PlanVersion.Status.DRAFT)
    published = draft.plan.versions.get(status=PlanVersion.Status.PUBLISHED)
    assert draft.number == published.number + 1
    changed = {s.title: s.instructions for s in draft.steps.all()}.items() - {
        s.title: s.instructions for s in published.steps.all()
    }.items()
    assert len(changed) == 1


def test_every_response_role_has_a_primary_and_a_deputy(demo):
    for role in ResponseRole.objects.prefetch_related("members"):
        ranks = sorted(m.rank for m in role.members.all())
        assert ranks[:2] == [1, 2], role


def test_about_twenty_risks_cover_every_category_and_some_reviews_are_overdue(demo):
    assert 18 <= Risk.objects.count() <= 25
    assert set(Risk.objects.values_list("category", flat=True)) == set(Risk.Category.values)
    assert Risk.objects.review_overdue().exists()
    assert Risk.objects.filter(plans__isnull=False).exists()


def test_every_business_service_has_a_fallback_procedure(demo):
    for service in ERPService.objects.business():
        assert FallbackProcedure.objects.filter(service=service).exists(), service


def test_the_four_demo_logins_authenticate_with_their_role(demo):
    for username, role in DEMO_LOGINS.items():
        request = RequestFactory().post("/accounts/login/")
        user = authenticate(request, username=username, password="demo-password")
        assert user is not None, username
        assert user.groups.filter(name=role).exists()
    assert authenticate(RequestFactory().post("/"), username="admin", password="demo-password").is_superuser


def test_running_it_twice_creates_nothing_new(demo):
    before = _counts()
    out = StringIO()
    call_command("load_demo", stdout=out)
    assert _counts() == before
    assert re.findall(r"(\d+) new", out.getvalue()) and set(re.findall(r"(\d+) new", out.getvalue())) == {"0"}


def test_a_rerun_keeps_what_someone_changed(demo):
    ERPService.objects.filter(code="payroll").update(rto_minutes=600)
    manager = User.objects.get(username="manager")
    manager.set_password("a-new-password")
    manager.save()
    call_command("load_demo", stdout=StringIO())
    assert ERPService.objects.get(code="payroll").rto_minutes == 600
    assert User.objects.get(username="manager").check_password("a-new-password")


def test_the_loaders_are_listed_in_dependency_order():
    assert DEMO_LOADERS.index("plans.demo") < DEMO_LOADERS.index("risks.demo")
