"""Browser pages of emergency plans: who may see and do what, bad input, frozen versions, publishing."""

import datetime

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from plans import services
from plans.models import CommunicationRule, EmergencyPlan, PlanStep, PlanVersion
from tests.factories import (
    CommunicationFactory,
    FallbackFactory,
    PlanFactory,
    RoleFactory,
    ServiceFactory,
    StepFactory,
    UserFactory,
    VersionFactory,
)

pytestmark = pytest.mark.django_db

ROLES = ("administrator", "it_operations", "manager", "business_user")


CLIENT_FIXTURES = {
    "administrator": "admin_client",
    "it_operations": "ops_client",
    "manager": "manager_client",
    "business_user": "business_client",
    "anonymous": "client",
}


def make_plan(*, title="ERP down", published=True, draft=False, services_=None, review_date=None):
    """A plan with v1 (published or draft) holding two steps and one rule, and optionally a v2 draft."""
    approver = UserFactory(username="approver", role="manager")
    plan = PlanFactory(title=title, services=services_ or [ServiceFactory()], review_date=review_date)
    v1 = VersionFactory(
        plan=plan, number=1, summary="Keep order taking alive.", activation_criteria="ERP down > 15 min"
    )
    role = RoleFactory(name="Database administrator", key="dba")
    StepFactory(version=v1, phase="detect", order=1, title="Confirm the outage", role=role, expected_minutes=10)
    StepFactory(version=v1, phase="recover", order=2, title="Fail over to the standby", role=role, expected_minutes=45)
    CommunicationFactory(version=v1, audience="All staff", timing="within 15 min")
    if published:
        services.version_publish(version=v1, user=approver)
    if draft:
        v2 = services.plan_start_draft(plan=plan, user=approver)
        StepFactory(version=v2, phase="review", order=3, title="Hold the post-incident review", role=role)
    return plan


def url(name, *args):
    return reverse(f"plans:{name}", args=args)


def messages_of(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


# --- Who may open what -------------------------------------------------------------------------

# (label, method, url builder taking the plan, roles allowed). The plan has a published v1 and a
# draft v2; each case runs on a fresh database, so POSTs do not affect one another.
PAGES = [
    ("plan list", "get", lambda p: url("plan-list"), ROLES),
    ("plan detail", "get", lambda p: url("plan-detail", p.pk), ROLES),
    ("plan create", "get", lambda p: url("plan-create"), ROLES[:3]),
    ("plan edit", "get", lambda p: url("plan-edit", p.pk), ROLES[:3]),
    ("plan delete", "get", lambda p: url("plan-delete", p.pk), ROLES[:3]),
    ("start draft", "post", lambda p: url("plan-start-draft", p.pk), ROLES[:3]),
    ("old version", "get", lambda p: url("version-detail", p.pk, 1), ROLES[:3]),
    ("draft version", "get", lambda p: url("version-detail", p.pk, 2), ROLES[:3]),
    ("version edit", "get", lambda p: url("version-edit", p.pk, 2), ROLES[:3]),
    ("publish", "post", lambda p: url("version-publish", p.pk, 2), ("administrator", "manager")),
    ("discard", "post", lambda p: url("version-discard", p.pk, 2), ROLES[:3]),
    ("step create", "get", lambda p: url("step-create", p.pk, 2), ROLES[:3]),
    ("step edit", "get", lambda p: url("step-edit", p.versions.get(number=2).steps.first().pk), ROLES[:3]),
    ("step delete", "post", lambda p: url("step-delete", p.versions.get(number=2).steps.first().pk), ROLES[:3]),
    ("comm create", "get", lambda p: url("comm-create", p.pk, 2), ROLES[:3]),
    ("comm edit", "get", lambda p: url("comm-edit", p.versions.get(number=2).communications.get().pk), ROLES[:3]),
    ("comm delete", "post", lambda p: url("comm-delete", p.versions.get(number=2).communications.get().pk), ROLES[:3]),
    ("compare", "get", lambda p: url("version-compare", p.pk) + "?a=1&b=2", ROLES[:3]),
]


@pytest.mark.parametrize("role", [*ROLES, "anonymous"])
@pytest.mark.parametrize(("label", "method", "make_url", "allowed"), PAGES, ids=[p[0] for p in PAGES])
def test_each_page_answers_each_role(request, role, label, method, make_url, allowed):
    client = request.getfixturevalue(CLIENT_FIXTURES[role])  # only the one user this case needs
    plan = make_plan(draft=True)
    target = make_url(plan)

    response = getattr(client, method)(target)

    if role == "anonymous":
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))
    elif role in allowed:
        assert response.status_code == (200 if method == "get" else 302)
    else:
        assert response.status_code == 403


