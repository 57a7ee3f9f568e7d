"""The admin: every page opens for an administrator, and it keeps the rules of the app."""

from io import StringIO

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings
from django.urls import reverse

from plans.models import EmergencyPlan, ERPService, PlanStep, PlanVersion
from risks.models import Risk

pytestmark = pytest.mark.django_db

FAST_HASHER = "django.contrib.auth.hashers.MD5PasswordHasher"

REGISTERED = sorted(admin.site._registry, key=lambda m: m._meta.label)


def _url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The demo data, loaded once for this module. It stays in an outer transaction that each
    test's own transaction nests in (as a savepoint), and is rolled back after the last test."""
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=[FAST_HASHER]), transaction.atomic():
        out = StringIO()
        call_command("load_demo", stdout=out)
        yield out.getvalue()
        transaction.set_rollback(True)


def test_every_admin_page_opens_for_the_administrator(demo, admin_client):
    # One test over every registered model (loading the demo data once): the changelist, its
    # search, and the change page of the first row.
    failures = []
    for model in REGISTERED:
        urls = [_url(model, "changelist")]
        if admin.site._registry[model].search_fields:
            urls.append(_url(model, "changelist") + "?q=erp")
        first = model._default_manager.order_by("pk").first()
        if first is not None:
            urls.append(_url(model, "change", first.pk))
        for url in urls:
            status = admin_client.get(url).status_code
            if status != 200:
                failures.append((model._meta.label, url, status))
    assert failures == []
    assert {ERPService, EmergencyPlan, PlanVersion, PlanStep, Risk} <= set(REGISTERED)


def test_a_manager_who_is_not_staff_is_sent_to_the_admin_login(manager_client):
    response = manager_client.get(_url(ERPService, "changelist"))
    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]


def test_a_published_version_is_read_only(demo, admin_client):
    version = PlanVersion.objects.filter(status=PlanVersion.Status.PUBLISHED).first()
    page = admin_client.get(_url(PlanVersion, "change", version.pk))
    assert page.status_code == 200
    assert b'name="_save"' not in page.content
    assert b'name="steps-0-title"' not in page.content  # the steps show as text, not as inputs
    inlines = page.context["inline_admin_formsets"]
    assert inlines and not any(
        i.has_add_permission or i.has_change_permission or i.has_delete_permission for i in inlines
    )
    response = admin_client.post(_url(PlanVersion, "change", version.pk), {"summary": "Changed"})
    assert response.status_code == 403
    version.refresh_from_db()
    assert version.summary != "Changed"


def test_a_published_step_is_read_only_on_its_own_page(demo, admin_client):
    step = PlanStep.objects.filter(version__status=PlanVersion.Status.PUBLISHED).first()
    response = admin_client.post(_url(PlanStep, "change", step.pk), {"title": "Changed"})
    assert response.status_code == 403
    assert admin_client.post(_url(PlanStep, "delete", step.pk), {"post": "yes"}).status_code == 403


def test_a_draft_version_is_edited_through_the_service(demo, admin_client):
    draft = PlanVersion.objects.get(status=PlanVersion.Status.DRAFT)
    page = admin_client.get(_url(PlanVersion, "change", draft.pk))
    assert b'name="_save"' in page.content
    data = {
        "summary": "New summary",
        "activation_criteria": draft.activation_criteria,
        "backup_strategy": draft.backup_strategy,
        "standby_systems": draft.standby_systems,
        "change_note": draft.change_note,
        **_inline_management(draft),
    }
    response = admin_client.post(_url(PlanVersion, "change", draft.pk), data)
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    draft.refresh_from_db()
    assert draft.summary == "New summary"


