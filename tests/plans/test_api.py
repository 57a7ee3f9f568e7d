"""The continuity-core REST API: every write goes through the services, every bad input is a 400
naming the field and the reason (never a 500), and each role sees and does only what it may."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from plans.models import (
    ActionItem,
    CommunicationRule,
    Department,
    EmergencyPlan,
    ERPService,
    FallbackProcedure,
    PlanStep,
    PlanVersion,
    ResponseRole,
    TeamMember,
)
from tests.factories import (
    ActionItemFactory,
    CommunicationFactory,
    DepartmentFactory,
    FallbackFactory,
    MemberFactory,
    PlanFactory,
    RoleFactory,
    ServiceFactory,
    StepFactory,
    UserFactory,
    VersionFactory,
)

pytestmark = pytest.mark.django_db


def post(client, url, data=None):
    return client.post(url, data or {}, content_type="application/json")


def patch(client, url, data):
    return client.patch(url, data, content_type="application/json")


def put(client, url, data):
    return client.put(url, data, content_type="application/json")


def service_payload(**overrides):
    data = {
        "name": "Order taking",
        "code": "orders",
        "kind": "business",
        "criticality": 1,
        "rto_minutes": 60,
        "rpo_minutes": 15,
        "mtpd_minutes": 240,
    }
    data.update(overrides)
    return data


def published_plan(*, services=None, title=None):
    """A plan with v1 superseded, v2 published (one step, one rule) and v3 draft."""
    plan = PlanFactory(services=services or [ServiceFactory()], **({"title": title} if title else {}))
    VersionFactory(plan=plan, number=1, status=PlanVersion.Status.SUPERSEDED, summary="Old summary")
    published = VersionFactory(plan=plan, number=2, summary="Live summary")
    StepFactory(version=published, title="Declare the incident", phase="detect")
    CommunicationFactory(version=published, audience="All staff")
    publish_directly(published)
    VersionFactory(plan=plan, number=3, status=PlanVersion.Status.DRAFT, summary="Draft summary")
    return plan


def publish_directly(version):
    """Freeze a version in the database, bypassing the service (content is added while a draft)."""
    PlanVersion.objects.filter(pk=version.pk).update(status=PlanVersion.Status.PUBLISHED)


def draft_version(**kwargs):
    plan = PlanFactory(services=[ServiceFactory()])
    return VersionFactory(plan=plan, number=1, status=PlanVersion.Status.DRAFT, **kwargs)


def frozen_version():
    plan = PlanFactory(services=[ServiceFactory()])
    return VersionFactory(plan=plan, number=1, status=PlanVersion.Status.PUBLISHED)


def assert_list_queries_constant(client, url, make_rows, expected, django_assert_max_num_queries):
    """The list costs `expected` queries with a few rows and still no more with many more rows."""
    make_rows(3)
    with django_assert_max_num_queries(expected) as few:
        assert client.get(url).status_code == 200
    assert len(few) == expected  # pinned exactly, so a saved query shows up here too
    make_rows(12)
    with django_assert_max_num_queries(expected):
        assert client.get(url).status_code == 200


# --- Access -------------------------------------------------------------------------------------


def test_anonymous_requests_are_refused_everywhere(client):
    for url in ["/api/services/", "/api/departments/", "/api/roles/", "/api/members/", "/api/plans/",
                "/api/plan-versions/", "/api/plan-steps/", "/api/plan-communications/", "/api/fallbacks/",
                "/api/action-items/"]:  # fmt: skip
        assert client.get(url).status_code in (401, 403), url
    assert post(client, "/api/services/", service_payload()).status_code in (401, 403)


def test_a_token_client_lists_services(ops_user):
    ServiceFactory(name="Sales")
    api = APIClient()
    response = api.post("/api/auth/token/", {"username": ops_user.username, "password": "pass-Word-123"}, format="json")
    assert response.status_code == 200, response.content
    token = response.json()["token"]

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    response = api.get("/api/services/")
    assert response.status_code == 200
    assert [s["name"] for s in response.json()["results"]] == ["Sales"]


def test_a_wrong_token_is_refused():
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    response = api.get("/api/services/")
    # 403, not 401: session authentication comes first and sends no WWW-Authenticate challenge.
    assert response.status_code == 403
    assert response.json()["detail"] == "Invalid token."


@pytest.mark.parametrize(
    "url",
    ["/api/departments/", "/api/roles/", "/api/members/", "/api/plan-versions/", "/api/plan-steps/",
     "/api/plan-communications/", "/api/action-items/"],
)  # fmt: skip
def test_a_business_user_cannot_read_internal_lists(business_client, url):
    assert business_client.get(url).status_code == 403


# --- ERP services -------------------------------------------------------------------------------


def test_services_filter_by_kind_criticality_department_and_search(ops_client):
    finance = DepartmentFactory(name="Finance")
    ServiceFactory(name="Invoicing", code="invoicing", criticality=1, owner_department=finance)
    ServiceFactory(name="ERP database", code="erp-db", kind="infrastructure", criticality=1)
    ServiceFactory(name="Reporting", code="reporting", criticality=4, description="month-end reports")

    def names(query):
        response = ops_client.get(f"/api/services/?{query}")
        assert response.status_code == 200
        return sorted(s["name"] for s in response.json()["results"])

    assert names("kind=infrastructure") == ["ERP database"]
    assert names("criticality=1") == ["ERP database", "Invoicing"]
    assert names(f"owner_department={finance.pk}") == ["Invoicing"]
    assert names("search=month-end") == ["Reporting"]
    assert names("search=erp-db") == ["ERP database"]


def test_an_unknown_filter_value_is_a_400_not_a_500(ops_client):
    response = ops_client.get("/api/services/?kind=mainframe")
    assert response.status_code == 400
    assert "kind" in response.json()


def test_the_service_detail_shows_dependencies_and_effective_objectives(ops_client):
    database = ServiceFactory(
        name="ERP database", kind="infrastructure", rto_minutes=240, rpo_minutes=60, mtpd_minutes=480
    )
    orders = ServiceFactory(name="Orders", rto_minutes=30, rpo_minutes=120, mtpd_minutes=60)
    orders.depends_on.set([database])

    data = ops_client.get(f"/api/services/{database.pk}/").json()
    objectives = data["effective_objectives"]
    # The database must come back as fast as the orders standing on it, and keeps its own RPO.
    assert objectives["rto_minutes"] == 30
    assert objectives["rto_from"] == {"id": orders.pk, "name": "Orders"}
    assert objectives["rpo_minutes"] == 60
    assert objectives["rpo_from"] == {"id": database.pk, "name": "ERP database"}
    assert objectives["dependents"] == [{"id": orders.pk, "name": "Orders"}]

    assert ops_client.get(f"/api/services/{orders.pk}/").json()["depends_on"] == [database.pk]


def test_an_ops_user_creates_a_service_with_dependencies(ops_client):
    database = ServiceFactory(name="ERP database")
    response = post(ops_client, "/api/services/", service_payload(depends_on=[database.pk]))
    assert response.status_code == 201, response.json()
    service = ERPService.objects.get(code="orders")
    assert list(service.depends_on.all()) == [database]
    assert response.json()["depends_on"] == [database.pk]
    assert response.json()["effective_objectives"]["rto_minutes"] == 60


def test_an_ops_user_updates_and_patches_a_service(ops_client):
    service = ServiceFactory(name="Orders", code="orders")
    response = put(ops_client, f"/api/services/{service.pk}/", service_payload(name="Order entry", rto_minutes=90))
    assert response.status_code == 200, response.json()
    response = patch(ops_client, f"/api/services/{service.pk}/", {"description": "Sales orders"})
    assert response.status_code == 200
    service.refresh_from_db()
    assert (service.name, service.rto_minutes, service.description) == ("Order entry", 90, "Sales orders")


@pytest.mark.parametrize(
    ("payload", "field", "reason"),
    [
        ({"criticality": "high"}, "criticality", "not a valid choice"),
        ({"kind": "mainframe"}, "kind", "not a valid choice"),
        ({"rto_minutes": "an hour"}, "rto_minutes", "valid integer"),
        ({"rto_minutes": -5}, "rto_minutes", "greater than or equal to 0"),
        ({"code": "not a slug!"}, "code", "letters, numbers, underscores or hyphens"),
        ({"depends_on": [99999]}, "depends_on", "does not exist"),
        ({"depends_on": "orders"}, "depends_on", "list"),
        ({"owner_department": 99999}, "owner_department", "does not exist"),
        ({"rto_minutes": 600, "mtpd_minutes": 480}, "rto_minutes", "must not exceed the maximum tolerable downtime"),
    ],
)
def test_bad_service_input_is_a_400_naming_the_field(ops_client, payload, field, reason):
    response = post(ops_client, "/api/services/", service_payload(**payload))
    assert response.status_code == 400
    assert reason in " ".join(response.json()[field])
    assert not ERPService.objects.filter(code="orders").exists()


def test_missing_service_fields_are_each_named(ops_client):
    response = post(ops_client, "/api/services/", {})
    assert response.status_code == 400
    assert set(response.json()) >= {"name", "code", "rto_minutes", "rpo_minutes", "mtpd_minutes"}
    assert "This field is required." in response.json()["name"]


def test_a_duplicate_service_code_is_a_400(ops_client):
    ServiceFactory(code="orders")
    response = post(ops_client, "/api/services/", service_payload())
    assert response.status_code == 400
    assert "code" in response.json()


def test_patching_rto_above_the_mtpd_is_a_400_and_changes_nothing(ops_client):
    service = ServiceFactory(rto_minutes=60, mtpd_minutes=120)
    response = patch(ops_client, f"/api/services/{service.pk}/", {"rto_minutes": 121})
    assert response.status_code == 400
    assert "maximum tolerable downtime" in response.json()["rto_minutes"][0]
    service.refresh_from_db()
    assert service.rto_minutes == 60


def test_a_dependency_cycle_is_a_400_naming_depends_on_with_the_path(ops_client):
    database = ServiceFactory(name="ERP database")
    app = ServiceFactory(name="ERP application")
    orders = ServiceFactory(name="Orders")
    orders.depends_on.set([app])
    app.depends_on.set([database])

    response = patch(ops_client, f"/api/services/{database.pk}/", {"depends_on": [orders.pk]})
    assert response.status_code == 400
    message = response.json()["depends_on"][0]
    assert "cycle" in message
    assert "ERP database → Orders → ERP application → ERP database" in message
    assert not database.depends_on.exists()


def test_a_service_depending_on_itself_is_a_400(ops_client):
    service = ServiceFactory()
    response = patch(ops_client, f"/api/services/{service.pk}/", {"depends_on": [service.pk]})
    assert response.status_code == 400
    assert "itself" in response.json()["depends_on"][0]


def test_deleting_a_service_covered_by_a_plan_is_a_400_with_the_reason(ops_client):
    service = ServiceFactory()
    PlanFactory(title="ERP down", services=[service])
    response = ops_client.delete(f"/api/services/{service.pk}/")
    assert response.status_code == 400
    assert "ERP down" in response.json()["non_field_errors"][0]
    assert ERPService.objects.filter(pk=service.pk).exists()


def test_deleting_a_free_service(ops_client):
    service = ServiceFactory()
    assert ops_client.delete(f"/api/services/{service.pk}/").status_code == 204
    assert not ERPService.objects.filter(pk=service.pk).exists()


def test_an_unknown_service_is_a_404(ops_client):
    assert ops_client.get("/api/services/99999/").status_code == 404
    assert patch(ops_client, "/api/services/99999/", {"name": "x"}).status_code == 404
    assert ops_client.delete("/api/services/99999/").status_code == 404


def test_a_business_user_reads_services_but_changes_nothing(business_client):
    service = ServiceFactory()
    assert business_client.get("/api/services/").status_code == 200
    assert business_client.get(f"/api/services/{service.pk}/").status_code == 200
    assert post(business_client, "/api/services/", service_payload()).status_code == 403
    assert patch(business_client, f"/api/services/{service.pk}/", {"name": "x"}).status_code == 403
    assert business_client.delete(f"/api/services/{service.pk}/").status_code == 403
    assert ERPService.objects.filter(pk=service.pk, name=service.name).exists()


def test_the_service_list_query_count_is_constant(ops_client, django_assert_max_num_queries):
    department = DepartmentFactory()

    def make(n):
        for _ in range(n):
            ServiceFactory(owner_department=department).depends_on.set([ServiceFactory()])

    # session, user, user permissions, group permissions, COUNT, services, depends_on prefetch
    assert_list_queries_constant(ops_client, "/api/services/", make, 7, django_assert_max_num_queries)


# --- Departments, roles, members ----------------------------------------------------------------


def test_an_ops_user_creates_and_lists_departments(ops_client):
    response = post(ops_client, "/api/departments/", {"name": "Finance", "description": "Money"})
    assert response.status_code == 201
    assert Department.objects.filter(name="Finance").exists()
    assert [d["name"] for d in ops_client.get("/api/departments/").json()["results"]] == ["Finance"]


def test_department_bad_input_is_a_400(ops_client):
    DepartmentFactory(name="Finance")
    assert "name" in post(ops_client, "/api/departments/", {}).json()
    response = post(ops_client, "/api/departments/", {"name": "Finance"})
    assert response.status_code == 400
    assert "already exists" in response.json()["name"][0]
    response = post(ops_client, "/api/departments/", {"name": "x" * 121})
    assert response.status_code == 400
    assert "name" in response.json()


def test_a_business_user_cannot_create_a_department(business_client):
    assert post(business_client, "/api/departments/", {"name": "Finance"}).status_code == 403


def test_roles_nest_their_members_primary_first(ops_client):
    role = RoleFactory(name="Incident commander")
    MemberFactory(role=role, name="Deputy Dan", rank=2)
    MemberFactory(role=role, name="Primary Pat", rank=1)
    data = ops_client.get(f"/api/roles/{role.pk}/").json()
    assert [(m["name"], m["rank"]) for m in data["members"]] == [("Primary Pat", 1), ("Deputy Dan", 2)]


def test_an_ops_user_creates_updates_and_deletes_a_role(ops_client):
    response = post(ops_client, "/api/roles/", {"name": "DBA", "key": "dba", "responsibilities": "Restore"})
    assert response.status_code == 201, response.json()
    role_id = response.json()["id"]
    assert response.json()["members"] == []
    assert patch(ops_client, f"/api/roles/{role_id}/", {"order": 3}).json()["order"] == 3
    assert ops_client.delete(f"/api/roles/{role_id}/").status_code == 204
    assert not ResponseRole.objects.filter(pk=role_id).exists()


def test_role_bad_input_is_a_400(ops_client):
    RoleFactory(key="dba", name="DBA")
    response = post(ops_client, "/api/roles/", {"name": "Other", "key": "dba"})
    assert response.status_code == 400 and "key" in response.json()
    response = post(ops_client, "/api/roles/", {"name": "Other", "key": "has spaces", "order": "first"})
    assert set(response.json()) >= {"key", "order"}
    assert set(post(ops_client, "/api/roles/", {}).json()) >= {"name", "key"}


def test_deleting_a_role_with_plan_steps_is_a_400_with_the_reason(ops_client):
    step = StepFactory()
    response = ops_client.delete(f"/api/roles/{step.role_id}/")
    assert response.status_code == 400
    assert "reassign" in response.json()["non_field_errors"][0]
    assert ResponseRole.objects.filter(pk=step.role_id).exists()


def test_an_ops_user_manages_team_members(ops_client):
    role = RoleFactory()
    response = post(ops_client, "/api/members/", {"role": role.pk, "name": "Pat", "rank": 1, "phone": "+86 1"})
    assert response.status_code == 201, response.json()
    member_id = response.json()["id"]
    assert response.json()["is_primary"] is True
    assert patch(ops_client, f"/api/members/{member_id}/", {"email": "pat@example.com"}).status_code == 200
    assert ops_client.get(f"/api/members/?role={role.pk}").json()["count"] == 1
    assert ops_client.delete(f"/api/members/{member_id}/").status_code == 204
    assert not TeamMember.objects.exists()


def test_member_bad_input_is_a_400_naming_the_field(ops_client):
    role = RoleFactory()
    MemberFactory(role=role, rank=1)
    # No way to reach the person: the model's rule, raised by the service.
    response = post(ops_client, "/api/members/", {"role": role.pk, "name": "Pat", "rank": 2})
    assert response.status_code == 400
    assert "at least one way to reach" in response.json()["non_field_errors"][0]
    # Two primaries for one role.
    response = post(ops_client, "/api/members/", {"role": role.pk, "name": "Pat", "rank": 1, "phone": "1"})
    assert response.status_code == 400
    assert response.json()["non_field_errors"]
    response = post(ops_client, "/api/members/", {"role": 99999, "name": "Pat", "rank": 0, "email": "nope"})
    assert response.status_code == 400
    assert set(response.json()) >= {"role", "rank", "email"}
    assert TeamMember.objects.count() == 1


# --- Plans --------------------------------------------------------------------------------------


def test_an_ops_user_creates_a_plan_with_a_first_draft(ops_client, ops_user):
    service = ServiceFactory()
    response = post(
        ops_client,
        "/api/plans/",
        {"title": "ERP down", "scenario": "erp_down", "services": [service.pk], "summary": "Keep selling"},
    )
    assert response.status_code == 201, response.json()
    plan = EmergencyPlan.objects.get(title="ERP down")
    version = plan.versions.get()
    assert (version.number, version.status, version.summary, version.created_by) == (
        1,
        "draft",
        "Keep selling",
        ops_user,
    )
    data = response.json()
    assert data["current_version"] is None
    assert [(v["number"], v["status"]) for v in data["versions"]] == [(1, "draft")]
    assert "summary" not in data


@pytest.mark.parametrize(
    ("payload", "field", "reason"),
    [
        ({"services": []}, "services", "may not be empty"),
        ({"services": [99999]}, "services", "does not exist"),
        ({"scenario": "alien_invasion"}, "scenario", "not a valid choice"),
        ({"review_date": "next tuesday"}, "review_date", "wrong format"),
        ({"title": ""}, "title", "may not be blank"),
    ],
)
def test_bad_plan_input_is_a_400_naming_the_field(ops_client, payload, field, reason):
    data = {"title": "ERP down", "scenario": "erp_down", "services": [ServiceFactory().pk], **payload}
    response = post(ops_client, "/api/plans/", data)
    assert response.status_code == 400
    assert reason in " ".join(response.json()[field])
    assert not EmergencyPlan.objects.exists()


def test_an_ops_user_updates_a_plan(ops_client):
    plan = published_plan()
    other = ServiceFactory()
    response = patch(ops_client, f"/api/plans/{plan.pk}/", {"title": "Renamed", "services": [other.pk]})
    assert response.status_code == 200, response.json()
    plan.refresh_from_db()
    assert plan.title == "Renamed"
    assert list(plan.services.all()) == [other]
    assert response.json()["current_version"] == 2
    assert patch(ops_client, f"/api/plans/{plan.pk}/", {"services": []}).status_code == 400


def test_staff_see_every_version_and_the_published_content(ops_client):
    plan = published_plan()
    data = ops_client.get(f"/api/plans/{plan.pk}/").json()
    assert data["current_version"] == 2
    assert [(v["number"], v["status"]) for v in data["versions"]] == [(3, "draft"), (2, "published"), (1, "superseded")]
    published = data["published_version"]
    assert (published["number"], published["summary"]) == (2, "Live summary")
    assert [s["title"] for s in published["steps"]] == ["Declare the incident"]
    assert published["steps"][0]["role_name"]
    assert [c["audience"] for c in published["communications"]] == ["All staff"]


def test_a_business_user_sees_only_published_plans_and_versions(business_client):
    plan = published_plan(title="ERP down")
    draft_only = PlanFactory(title="Ransomware", services=[ServiceFactory()])
    VersionFactory(plan=draft_only, number=1, status=PlanVersion.Status.DRAFT)

    listed = business_client.get("/api/plans/").json()["results"]
    assert [p["title"] for p in listed] == ["ERP down"]
    assert [(v["number"], v["status"]) for v in listed[0]["versions"]] == [(2, "published")]

    data = business_client.get(f"/api/plans/{plan.pk}/").json()
    assert [v["number"] for v in data["versions"]] == [2]
    assert data["published_version"]["summary"] == "Live summary"
    assert "Draft summary" not in str(data) and "Old summary" not in str(data)

    assert business_client.get(f"/api/plans/{draft_only.pk}/").status_code == 404


def test_a_business_user_cannot_write_plans(business_client):
    plan = published_plan()
    assert post(business_client, "/api/plans/", {"title": "x", "scenario": "erp_down"}).status_code == 403
    assert patch(business_client, f"/api/plans/{plan.pk}/", {"title": "x"}).status_code == 403
    assert post(business_client, f"/api/plans/{plan.pk}/start-draft/").status_code == 403


def test_plans_filter_by_scenario_and_service(ops_client):
    sales = ServiceFactory()
    PlanFactory(title="ERP down", services=[sales])
    PlanFactory(title="Ransomware", scenario="ransomware", services=[ServiceFactory()])
    assert [p["title"] for p in ops_client.get("/api/plans/?scenario=ransomware").json()["results"]] == ["Ransomware"]
    assert [p["title"] for p in ops_client.get(f"/api/plans/?service={sales.pk}").json()["results"]] == ["ERP down"]


def test_starting_a_draft_copies_the_newest_version_and_is_idempotent(ops_client):
    plan = PlanFactory(services=[ServiceFactory()])
    published = VersionFactory(plan=plan, number=1, summary="Live")
    StepFactory(version=published, title="Call the DBA")
    publish_directly(published)

    response = post(ops_client, f"/api/plans/{plan.pk}/start-draft/")
    assert response.status_code == 200, response.json()
    draft = response.json()
    assert (draft["number"], draft["status"], draft["summary"]) == (2, "draft", "Live")
    assert [s["title"] for s in draft["steps"]] == ["Call the DBA"]

    again = post(ops_client, f"/api/plans/{plan.pk}/start-draft/").json()
    assert again["id"] == draft["id"]
    assert plan.versions.count() == 2


def test_an_unknown_plan_is_a_404(ops_client):
    assert ops_client.get("/api/plans/99999/").status_code == 404
    assert post(ops_client, "/api/plans/99999/start-draft/").status_code == 404


def test_the_plan_list_query_count_is_constant(ops_client, business_client, django_assert_max_num_queries):
    def make(n):
        for _ in range(n):
            published_plan()

    # session, user, user perms, group perms, COUNT, plans + owner, services prefetch, versions prefetch
    assert_list_queries_constant(ops_client, "/api/plans/", make, 8, django_assert_max_num_queries)
    # the same for a business user (the published-only filter is a join, not extra queries)
    assert_list_queries_constant(business_client, "/api/plans/", make, 8, django_assert_max_num_queries)


def test_the_plan_detail_query_count_does_not_grow_with_steps(ops_client, django_assert_max_num_queries):
    version = draft_version()
    for _ in range(10):
        StepFactory(version=version)
        CommunicationFactory(version=version)
    publish_directly(version)
    plan = version.plan
    # session, user, perms x2, plan + owner, services, versions, published version, steps + role,
    # communications
    with django_assert_max_num_queries(10):
        assert ops_client.get(f"/api/plans/{plan.pk}/").status_code == 200


# --- Plan versions ------------------------------------------------------------------------------


def test_versions_filter_by_plan_and_status(ops_client):
    plan = published_plan()
    published_plan()
    data = ops_client.get(f"/api/plan-versions/?plan={plan.pk}&status=draft").json()
    assert [(v["plan"], v["number"]) for v in data["results"]] == [(plan.pk, 3)]
    assert ops_client.get(f"/api/plan-versions/?plan={plan.pk}").json()["count"] == 3
    assert ops_client.get("/api/plan-versions/?status=archived").status_code == 400


def test_a_version_nests_its_steps_and_communications(ops_client):
    plan = published_plan()
    version = plan.versions.get(number=2)
    data = ops_client.get(f"/api/plan-versions/{version.pk}/").json()
    assert [s["title"] for s in data["steps"]] == ["Declare the incident"]
    assert [c["audience"] for c in data["communications"]] == ["All staff"]


def test_a_business_user_cannot_read_versions(business_client):
    version = published_plan().versions.get(number=2)
    assert business_client.get(f"/api/plan-versions/{version.pk}/").status_code == 403


def test_editing_a_draft_version_changes_only_its_text(ops_client):
    version = draft_version()
    response = patch(
        ops_client, f"/api/plan-versions/{version.pk}/", {"summary": "New", "status": "published", "number": 9}
    )
    assert response.status_code == 200, response.json()
    version.refresh_from_db()
    assert (version.summary, version.status, version.number) == ("New", "draft", 1)


def test_editing_a_frozen_version_is_a_400_with_the_reason(ops_client):
    version = frozen_version()
    response = patch(ops_client, f"/api/plan-versions/{version.pk}/", {"summary": "Sneaky"})
    assert response.status_code == 400
    assert "frozen" in response.json()["non_field_errors"][0]
    version.refresh_from_db()
    assert version.summary != "Sneaky"


@pytest.mark.parametrize("role", ["manager", "administrator"])
def test_managers_and_administrators_publish_a_draft_superseding_the_old_version(role_clients, role):
    plan = published_plan()
    draft = plan.versions.get(number=3)
    StepFactory(version=draft)
    response = post(role_clients[role], f"/api/plan-versions/{draft.pk}/publish/")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "published"
    draft.refresh_from_db()
    assert draft.approved_by.groups.filter(name=role).exists()
    assert plan.versions.get(number=2).status == "superseded"


def test_ops_cannot_publish(ops_client):
    version = draft_version()
    StepFactory(version=version)
    response = post(ops_client, f"/api/plan-versions/{version.pk}/publish/")
    assert response.status_code == 403
    assert "manager" in response.json()["detail"]
    version.refresh_from_db()
    assert version.status == "draft"


def test_a_business_user_cannot_publish(business_client):
    version = draft_version()
    StepFactory(version=version)
    assert post(business_client, f"/api/plan-versions/{version.pk}/publish/").status_code == 403


def test_publishing_a_version_that_is_not_a_draft_is_a_400(manager_client):
    version = frozen_version()
    response = post(manager_client, f"/api/plan-versions/{version.pk}/publish/")
    assert response.status_code == 400
    assert "Only a draft can be published" in response.json()["non_field_errors"][0]


def test_publishing_a_draft_without_steps_is_a_400(manager_client):
    version = draft_version()
    response = post(manager_client, f"/api/plan-versions/{version.pk}/publish/")
    assert response.status_code == 400
    assert "without steps" in response.json()["non_field_errors"][0]


def test_an_unknown_version_is_a_404(manager_client):
    assert manager_client.get("/api/plan-versions/99999/").status_code == 404
    assert post(manager_client, "/api/plan-versions/99999/publish/").status_code == 404


def test_the_version_list_query_count_is_constant(ops_client, django_assert_max_num_queries):
    def make(n):
        for _ in range(n):
            published_plan()

    # session, user, user perms, group perms, COUNT, versions
    assert_list_queries_constant(ops_client, "/api/plan-versions/", make, 6, django_assert_max_num_queries)


# --- Plan steps and communication rules ---------------------------------------------------------


def test_an_ops_user_adds_edits_and_removes_steps_of_a_draft(ops_client):
    version = draft_version()
    role = RoleFactory()
    payload = {"version": version.pk, "phase": "recover", "order": 1, "title": "Restore", "role": role.pk,
               "expected_minutes": 30}  # fmt: skip
    response = post(ops_client, "/api/plan-steps/", payload)
    assert response.status_code == 201, response.json()
    step_id = response.json()["id"]
    other = draft_version()
    response = patch(ops_client, f"/api/plan-steps/{step_id}/", {"title": "Restore the database", "version": other.pk})
    assert response.status_code == 200
    step = PlanStep.objects.get(pk=step_id)
    assert (step.title, step.version) == ("Restore the database", version)  # a step stays in its version
    assert ops_client.get(f"/api/plan-steps/?version={version.pk}").json()["count"] == 1
    assert ops_client.delete(f"/api/plan-steps/{step_id}/").status_code == 204
    assert not PlanStep.objects.exists()


@pytest.mark.parametrize(
    ("payload", "field", "reason"),
    [
        ({"phase": "panic"}, "phase", "not a valid choice"),
        ({"expected_minutes": 0}, "expected_minutes", "greater than or equal to 1"),
        ({"expected_minutes": "soon"}, "expected_minutes", "valid integer"),
        ({"role": 99999}, "role", "does not exist"),
        ({"version": 99999}, "version", "does not exist"),
        ({"title": None}, "title", "may not be null"),
    ],
)
def test_bad_step_input_is_a_400_naming_the_field(ops_client, payload, field, reason):
    data = {"version": draft_version().pk, "phase": "recover", "title": "Restore", "role": RoleFactory().pk,
            "expected_minutes": 30, **payload}  # fmt: skip
    response = post(ops_client, "/api/plan-steps/", data)
    assert response.status_code == 400
    assert reason in " ".join(response.json()[field])
    assert not PlanStep.objects.exists()


def test_missing_step_fields_are_each_named(ops_client):
    assert set(post(ops_client, "/api/plan-steps/", {}).json()) >= {
        "version",
        "phase",
        "title",
        "role",
        "expected_minutes",
    }


def test_steps_of_a_frozen_version_cannot_be_added_changed_or_removed(ops_client):
    version = draft_version()
    step = StepFactory(version=version)
    publish_directly(version)

    payload = {
        "version": version.pk,
        "phase": "recover",
        "title": "Sneaky",
        "role": step.role_id,
        "expected_minutes": 5,
    }
    response = post(ops_client, "/api/plan-steps/", payload)
    assert response.status_code == 400
    assert "frozen" in response.json()["non_field_errors"][0]

    response = patch(ops_client, f"/api/plan-steps/{step.pk}/", {"title": "Sneaky"})
    assert response.status_code == 400
    assert "frozen" in response.json()["non_field_errors"][0]

    response = ops_client.delete(f"/api/plan-steps/{step.pk}/")
    assert response.status_code == 400
    assert "frozen" in response.json()["non_field_errors"][0]
    assert list(PlanStep.objects.values_list("title", flat=True)) == [step.title]


def test_an_ops_user_manages_communication_rules_of_a_draft(ops_client):
    version = draft_version()
    payload = {"version": version.pk, "severity": "sev1", "audience": "Sales", "channel": "sms",
               "message_template": "ERP down, use paper forms."}  # fmt: skip
    response = post(ops_client, "/api/plan-communications/", payload)
    assert response.status_code == 201, response.json()
    rule_id = response.json()["id"]
    assert patch(ops_client, f"/api/plan-communications/{rule_id}/", {"timing": "hourly"}).status_code == 200
    assert CommunicationRule.objects.get(pk=rule_id).timing == "hourly"
    assert ops_client.delete(f"/api/plan-communications/{rule_id}/").status_code == 204


def test_bad_communication_input_is_a_400_naming_the_field(ops_client):
    data = {"version": draft_version().pk, "severity": "sev9", "audience": "", "channel": "pigeon"}
    response = post(ops_client, "/api/plan-communications/", data)
    assert response.status_code == 400
    assert set(response.json()) >= {"severity", "audience", "channel", "message_template"}


def test_communication_rules_of_a_frozen_version_are_refused(ops_client):
    version = draft_version()
    rule = CommunicationFactory(version=version)
    publish_directly(version)
    payload = {
        "version": version.pk,
        "severity": "sev1",
        "audience": "All",
        "channel": "email",
        "message_template": "x",
    }
    assert "frozen" in post(ops_client, "/api/plan-communications/", payload).json()["non_field_errors"][0]
    response = patch(ops_client, f"/api/plan-communications/{rule.pk}/", {"audience": "Sneaky"})
    assert response.status_code == 400
    assert ops_client.delete(f"/api/plan-communications/{rule.pk}/").status_code == 400
    assert CommunicationRule.objects.get().audience == rule.audience


def test_an_unknown_step_or_rule_is_a_404(ops_client):
    assert ops_client.get("/api/plan-steps/99999/").status_code == 404
    assert ops_client.delete("/api/plan-communications/99999/").status_code == 404


def test_a_business_user_cannot_write_steps_or_rules(business_client):
    version = draft_version()
    assert post(business_client, "/api/plan-steps/", {"version": version.pk}).status_code == 403
    assert post(business_client, "/api/plan-communications/", {"version": version.pk}).status_code == 403


def test_step_and_rule_lists_query_counts_are_constant(ops_client, django_assert_max_num_queries):
    version = draft_version()

    def make_steps(n):
        for _ in range(n):
            StepFactory(version=version)

    def make_rules(n):
        for _ in range(n):
            CommunicationFactory(version=version)

    # session, user, user perms, group perms, COUNT, steps + role
    assert_list_queries_constant(ops_client, "/api/plan-steps/", make_steps, 6, django_assert_max_num_queries)
    # session, user, user perms, group perms, COUNT, rules
    assert_list_queries_constant(ops_client, "/api/plan-communications/", make_rules, 6, django_assert_max_num_queries)


# --- Fallback procedures ------------------------------------------------------------------------


def fallback_payload(service, **overrides):
    return {"service": service.pk, "title": "Paper orders", "audience": "Sales clerks",
            "when_to_use": "ERP cannot take orders", "steps": "Write it down\nFile it", **overrides}  # fmt: skip


def test_a_business_user_reads_fallbacks_but_changes_nothing(business_client):
    procedure = FallbackFactory(title="Paper orders")
    assert [f["title"] for f in business_client.get("/api/fallbacks/").json()["results"]] == ["Paper orders"]
    assert business_client.get(f"/api/fallbacks/{procedure.pk}/").status_code == 200
    assert post(business_client, "/api/fallbacks/", fallback_payload(procedure.service)).status_code == 403
    assert patch(business_client, f"/api/fallbacks/{procedure.pk}/", {"title": "x"}).status_code == 403
    assert business_client.delete(f"/api/fallbacks/{procedure.pk}/").status_code == 403


def test_an_ops_user_manages_fallbacks_and_content_changes_bump_the_version(ops_client):
    service = ServiceFactory()
    response = post(ops_client, "/api/fallbacks/", fallback_payload(service))
    assert response.status_code == 201, response.json()
    procedure_id = response.json()["id"]
    assert response.json()["version"] == 1
    assert patch(ops_client, f"/api/fallbacks/{procedure_id}/", {"steps": "Call the office"}).json()["version"] == 2
    assert patch(ops_client, f"/api/fallbacks/{procedure_id}/", {"audience": "Everyone"}).json()["version"] == 2
    assert ops_client.get(f"/api/fallbacks/?service={service.pk}").json()["count"] == 1
    assert ops_client.delete(f"/api/fallbacks/{procedure_id}/").status_code == 204
    assert not FallbackProcedure.objects.exists()


def test_bad_fallback_input_is_a_400_naming_the_field(ops_client):
    existing = FallbackFactory(title="Paper orders")
    response = post(ops_client, "/api/fallbacks/", fallback_payload(existing.service))
    assert response.status_code == 400
    assert response.json()["non_field_errors"]  # the same title twice for one service
    response = post(ops_client, "/api/fallbacks/", {"service": 99999, "version": 7})
    assert set(response.json()) >= {"service", "title", "audience", "when_to_use", "steps"}
    assert FallbackProcedure.objects.count() == 1


def test_the_fallback_list_query_count_is_constant(business_client, django_assert_max_num_queries):
    def make(n):
        for _ in range(n):
            FallbackFactory()

    # session, user, user perms, group perms, COUNT, procedures
    assert_list_queries_constant(business_client, "/api/fallbacks/", make, 6, django_assert_max_num_queries)


# --- Action items -------------------------------------------------------------------------------


def test_action_items_filter_by_status_owner_and_overdue(ops_client):
    today = timezone.localdate()
    owner = UserFactory()
    late = ActionItemFactory(title="Late", owner=owner, due_date=today - datetime.timedelta(days=3))
    ActionItemFactory(title="Done late", status="done", due_date=today - datetime.timedelta(days=3))
    ActionItemFactory(title="Future", status="in_progress")

    def titles(query):
        response = ops_client.get(f"/api/action-items/?{query}")
        assert response.status_code == 200
        return sorted(a["title"] for a in response.json()["results"])

    assert titles("overdue=true") == ["Late"]
    assert titles("overdue=false") == ["Done late", "Future"]
    assert titles("status=in_progress") == ["Future"]
    assert titles(f"owner={owner.pk}") == ["Late"]
    assert ops_client.get(f"/api/action-items/{late.pk}/").json()["is_overdue"] is True


def test_an_ops_user_creates_and_closes_an_action_item(ops_client, ops_user):
    due = (timezone.localdate() + datetime.timedelta(days=7)).isoformat()
    response = post(ops_client, "/api/action-items/", {"title": "Test restores", "owner": ops_user.pk, "due_date": due})
    assert response.status_code == 201, response.json()
    item_id = response.json()["id"]
    response = patch(ops_client, f"/api/action-items/{item_id}/", {"status": "done"})
    assert response.status_code == 200
    assert response.json()["completed_at"]
    assert ActionItem.objects.get(pk=item_id).completed_at is not None


def test_action_items_cannot_be_deleted_through_the_api(ops_client):
    item = ActionItemFactory()
    assert ops_client.delete(f"/api/action-items/{item.pk}/").status_code == 405


@pytest.mark.parametrize(
    ("payload", "field", "reason"),
    [
        ({"due_date": "soon"}, "due_date", "wrong format"),
        ({"owner": 99999}, "owner", "does not exist"),
        ({"status": "abandoned"}, "status", "not a valid choice"),
        ({"plan": 99999}, "plan", "does not exist"),
        ({"title": "x" * 201}, "title", "no more than 200 characters"),
    ],
)
def test_bad_action_item_input_is_a_400_naming_the_field(ops_client, ops_user, payload, field, reason):
    data = {"title": "Test restores", "owner": ops_user.pk, "due_date": "2030-01-01", **payload}
    response = post(ops_client, "/api/action-items/", data)
    assert response.status_code == 400
    assert reason in " ".join(response.json()[field])
    assert not ActionItem.objects.exists()


def test_missing_action_item_fields_are_each_named(ops_client):
    assert set(post(ops_client, "/api/action-items/", {}).json()) >= {"title", "owner", "due_date"}


def test_a_business_user_cannot_create_action_items(business_client, business_user):
    data = {"title": "x", "owner": business_user.pk, "due_date": "2030-01-01"}
    assert post(business_client, "/api/action-items/", data).status_code == 403


def test_the_action_item_list_query_count_is_constant(manager_client, django_assert_max_num_queries):
    def make(n):
        for _ in range(n):
            ActionItemFactory()

    # session, user, user perms, group perms, COUNT, items
    assert_list_queries_constant(manager_client, "/api/action-items/", make, 6, django_assert_max_num_queries)


def test_role_member_and_department_list_query_counts_are_constant(ops_client, django_assert_max_num_queries):
    def make_roles(n):
        for _ in range(n):
            MemberFactory(role=RoleFactory())

    def make_departments(n):
        for _ in range(n):
            DepartmentFactory()

    # session, user, user perms, group perms, COUNT, roles, members prefetch
    assert_list_queries_constant(ops_client, "/api/roles/", make_roles, 7, django_assert_max_num_queries)
    # session, user, user perms, group perms, COUNT, members
    assert_list_queries_constant(ops_client, "/api/members/", make_roles, 6, django_assert_max_num_queries)
    # session, user, user perms, group perms, COUNT, departments
    assert_list_queries_constant(ops_client, "/api/departments/", make_departments, 6, django_assert_max_num_queries)