def test_post_only_actions_refuse_a_get(manager_client):
    plan = make_plan(draft=True)

    assert manager_client.get(url("version-publish", plan.pk, 2)).status_code == 405
    assert manager_client.get(url("plan-start-draft", plan.pk)).status_code == 405


def test_an_unknown_version_is_a_404(ops_client):
    plan = make_plan()

    assert ops_client.get(url("version-detail", plan.pk, 9)).status_code == 404
    assert ops_client.get(url("version-edit", plan.pk, 9)).status_code == 404


# --- The plan list -----------------------------------------------------------------------------


def test_the_list_shows_current_version_draft_badge_and_overdue_review(ops_client):
    make_plan(title="ERP down", draft=True, review_date=datetime.date(2020, 1, 1))
    make_plan(title="Ransomware", published=False)

    response = ops_client.get(url("plan-list"))

    html = response.content.decode()
    assert response.status_code == 200
    assert "ERP down" in html and "Ransomware" in html
    assert "draft v2" in html
    assert "not published yet" in html
    assert 'class="badge overdue"' in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"q": "ransom"}, {"Ransomware"}),
        ({"q": "Order taking"}, {"ERP down"}),  # matches a covered service's name
        ({"scenario": "ransomware"}, {"Ransomware"}),
        ({"status": "published"}, {"ERP down"}),
        ({"status": "draft_only"}, {"Ransomware"}),
        ({"status": "has_draft"}, {"ERP down", "Ransomware"}),
        ({"overdue": "1"}, {"ERP down"}),
        ({"status": "nonsense", "scenario": "nonsense"}, set()),
    ],
)
def test_the_list_searches_and_filters(ops_client, query, expected):
    erp = make_plan(
        title="ERP down",
        draft=True,
        review_date=datetime.date(2020, 1, 1),
        services_=[ServiceFactory(name="Order taking")],
    )
    ransomware = make_plan(title="Ransomware", published=False)
    EmergencyPlan.objects.filter(pk=ransomware.pk).update(scenario="ransomware")

    response = ops_client.get(url("plan-list"), query)

    assert response.status_code == 200
    shown = {p.title for p in response.context["page"].object_list}
    if query.get("status") == "nonsense":
        assert shown == {erp.title, ransomware.title}  # an invalid filter is ignored, never a 500
    else:
        assert shown == expected


def test_the_list_filters_by_service(ops_client):
    service = ServiceFactory(name="Warehouse")
    make_plan(title="Warehouse plan", services_=[service])
    make_plan(title="Other plan")

    response = ops_client.get(url("plan-list"), {"service": service.pk})

    assert [p.title for p in response.context["page"].object_list] == ["Warehouse plan"]


def test_a_business_user_sees_no_draft_badge_nor_status_filter(business_client):
    make_plan(draft=True)

    html = business_client.get(url("plan-list"), {"status": "draft_only"}).content.decode()

    assert "draft v2" not in html
    assert 'name="status"' not in html
    assert "ERP down" in html  # the status filter was ignored for them


# session, user, the user's own and group permissions (2), the paginator's count, the page of
# plans with their owners, their services (prefetch), their versions (prefetch), the user's groups
# (navigation role label), the services of the filter's select.
LIST_QUERIES = 10


def test_the_list_query_count_stays_constant_as_plans_grow(ops_client, django_assert_num_queries):
    for n in range(2):
        make_plan(title=f"Plan {n}", draft=True)
    with django_assert_num_queries(LIST_QUERIES):
        assert ops_client.get(url("plan-list")).status_code == 200

    for n in range(2, 15):
        make_plan(title=f"Plan {n}", draft=True, services_=[ServiceFactory(), ServiceFactory()])
    with django_assert_num_queries(LIST_QUERIES):
        response = ops_client.get(url("plan-list"), {"q": "Plan", "status": "has_draft"})

    assert len(response.context["page"].object_list) == 15


# --- Creating and editing plans -----------------------------------------------------------------


