"""Pages of incidents: the list (filters, keyset pages), opening, editing, and the incident page
with its actions (status changes, severity, commander, notes, public update, plan and checklist)."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from incidents import services
from incidents.models import ChecklistItem, Incident, TimelineEntry
from plans.models import PlanVersion
from tests.factories import (
    AlertFactory,
    FallbackFactory,
    IncidentFactory,
    PlanFactory,
    StepFactory,
    UserFactory,
    VersionFactory,
)

pytestmark = pytest.mark.django_db

Status = Incident.Status
VIEWERS = ["administrator", "it_operations", "manager"]
WRITERS = ["administrator", "it_operations"]


def _client(request, role):
    return request.getfixturevalue(
        {
            "administrator": "admin_client",
            "it_operations": "ops_client",
            "manager": "manager_client",
            "business_user": "business_client",
            "anonymous": "client",
        }[role]
    )


@pytest.fixture
def incident(ops_user, sales):
    return services.incident_open(title="Orders cannot be saved", severity="sev2", user=ops_user, services=[sales])


def _published_plan(service, steps=("Call the DBA", "Fail over to the replica", "Tell the sales desk")):
    plan = PlanFactory(title="ERP outage", services=[service])
    version = VersionFactory(plan=plan)
    for order, (title, phase) in enumerate(zip(steps, ["assess", "recover", "recover"], strict=False), start=1):
        StepFactory(version=version, title=title, phase=phase, order=order)
    # Published once its steps are written (a published version is frozen).
    PlanVersion.objects.filter(pk=version.pk).update(status=PlanVersion.Status.PUBLISHED, published_at=timezone.now())
    return plan


def _post(client, name, incident, data, *args):
    return client.post(reverse(f"incidents:{name}", args=[incident.pk, *args]), data)


# --- Access ------------------------------------------------------------------------------------------


def _pages(incident):
    return [
        reverse("incidents:incident-list"),
        reverse("incidents:incident-detail", args=[incident.pk]),
    ]


@pytest.mark.parametrize("role", VIEWERS)
def test_it_shows_the_list_and_the_incident_page_to_those_who_respond(request, role, incident):
    client = _client(request, role)
    for url in _pages(incident):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "Orders cannot be saved" in response.content.decode()


def test_it_refuses_every_incident_page_to_a_business_user(business_client, incident):
    urls = [
        *_pages(incident),
        reverse("incidents:incident-create"),
        reverse("incidents:incident-edit", args=[incident.pk]),
        reverse("incidents:review", args=[incident.pk]),
        reverse("incidents:stats"),
    ]
    for url in urls:
        assert business_client.get(url).status_code == 403, url
    assert business_client.post(reverse("incidents:incident-transition", args=[incident.pk]),
                                {"to": "acknowledged"}).status_code == 403  # fmt: skip
    incident.refresh_from_db()
    assert incident.status == Status.OPEN


def test_it_sends_an_anonymous_visitor_to_the_login_page(client, incident):
    for url in [
        *_pages(incident),
        reverse("incidents:incident-create"),
        reverse("incidents:incident-transition", args=[incident.pk]),
    ]:
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], url


@pytest.mark.parametrize("role", WRITERS)
def test_it_lets_operations_and_administrators_open_incidents(request, role, sales):
    response = _client(request, role).get(reverse("incidents:incident-create"))
    assert response.status_code == 200
    assert "SEV2 – major: a business process stopped" in response.content.decode()


def test_a_manager_reads_incidents_but_changes_nothing(manager_client, incident):
    assert manager_client.get(reverse("incidents:incident-create")).status_code == 403
    assert manager_client.get(reverse("incidents:incident-edit", args=[incident.pk])).status_code == 403
    for name, data in [
        ("incident-transition", {"to": "acknowledged", "expected_version": incident.version}),
        ("incident-note", {"message": "hello"}),
        ("incident-severity", {"severity": "sev1"}),
        ("incident-public-update", {"message": "All fine"}),
    ]:
        assert _post(manager_client, name, incident, data).status_code == 403, name
    page = manager_client.get(incident.get_absolute_url()).content.decode()
    assert "Acknowledge</button>" not in page
    assert incident.timeline.count() == 1


def test_an_unknown_incident_is_a_404(ops_client):
    assert ops_client.get(reverse("incidents:incident-detail", args=[999999])).status_code == 404


# --- Opening an incident ---------------------------------------------------------------------------


def test_opening_an_incident_records_it_and_shows_its_page(ops_client, ops_user, sales, manager_user):
    response = ops_client.post(
        reverse("incidents:incident-create"),
        {
            "title": "Orders cannot be saved",
            "severity": "sev2",
            "services": [sales.pk],
            "description": "Error on save",
            "business_impact": "Sales cannot take orders",
            "commander": ops_user.pk,
            "detected_at": timezone.localtime(timezone.now() - datetime.timedelta(minutes=20)).strftime(
                "%Y-%m-%dT%H:%M"
            ),
        },
    )
    incident = Incident.objects.get()
    assert response.status_code == 302 and response["Location"] == incident.get_absolute_url()
    assert (incident.severity, incident.commander, incident.opened_by) == ("sev2", ops_user, ops_user)
    assert list(incident.services.all()) == [sales]
    assert incident.detected_at < incident.opened_at - datetime.timedelta(minutes=15)


@pytest.mark.parametrize(
    "data, field",
    [
        ({"title": "", "severity": "sev2"}, "title"),
        ({"title": "x", "severity": "sev9"}, "severity"),
        ({"title": "x", "severity": "sev2", "services": ["99999"]}, "services"),
        ({"title": "x", "severity": "sev2", "detected_at": "yesterday-ish"}, "detected_at"),
        ({"title": "x", "severity": "sev2", "commander": "99999"}, "commander"),
    ],
)
def test_bad_input_when_opening_shows_the_error_and_writes_nothing(ops_client, sales, data, field):
    response = ops_client.post(reverse("incidents:incident-create"), data)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not Incident.objects.exists()


def test_a_detection_time_in_the_future_is_refused_by_the_service_and_shown_on_the_field(ops_client, sales):
    later = timezone.localtime(timezone.now() + datetime.timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M")
    response = ops_client.post(
        reverse("incidents:incident-create"), {"title": "x", "severity": "sev3", "detected_at": later}
    )
    assert response.status_code == 200
    assert "detected_at" in response.context["form"].errors
    assert not Incident.objects.exists()


# --- Editing -----------------------------------------------------------------------------------------


def _edit_data(incident, **overrides):
    data = {
        "title": incident.title,
        "services": [s.pk for s in incident.services.all()],
        "description": "",
        "business_impact": "",
        "detected_at": timezone.localtime(incident.detected_at).strftime("%Y-%m-%dT%H:%M"),
        "expected_version": incident.version,
    }
    data.update(overrides)
    return data


def test_editing_saves_the_change_and_writes_the_timeline(ops_client, incident, shipping):
    response = ops_client.post(
        reverse("incidents:incident-edit", args=[incident.pk]),
        _edit_data(
            incident,
            title="Orders and shipments fail",
            services=[s.pk for s in incident.services.all()] + [shipping.pk],
        ),
    )
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.title == "Orders and shipments fail"
    assert incident.services.count() == 2
    assert incident.timeline.filter(kind=TimelineEntry.Kind.EDIT).exists()


def test_an_edit_made_against_an_older_version_is_refused_with_who_changed_it(ops_client, incident, admin_user):
    stale = incident.version
    services.incident_change_severity(incident=incident, user=admin_user, severity="sev1")
    response = ops_client.post(
        reverse("incidents:incident-edit", args=[incident.pk]),
        _edit_data(incident, title="Mine", expected_version=stale),
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "while you were editing it; reload it and try again" in page
    assert "alice-admin" in page or admin_user.get_full_name() in page
    incident.refresh_from_db()
    assert incident.title == "Orders cannot be saved"


def test_bad_input_when_editing_writes_nothing(ops_client, incident):
    response = ops_client.post(reverse("incidents:incident-edit", args=[incident.pk]), _edit_data(incident, title=""))
    assert response.status_code == 200
    assert "title" in response.context["form"].errors
    incident.refresh_from_db()
    assert incident.title == "Orders cannot be saved"


# --- The list ------------------------------------------------------------------------------------------


def _many(n, service, commander, start=None):
    start = start or timezone.now() - datetime.timedelta(days=30)
    incidents = []
    for i in range(n):
        at = start + datetime.timedelta(minutes=i)
        incidents.append(IncidentFactory(title=f"Incident number {i}", opened_at=at, detected_at=at, commander=commander,
                                         severity=["sev1", "sev2", "sev3", "sev4"][i % 4], services=[service]))  # fmt: skip
    return incidents


def test_the_list_filters_by_status_group_severity_service_commander_and_date(ops_client, ops_user, sales, shipping):
    now = timezone.now()
    a = IncidentFactory(title="Alpha open sales", severity="sev1", services=[sales], commander=ops_user)
    b = IncidentFactory(title="Bravo resolved shipping", severity="sev3", status=Status.RESOLVED, services=[shipping])
    c = IncidentFactory(title="Charlie mitigated", severity="sev2", status=Status.MITIGATED,
                        opened_at=now - datetime.timedelta(days=10), detected_at=now - datetime.timedelta(days=10))  # fmt: skip
    url = reverse("incidents:incident-list")

    def titles(**params):
        return {i.title for i in ops_client.get(url, params).context["page"].rows}

    assert titles() == {a.title, b.title, c.title}
    assert titles(status="active") == {a.title, c.title}
    assert titles(status="resolved") == {b.title}
    assert titles(severity="sev1") == {a.title}
    assert titles(service=shipping.pk) == {b.title}
    assert titles(commander=ops_user.pk) == {a.title}
    assert titles(opened_to=(now - datetime.timedelta(days=5)).date().isoformat()) == {c.title}
    assert titles(opened_from=(now - datetime.timedelta(days=1)).date().isoformat()) == {a.title, b.title}
    assert titles(q="bravo") == {b.title}
    assert titles(q=f"INC-{a.pk}") == {a.title}


def test_the_list_sorts_newest_oldest_and_by_severity(ops_client, sales, ops_user):
    made = _many(4, sales, ops_user)
    url = reverse("incidents:incident-list")
    assert [i.pk for i in ops_client.get(url).context["page"].rows] == [i.pk for i in reversed(made)]
    assert [i.pk for i in ops_client.get(url, {"sort": "oldest"}).context["page"].rows] == [i.pk for i in made]
    assert [i.severity for i in ops_client.get(url, {"sort": "severity"}).context["page"].rows] == [
        "sev1",
        "sev2",
        "sev3",
        "sev4",
    ]


def test_bad_filters_are_shown_and_ignored_never_a_500(ops_client, incident):
    response = ops_client.get(reverse("incidents:incident-list"),
                              {"severity": "sev9", "opened_from": "not-a-date", "service": "abc", "after": "garbage,1"})  # fmt: skip
    assert response.status_code == 200
    assert [i.pk for i in response.context["page"].rows] == [incident.pk]
    assert response.context["form"].errors


@pytest.mark.parametrize("sort", ["newest", "oldest", "severity"])
def test_keyset_pages_cover_every_incident_once(ops_client, sales, ops_user, sort):
    made = _many(105, sales, ops_user)
    url = reverse("incidents:incident-list")
    seen, params = [], {"sort": sort}
    while True:
        page = ops_client.get(url, params).context["page"]
        seen.extend(i.pk for i in page.rows)
        if not page.has_next:
            break
        params = {"sort": sort, "after": page.next_cursor}
    assert len(seen) == len(set(seen)) == len(made)


def test_the_list_shows_next_link_without_counting_rows(ops_client, sales, ops_user):
    _many(55, sales, ops_user)
    with CaptureQueriesContext(connection) as queries:
        response = ops_client.get(reverse("incidents:incident-list"))
    assert "COUNT(" not in " ".join(
        q["sql"].upper() for q in queries.captured_queries if "incidents_incident" in q["sql"]
    )
    page = response.content.decode()
    assert "Next" in page and "after=" in page


def _list_queries(client, params=None) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("incidents:incident-list"), params or {}).status_code == 200
    return len(queries)


def test_the_list_query_count_is_constant_as_incidents_grow_and_on_later_pages(
    ops_client, sales, shipping, ops_user, django_assert_max_num_queries
):
    _many(3, sales, ops_user)
    few = _list_queries(ops_client)
    filtered = {"status": "active", "service": sales.pk, "sort": "severity"}
    few_filtered = _list_queries(ops_client, filtered)  # + the chosen service, validated by the form
    _many(60, shipping, UserFactory(role="it_operations"), start=timezone.now() - datetime.timedelta(days=60))
    # session, user, the user's permissions (2: user perms, group perms), the user's groups (role
    # label in the menu), incidents page (LIMIT 51), their services (prefetch), the filter form's
    # services and commanders. No COUNT(*).
    with django_assert_max_num_queries(9):
        ops_client.get(reverse("incidents:incident-list"))
    assert _list_queries(ops_client) == few
    cursor = ops_client.get(reverse("incidents:incident-list")).context["page"].next_cursor
    assert _list_queries(ops_client, {"after": cursor}) == few
    assert _list_queries(ops_client, filtered) == few_filtered


# --- The incident page ----------------------------------------------------------------------------------


def test_the_page_shows_everything_at_a_glance(ops_client, ops_user, sales):
    plan = _published_plan(sales)
    FallbackFactory(service=sales, title="Take orders on paper")
    incident = services.incident_open(title="Orders cannot be saved", severity="sev2", user=ops_user, services=[sales],
                                      business_impact="40 people wait", commander=ops_user)  # fmt: skip
    services.incident_add_note(incident=incident, user=ops_user, message="Pool exhausted")
    services.incident_publish_update(incident=incident, user=ops_user, message="Use paper forms")
    AlertFactory(service=sales, incident=incident, summary="HTTP 500 on order save")
    incident.refresh_from_db()
    page = ops_client.get(incident.get_absolute_url()).content.decode()
    for text in [incident.reference, "SEV2", "Open for", "Not acknowledged for", "40 people wait", "Pool exhausted",
                 "Use paper forms", plan.title, "Take orders on paper", "HTTP 500 on order save", 'accesskey="k"',
                 f'name="expected_version" value="{incident.version}"', reverse("plans:fallback-detail", args=[1])[:-2]]:  # fmt: skip
        assert text in page, text
    # Only the legal moves from "open": no Close, no Reopen.
    assert 'value="acknowledged"' in page and 'value="resolved"' in page
    assert 'value="closed"' not in page and "incidents:incident-reopen" not in page and "/reopen/" not in page


def test_the_timeline_reads_newest_first(ops_client, ops_user, incident):
    services.incident_add_note(incident=incident, user=ops_user, message="First note")
    services.incident_add_note(incident=incident, user=ops_user, message="Second note")
    page = ops_client.get(incident.get_absolute_url()).content.decode()
    assert page.index("Second note") < page.index("First note")


def _page_queries(client, incident) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(incident.get_absolute_url()).status_code == 200
    return len(queries)


def test_the_page_query_count_is_constant_as_timeline_and_alerts_grow(
    ops_client, ops_user, sales, django_assert_max_num_queries
):
    _published_plan(sales)
    incident = services.incident_open(title="x", severity="sev2", user=ops_user, services=[sales])
    services.incident_attach_plan(incident=incident, user=ops_user, plan=sales.plans.get())
    few = _page_queries(ops_client, incident)
    authors = [UserFactory(role="it_operations") for _ in range(3)]
    for n in range(30):
        services.incident_add_note(incident=incident, user=authors[n % 3], message=f"note {n}")
        AlertFactory(service=sales, incident=incident)
    for n, item in enumerate(ChecklistItem.objects.filter(incident=incident)):
        services.checklist_item_done(item=item, user=authors[n % 3])
    assert _page_queries(ops_client, incident) == few
    # session, user, permissions (2), groups (menu), responders for the commander choice;
    # the incident, its services, timeline (+authors), checklist (+who did it), alerts (4
    # prefetches); attached plans; service states (services, fallbacks, open incidents, their
    # services, dependency graph); proposed plans (services, graph, plans); fallbacks (services,
    # graph, procedures); the review.
    with django_assert_max_num_queries(24):
        ops_client.get(incident.get_absolute_url())


# --- Actions ----------------------------------------------------------------------------------------------


def test_acknowledging_from_the_page_moves_the_status_and_returns_to_the_page(ops_client, incident):
    response = _post(ops_client, "incident-transition", incident, {"to": "acknowledged", "expected_version": incident.version,
                                                                   "note": "On it"})  # fmt: skip
    assert response.status_code == 302 and response["Location"].startswith(incident.get_absolute_url())
    incident.refresh_from_db()
    assert incident.status == Status.ACKNOWLEDGED
    assert incident.timeline.filter(kind="status", message__contains="On it").exists()


def test_an_illegal_transition_shows_a_clear_message_and_changes_nothing(ops_client, incident):
    response = _post(
        ops_client, "incident-transition", incident, {"to": "closed", "expected_version": incident.version}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "cannot go from Open to Closed" in page and 'role="alert"' in page
    incident.refresh_from_db()
    assert incident.status == Status.OPEN


def test_a_second_acknowledge_is_told_who_acknowledged_first(ops_client, incident, admin_user):
    services.incident_acknowledge(incident=incident, user=admin_user)
    response = _post(ops_client, "incident-transition", incident, {"to": "acknowledged"})
    assert response.status_code == 200
    assert "is already acknowledged" in response.content.decode()


def test_a_stale_version_shows_the_concurrency_message_not_a_500(ops_client, incident, admin_user):
    stale = incident.version
    services.incident_change_severity(incident=incident, user=admin_user, severity="sev1")
    response = _post(ops_client, "incident-transition", incident, {"to": "resolved", "expected_version": stale})
    assert response.status_code == 200
    page = response.content.decode()
    assert "while you were editing it; reload it and try again" in page
    incident.refresh_from_db()
    assert incident.status == Status.OPEN
    # The page shows the incident as it is now, with the current version in its forms.
    assert f'name="expected_version" value="{incident.version}"' in page


def test_an_unknown_status_is_refused_by_the_form(ops_client, incident):
    response = _post(ops_client, "incident-transition", incident, {"to": "exploded"})
    assert response.status_code == 200
    incident.refresh_from_db()
    assert incident.status == Status.OPEN


def test_a_resolved_incident_offers_close_and_reopen_with_a_reason(ops_client, ops_user, incident):
    services.incident_resolve(incident=incident, user=ops_user)
    page = ops_client.get(incident.get_absolute_url()).content.decode()
    assert 'value="closed"' in page and "/reopen/" in page and 'value="acknowledged"' not in page
    incident.refresh_from_db()
    response = _post(ops_client, "incident-reopen", incident, {"reason": "", "expected_version": incident.version})
    assert response.status_code == 200 and "reason" in response.context["reopen_form"].errors
    response = _post(
        ops_client, "incident-reopen", incident, {"reason": "It came back", "expected_version": incident.version}
    )
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.status == Status.INVESTIGATING and incident.reopen_count == 1


def test_reopening_an_open_incident_is_refused_clearly(ops_client, incident):
    response = _post(ops_client, "incident-reopen", incident, {"reason": "why not"})
    assert response.status_code == 200
    assert "only a resolved or closed incident can be reopened" in response.content.decode()


def test_changing_severity_and_commander(ops_client, incident, manager_user):
    assert (
        _post(
            ops_client, "incident-severity", incident, {"severity": "sev1", "expected_version": incident.version}
        ).status_code
        == 302
    )
    incident.refresh_from_db()
    assert _post(ops_client, "incident-commander", incident,
                 {"commander": manager_user.pk, "expected_version": incident.version}).status_code == 302  # fmt: skip
    incident.refresh_from_db()
    assert (incident.severity, incident.commander) == ("sev1", manager_user)


def test_bad_severity_or_commander_writes_nothing(ops_client, incident, business_user):
    response = _post(ops_client, "incident-severity", incident, {"severity": "sev7"})
    assert response.status_code == 200 and "severity" in response.context["severity_form"].errors
    # A business user cannot command an incident: not among the choices.
    response = _post(ops_client, "incident-commander", incident, {"commander": business_user.pk})
    assert response.status_code == 200 and "commander" in response.context["commander_form"].errors
    incident.refresh_from_db()
    assert (incident.severity, incident.commander) == ("sev2", None)


def test_a_note_is_added_and_the_page_returns_to_the_timeline(ops_client, incident):
    response = _post(ops_client, "incident-note", incident, {"message": "Restarted app server 2"})
    assert response.status_code == 302 and response["Location"].endswith("#timeline")
    assert incident.timeline.filter(kind="note", message="Restarted app server 2").exists()


def test_an_empty_note_shows_the_error_and_writes_nothing(ops_client, incident):
    response = _post(ops_client, "incident-note", incident, {"message": "   "})
    assert response.status_code == 200
    assert response.context["note_form"].errors
    assert not incident.timeline.filter(kind="note").exists()


def test_publishing_an_update_for_the_status_page(ops_client, incident):
    assert _post(ops_client, "incident-public-update", incident, {"message": "Use paper forms"}).status_code == 302
    incident.refresh_from_db()
    assert incident.public_update == "Use paper forms"
    response = _post(ops_client, "incident-public-update", incident, {"message": ""})
    assert response.status_code == 200 and response.context["public_form"].errors


def test_attaching_the_proposed_plan_and_ticking_its_steps(ops_client, ops_user, incident, sales):
    plan = _published_plan(sales)
    response = _post(ops_client, "incident-attach-plan", incident, {"plan": plan.pk})
    assert response.status_code == 302 and response["Location"].endswith("#checklist")
    items = list(ChecklistItem.objects.filter(incident=incident).order_by("order"))
    assert [i.title for i in items] == ["Call the DBA", "Fail over to the replica", "Tell the sales desk"]
    assert _post(ops_client, "checklist-done", incident, {}, items[0].pk).status_code == 302
    items[0].refresh_from_db()
    assert items[0].done_by == ops_user and items[0].done_at
    page = ops_client.get(incident.get_absolute_url()).content.decode()
    assert "Done by" in page and "1 of 3 done" in page
    # The plan is attached: it is no longer proposed.
    assert f'name="plan" value="{plan.pk}"' not in page
    # Twice done: refused, saying by whom.
    response = _post(ops_client, "checklist-done", incident, {}, items[0].pk)
    assert response.status_code == 200 and "was already done by" in response.content.decode()
    assert _post(ops_client, "checklist-undo", incident, {}, items[0].pk).status_code == 302
    items[0].refresh_from_db()
    assert items[0].done_at is None


def test_attaching_a_plan_without_a_published_version_is_refused_clearly(ops_client, incident, sales):
    plan = PlanFactory(title="Draft only", services=[sales])
    response = _post(ops_client, "incident-attach-plan", incident, {"plan": plan.pk})
    assert response.status_code == 200
    assert "has no published version" in response.content.decode()
    assert not ChecklistItem.objects.exists()
    response = _post(ops_client, "incident-attach-plan", incident, {"plan": 99999})
    assert response.status_code == 200 and not ChecklistItem.objects.exists()


def test_a_checklist_item_of_another_incident_is_a_404(ops_client, ops_user, incident, sales):
    _published_plan(sales)
    other = services.incident_open(title="Other", severity="sev3", user=ops_user, services=[sales])
    item = services.incident_attach_plan(incident=other, user=ops_user, plan=sales.plans.get())[0]
    assert _post(ops_client, "checklist-done", incident, {}, item.pk).status_code == 404


def test_actions_refuse_get(ops_client, incident):
    assert ops_client.get(reverse("incidents:incident-transition", args=[incident.pk])).status_code == 405