def _inline_management(version) -> dict:
    data = {}
    for prefix, rows in (("steps", version.steps.all()), ("communications", version.communications.all())):
        rows = list(rows)
        data |= {f"{prefix}-TOTAL_FORMS": len(rows), f"{prefix}-INITIAL_FORMS": len(rows)}
        for i, row in enumerate(rows):
            data[f"{prefix}-{i}-id"] = row.pk
            data[f"{prefix}-{i}-version"] = version.pk
            if prefix == "steps":
                data |= {
                    f"{prefix}-{i}-order": row.order, f"{prefix}-{i}-phase": row.phase,
                    f"{prefix}-{i}-title": row.title, f"{prefix}-{i}-role": row.role_id,
                    f"{prefix}-{i}-expected_minutes": row.expected_minutes,
                    f"{prefix}-{i}-instructions": row.instructions,
                }  # fmt: skip
            else:
                data |= {
                    f"{prefix}-{i}-severity": row.severity, f"{prefix}-{i}-audience": row.audience,
                    f"{prefix}-{i}-channel": row.channel, f"{prefix}-{i}-timing": row.timing,
                    f"{prefix}-{i}-message_template": row.message_template,
                }  # fmt: skip
    return data


def test_a_plan_with_a_published_version_cannot_be_deleted(demo, admin_client):
    plan = EmergencyPlan.objects.first()
    assert admin_client.post(_url(EmergencyPlan, "delete", plan.pk), {"post": "yes"}).status_code == 403
    assert EmergencyPlan.objects.filter(pk=plan.pk).exists()


def _service_data(service, **changes) -> dict:
    data = {
        "name": service.name, "code": service.code, "kind": service.kind, "description": service.description,
        "criticality": service.criticality, "rto_minutes": service.rto_minutes, "rpo_minutes": service.rpo_minutes,
        "mtpd_minutes": service.mtpd_minutes, "owner_department": service.owner_department_id or "",
        "business_owner": service.business_owner_id or "",
        "depends_on": list(service.depends_on.values_list("pk", flat=True)),
    }  # fmt: skip
    return data | changes


def test_a_dependency_cycle_is_a_form_error_in_the_admin(demo, admin_client):
    database = ERPService.objects.get(code="erp-db")
    sales = ERPService.objects.get(code="sales")
    data = _service_data(database, depends_on=[sales.pk])
    response = admin_client.post(_url(ERPService, "change", database.pk), data)
    assert response.status_code == 200
    assert "dependency cycle" in str(response.context["adminform"].form.errors["depends_on"])
    assert not database.depends_on.filter(pk=sales.pk).exists()


def test_an_rto_beyond_the_maximum_downtime_is_a_form_error_in_the_admin(demo, admin_client):
    payroll = ERPService.objects.get(code="payroll")
    response = admin_client.post(
        _url(ERPService, "change", payroll.pk), _service_data(payroll, rto_minutes=payroll.mtpd_minutes + 1)
    )
    assert response.status_code == 200
    assert "rto_minutes" in response.context["adminform"].form.errors


def test_a_risk_added_in_the_admin_gets_its_scores_and_review_date(demo, admin_client, manager_user):
    data = {
        "title": "Cooling failure in the server room", "category": "hardware", "owner": manager_user.pk,
        "likelihood": 3, "impact": 4, "residual_likelihood": 2, "residual_impact": 3, "treatment": "mitigate",
        "services": [ERPService.objects.get(code="erp-db").pk],
    }  # fmt: skip
    response = admin_client.post(_url(Risk, "add"), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    risk = Risk.objects.get(title="Cooling failure in the server room")
    assert (risk.inherent_score, risk.residual_score, risk.level) == (12, 6, "medium")
    assert risk.next_review_date is not None
    assert risk.services.count() == 1


def test_a_plan_added_in_the_admin_starts_with_a_draft(demo, admin_client):
    data = {
        "title": "Loss of the Kunshan warehouse",
        "scenario": "site_loss",
        "services": [ERPService.objects.get(code="inventory").pk],
        "versions-TOTAL_FORMS": 0,
        "versions-INITIAL_FORMS": 0,
    }
    response = admin_client.post(_url(EmergencyPlan, "add"), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    plan = EmergencyPlan.objects.get(title="Loss of the Kunshan warehouse")
    assert list(plan.versions.values_list("number", "status")) == [(1, "draft")]