def test_an_operations_user_creates_a_plan_with_a_v1_draft(ops_client, ops_user):
    service = ServiceFactory()

    response = ops_client.post(
        url("plan-create"),
        {
            "title": "Network outage",
            "scenario": "network_outage",
            "services": [service.pk],
            "owner": ops_user.pk,
            "review_date": "2031-03-01",
            "summary": "Keep the warehouse shipping.",
        },
    )

    plan = EmergencyPlan.objects.get(title="Network outage")
    assert response.status_code == 302
    assert response.url == url("version-detail", plan.pk, 1)
    version = plan.versions.get()
    assert (version.status, version.summary, version.created_by) == ("draft", "Keep the warehouse shipping.", ops_user)
    assert plan.review_date == datetime.date(2031, 3, 1)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"title": "", "scenario": "erp_down"}, "title"),
        ({"title": "No services", "scenario": "erp_down", "services": []}, "services"),
        ({"title": "Bad scenario", "scenario": "meteor"}, "scenario"),
        ({"title": "Bad date", "scenario": "erp_down", "review_date": "31/31/2030"}, "review_date"),
    ],
)
def test_plan_creation_shows_form_errors_and_writes_nothing(ops_client, data, field):
    service = ServiceFactory()
    data = {"services": [service.pk], **data}

    response = ops_client.post(url("plan-create"), data)

    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not EmergencyPlan.objects.exists()
    assert not PlanVersion.objects.exists()


def test_plan_creation_refuses_a_duplicate_title(ops_client):
    make_plan(title="ERP down")

    response = ops_client.post(
        url("plan-create"), {"title": "ERP down", "scenario": "erp_down", "services": [ServiceFactory().pk]}
    )

    assert "title" in response.context["form"].errors
    assert EmergencyPlan.objects.count() == 1


def test_editing_a_plan_changes_its_facts(ops_client):
    plan = make_plan()
    other = ServiceFactory(name="Finance")

    response = ops_client.post(
        url("plan-edit", plan.pk),
        {"title": "ERP down (all sites)", "scenario": "site_loss", "services": [other.pk], "review_date": ""},
    )

    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.title == "ERP down (all sites)"
    assert list(plan.services.all()) == [other]


def test_editing_a_plan_with_a_missing_title_keeps_the_old_one(ops_client):
    plan = make_plan()

    response = ops_client.post(
        url("plan-edit", plan.pk), {"title": "", "scenario": "erp_down", "services": [plan.services.get().pk]}
    )

    assert response.status_code == 200
    assert "title" in response.context["form"].errors
    assert "ERP down" in response.content.decode()  # the breadcrumbs still name the plan
    plan.refresh_from_db()
    assert plan.title == "ERP down"


def test_a_published_plan_cannot_be_deleted(manager_client):
    plan = make_plan()

    page = manager_client.get(url("plan-delete", plan.pk))
    response = manager_client.post(url("plan-delete", plan.pk))

    assert "cannot be deleted" in page.content.decode()
    assert 'class="button danger"' not in page.content.decode()
    assert response.status_code == 302
    assert "kept for the record" in " ".join(messages_of(response))
    assert EmergencyPlan.objects.filter(pk=plan.pk).exists()


def test_a_never_published_plan_is_deleted(ops_client):
    plan = make_plan(published=False)

    response = ops_client.post(url("plan-delete", plan.pk))

    assert response.status_code == 302
    assert response.url == url("plan-list")
    assert not EmergencyPlan.objects.exists()
    assert not PlanStep.objects.exists()


# --- Reading a plan ----------------------------------------------------------------------------


def test_the_detail_page_renders_the_published_version_in_full(ops_client):
    service = ServiceFactory(name="Order taking")
    FallbackFactory(service=service, title="Paper order forms")
    plan = make_plan(services_=[service], draft=True)
    PlanVersion.objects.filter(plan=plan, number=1).update(
        backup_strategy="Nightly full backup", standby_systems="DR site"
    )

    response = ops_client.get(url("plan-detail", plan.pk))

    html = response.content.decode()
    outline = response.context["outline"]
    assert [p["value"] for p in outline["phases"]] == ["detect", "recover"]
    assert [p["total_minutes"] for p in outline["phases"]] == [10, 45]
    assert outline["total_minutes"] == 55
    assert "55 min expected overall" in html
    assert "Database administrator" in html
    assert "Nightly full backup" in html and "DR site" in html and "ERP down &gt; 15 min" in html
    assert "All staff" in html and "within 15 min" in html
    assert "Paper order forms" in html
    assert "Continue draft v2" in html
    assert "Version history" in html
    assert "Hold the post-incident review" not in html  # the draft's step is not in force yet
    assert "data-print" in html


def test_the_detail_page_offers_to_start_a_draft_when_there_is_none(ops_client):
    plan = make_plan()

    html = ops_client.get(url("plan-detail", plan.pk)).content.decode()

    assert url("plan-start-draft", plan.pk) in html
    assert "Continue draft" not in html


def test_a_business_user_sees_published_steps_but_not_the_draft(business_client):
    plan = make_plan(draft=True)

    response = business_client.get(url("plan-detail", plan.pk))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Confirm the outage" in html and "Fail over to the standby" in html
    assert "Hold the post-incident review" not in html
    assert "Version history" not in html
    assert "draft" not in html.lower().replace("drafts", "")
    assert url("plan-start-draft", plan.pk) not in html
    assert url("plan-edit", plan.pk) not in html


def test_a_business_user_is_told_when_a_plan_is_not_yet_published(business_client):
    plan = make_plan(published=False)

    response = business_client.get(url("plan-detail", plan.pk))

    html = response.content.decode()
    assert "not yet published" in html
    assert "Confirm the outage" not in html


# --- Drafts: editing, bad input, frozen versions ---------------------------------------------------


def test_a_draft_shows_edit_controls_but_no_publish_button_to_operations(ops_client):
    plan = make_plan(draft=True)

    html = ops_client.get(url("version-detail", plan.pk, 2)).content.decode()

    assert url("version-edit", plan.pk, 2) in html
    assert url("step-create", plan.pk, 2) in html
    assert url("comm-create", plan.pk, 2) in html
    assert url("version-discard", plan.pk, 2) in html
    assert url("version-publish", plan.pk, 2) not in html


def test_a_draft_shows_the_publish_button_to_a_manager(manager_client):
    plan = make_plan(draft=True)

    html = manager_client.get(url("version-detail", plan.pk, 2)).content.decode()

    assert url("version-publish", plan.pk, 2) in html


def test_a_published_version_shows_no_edit_controls(manager_client):
    plan = make_plan()
    step = plan.versions.get(number=1).steps.first()

    html = manager_client.get(url("version-detail", plan.pk, 1)).content.decode()

    assert url("version-edit", plan.pk, 1) not in html
    assert url("step-edit", step.pk) not in html
    assert url("version-publish", plan.pk, 1) not in html


def test_adding_a_step_to_a_draft(ops_client):
    plan = make_plan(draft=True)
    role = RoleFactory(name="Incident commander", key="ic")

    response = ops_client.post(
        url("step-create", plan.pk, 2),
        {
            "phase": "escalate",
            "order": 4,
            "title": "Call the vendor",
            "role": role.pk,
            "expected_minutes": 20,
            "instructions": "Use the support hotline.",
        },
    )

    assert response.status_code == 302
    step = PlanStep.objects.get(title="Call the vendor")
    assert (step.version.number, step.role, step.expected_minutes) == (2, role, 20)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"expected_minutes": 0}, "expected_minutes"),
        ({"expected_minutes": ""}, "expected_minutes"),
        ({"title": ""}, "title"),
        ({"role": 999999}, "role"),
        ({"phase": "panic"}, "phase"),
    ],
)
def test_a_bad_step_shows_form_errors_and_writes_nothing(ops_client, changes, field):
    plan = make_plan(draft=True)
    data = {
        "phase": "recover",
        "order": 5,
        "title": "Restore",
        "role": RoleFactory().pk,
        "expected_minutes": 30,
        **changes,
    }
    before = PlanStep.objects.count()

    response = ops_client.post(url("step-create", plan.pk, 2), data)

    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert PlanStep.objects.count() == before


def test_editing_a_step_with_bad_input_changes_nothing(ops_client):
    plan = make_plan(draft=True)
    step = plan.versions.get(number=2).steps.get(title="Confirm the outage")

    response = ops_client.post(
        url("step-edit", step.pk),
        {"phase": "detect", "order": 1, "title": "Renamed", "role": step.role.pk, "expected_minutes": 0},
    )

    assert response.status_code == 200
    assert "expected_minutes" in response.context["form"].errors
    step.refresh_from_db()
    assert (step.title, step.expected_minutes) == ("Confirm the outage", 10)


def test_editing_a_step_of_a_draft(ops_client):
    plan = make_plan(draft=True)
    step = plan.versions.get(number=2).steps.get(title="Confirm the outage")

    response = ops_client.post(
        url("step-edit", step.pk),
        {
            "phase": "detect",
            "order": 1,
            "title": "Confirm the outage with monitoring",
            "role": step.role.pk,
            "expected_minutes": 5,
        },
    )

    assert response.status_code == 302
    step.refresh_from_db()
    assert step.title == "Confirm the outage with monitoring"
    # The published v1 keeps its wording.
    assert plan.versions.get(number=1).steps.filter(title="Confirm the outage").exists()


def test_editing_version_fields_of_a_draft(ops_client):
    plan = make_plan(draft=True)

    response = ops_client.post(
        url("version-edit", plan.pk, 2),
        {
            "summary": "New scope",
            "activation_criteria": "Any outage",
            "backup_strategy": "Hourly logs",
            "standby_systems": "Cloud replica",
            "change_note": "Shorter RPO",
        },
    )

    assert response.status_code == 302
    v2 = plan.versions.get(number=2)
    assert (v2.summary, v2.change_note) == ("New scope", "Shorter RPO")


def test_adding_and_editing_communication_rules(ops_client):
    plan = make_plan(draft=True)

    ops_client.post(
        url("comm-create", plan.pk, 2),
        {
            "severity": "sev2",
            "audience": "Sales managers",
            "channel": "chat",
            "timing": "hourly",
            "message_template": "Orders are taken on paper.",
        },
    )
    rule = CommunicationRule.objects.get(audience="Sales managers")
    bad = ops_client.post(
        url("comm-edit", rule.pk), {"severity": "sev9", "audience": "", "channel": "chat", "message_template": ""}
    )

    assert rule.version.number == 2
    assert {"severity", "audience", "message_template"} <= set(bad.context["form"].errors)
    rule.refresh_from_db()
    assert rule.audience == "Sales managers"


@pytest.mark.parametrize(
    ("method", "make_url", "data"),
    [
        ("get", lambda p, s, r: url("version-edit", p.pk, 1), {}),
        ("post", lambda p, s, r: url("version-edit", p.pk, 1), {"summary": "Hacked"}),
        ("get", lambda p, s, r: url("step-create", p.pk, 1), {}),
        (
            "post",
            lambda p, s, r: url("step-create", p.pk, 1),
            {"phase": "detect", "title": "New", "expected_minutes": 5},
        ),
        (
            "post",
            lambda p, s, r: url("step-edit", s.pk),
            {"phase": "detect", "order": 1, "title": "Hacked", "expected_minutes": 5},
        ),
        ("post", lambda p, s, r: url("step-delete", s.pk), {}),
        (
            "post",
            lambda p, s, r: url("comm-create", p.pk, 1),
            {"severity": "sev1", "audience": "X", "channel": "email", "message_template": "Y"},
        ),
        (
            "post",
            lambda p, s, r: url("comm-edit", r.pk),
            {"severity": "sev1", "audience": "Hacked", "channel": "email", "message_template": "Y"},
        ),
        ("post", lambda p, s, r: url("comm-delete", r.pk), {}),
        ("post", lambda p, s, r: url("version-discard", p.pk, 1), {}),
    ],
)
def test_any_attempt_to_edit_a_published_version_is_refused_with_a_message(manager_client, method, make_url, data):
    plan = make_plan()
    v1 = plan.versions.get(number=1)
    step, rule = v1.steps.first(), v1.communications.get()
    data = {**data, "role": step.role.pk} if "title" in data else data

    response = getattr(manager_client, method)(make_url(plan, step, rule), data)

    assert response.status_code == 302
    assert response.url == url("version-detail", plan.pk, 1)
    assert "cannot be changed" in " ".join(messages_of(response))
    v1.refresh_from_db()
    assert (v1.status, v1.summary) == ("published", "Keep order taking alive.")
    assert sorted(v1.steps.values_list("title", flat=True)) == ["Confirm the outage", "Fail over to the standby"]
    assert list(v1.communications.values_list("audience", flat=True)) == ["All staff"]


def test_discarding_a_draft(ops_client):
    plan = make_plan(draft=True)

    response = ops_client.post(url("version-discard", plan.pk, 2))

    assert response.url == url("plan-detail", plan.pk)
    assert list(plan.versions.values_list("number", flat=True)) == [1]


def test_discarding_the_only_version_is_refused_with_a_message(ops_client):
    plan = make_plan(published=False)

    response = ops_client.post(url("version-discard", plan.pk, 1))

    assert response.status_code == 302
    assert "delete the plan instead" in " ".join(messages_of(response))
    assert plan.versions.count() == 1


def test_starting_a_draft_when_one_exists_opens_it(ops_client):
    plan = make_plan(draft=True)

    response = ops_client.post(url("plan-start-draft", plan.pk))

    assert response.url == url("version-detail", plan.pk, 2)
    assert plan.versions.count() == 2


# --- Publishing -------------------------------------------------------------------------------


def test_publishing_end_to_end(ops_client, manager_client):
    service = ServiceFactory()
    role = RoleFactory(name="ERP administrator", key="erp-admin")
    # Operations writes v1...
    ops_client.post(url("plan-create"), {"title": "ERP down", "scenario": "erp_down", "services": [service.pk]})
    plan = EmergencyPlan.objects.get()
    ops_client.post(
        url("step-create", plan.pk, 1),
        {"phase": "detect", "order": 1, "title": "Check the login page", "role": role.pk, "expected_minutes": 5},
    )
    # ...cannot publish it...
    assert ops_client.post(url("version-publish", plan.pk, 1)).status_code == 403
    # ...a manager approves it.
    response = manager_client.post(url("version-publish", plan.pk, 1))
    assert response.url == url("plan-detail", plan.pk)
    assert plan.versions.get(number=1).status == "published"

    # A new draft copies v1; operations changes it; the manager publishes v2.
    response = ops_client.post(url("plan-start-draft", plan.pk))
    assert response.url == url("version-detail", plan.pk, 2)
    ops_client.post(
        url("step-create", plan.pk, 2),
        {"phase": "recover", "order": 2, "title": "Restart the app servers", "role": role.pk, "expected_minutes": 15},
    )
    manager_client.post(url("version-publish", plan.pk, 2))

    statuses = dict(plan.versions.values_list("number", "status"))
    assert statuses == {1: "superseded", 2: "published"}
    old = ops_client.get(url("version-detail", plan.pk, 1)).content.decode()
    assert "superseded" in old.lower() and "Check the login page" in old and "Restart the app servers" not in old
    current = ops_client.get(url("plan-detail", plan.pk)).content.decode()
    assert "Restart the app servers" in current


def test_publishing_a_draft_without_steps_is_refused_with_a_message(manager_client):
    plan = make_plan(published=False)
    PlanStep.objects.filter(version__plan=plan).delete()

    response = manager_client.post(url("version-publish", plan.pk, 1))

    assert response.status_code == 302
    assert "without steps" in " ".join(messages_of(response))
    assert plan.versions.get().status == "draft"


def test_publishing_an_already_published_version_is_refused_with_a_message(manager_client):
    plan = make_plan()

    response = manager_client.post(url("version-publish", plan.pk, 1))

    assert response.status_code == 302
    assert "Only a draft" in " ".join(messages_of(response))


# --- Comparing versions ------------------------------------------------------------------------


def test_compare_shows_added_and_removed_lines(ops_client):
    plan = make_plan(draft=True)
    v2 = plan.versions.get(number=2)
    PlanStep.objects.filter(version=v2, title="Fail over to the standby").delete()

    response = ops_client.get(url("version-compare", plan.pk), {"a": 1, "b": 2})

    html = response.content.decode()
    assert response.status_code == 200
    assert '<span class="add">+[Review] 3. Hold the post-incident review' in html
    assert '<span class="del">-[Recover] 2. Fail over to the standby' in html
    assert '<span class="hdr">--- v1</span>' in html
    assert (response.context["added"], response.context["removed"]) == (1, 1)


def test_compare_defaults_to_the_previous_against_the_newest_version(ops_client):
    plan = make_plan(draft=True)

    response = ops_client.get(url("version-compare", plan.pk))

    assert (response.context["a"].number, response.context["b"].number) == (1, 2)
    assert response.context["added"] == 1


@pytest.mark.parametrize("query", [{"a": "abc", "b": "2"}, {"a": "1", "b": "99"}])
def test_compare_with_unknown_versions_falls_back_with_a_warning(ops_client, query):
    plan = make_plan(draft=True)

    response = ops_client.get(url("version-compare", plan.pk), query)

    assert response.status_code == 200
    assert response.context["invalid"] is True
    assert "does not exist" in response.content.decode()


def test_compare_of_the_same_version_says_so(ops_client):
    plan = make_plan()

    response = ops_client.get(url("version-compare", plan.pk), {"a": 1, "b": 1})

    assert "Pick two different versions" in response.content.decode()
