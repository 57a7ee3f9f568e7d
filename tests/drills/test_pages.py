"""Drill pages: who sees and runs what, the run page's one-click records, bad input, query counts."""

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from drills import services
from drills.models import Drill, Finding
from plans.models import ActionItem, PlanVersion
from tests.factories import RiskFactory, UserFactory

from .factories import make_drill

pytestmark = pytest.mark.django_db
S = Drill.Status


def _client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def drill(ops_user, business_user):
    return make_drill(facilitator=ops_user, participants=[business_user])


def _messages(response) -> str:
    return " ".join(str(m) for m in response.context["messages"]) if response.context else ""


# --- Who sees what --------------------------------------------------------------------------------


def test_the_overview_lists_drills_for_readers_and_is_refused_without_permission(manager_client, drill, client):
    response = manager_client.get(reverse("drills:drill-list"))
    assert response.status_code == 200
    assert drill.title in response.content.decode()
    assert client.get(reverse("drills:drill-list")).status_code == 302  # anonymous → login


def test_a_business_user_sees_only_the_drills_they_take_part_in(business_client, business_user, drill):
    other = make_drill(title="Someone else's drill")
    page = business_client.get(reverse("drills:drill-list")).content.decode()
    assert drill.title in page and "Someone else&#x27;s drill" not in page
    assert business_client.get(reverse("drills:drill-detail", args=[drill.pk])).status_code == 200
    assert business_client.get(reverse("drills:drill-detail", args=[other.pk])).status_code == 404
    assert business_client.get(reverse("drills:drill-report", args=[other.pk])).status_code == 404


def test_a_participant_views_but_cannot_run(business_client, drill):
    services.drill_transition(drill=drill, to=S.RUNNING)
    assert business_client.get(reverse("drills:drill-run", args=[drill.pk])).status_code == 403
    step = drill.plan_version.steps.first()
    response = business_client.post(reverse("drills:run-step", args=[drill.pk, step.pk, "start"]))
    assert response.status_code == 403
    assert not drill.step_records.exists()


def test_another_ops_user_cannot_run_someone_elses_drill(drill):
    other = _client(UserFactory(username="olga-ops", role="it_operations"))
    assert other.get(reverse("drills:drill-detail", args=[drill.pk])).status_code == 200  # ops read all
    response = other.post(reverse("drills:drill-transition", args=[drill.pk, "running"]))
    assert response.status_code == 403
    assert Drill.objects.get(pk=drill.pk).status == S.PLANNED


def test_a_manager_plans_and_may_run_any_drill(manager_client, manager_user, drill):
    response = manager_client.post(reverse("drills:drill-transition", args=[drill.pk, "running"]))
    assert response.status_code == 302
    assert Drill.objects.get(pk=drill.pk).status == S.RUNNING


def test_ops_cannot_plan_a_drill(ops_client):
    assert ops_client.get(reverse("drills:drill-create")).status_code == 403
    assert ops_client.get(reverse("drills:scenario-create")).status_code == 403


# --- Planning -------------------------------------------------------------------------------------


def test_a_manager_plans_a_drill_with_the_form(manager_client, manager_user, drill):
    data = {
        "title": "Spring failover",
        "scenario": drill.scenario.pk,
        "plan_version": drill.plan_version.pk,
        "kind": "tabletop",
        "scheduled_start": "2026-04-14T09:30",
        "duration_minutes": 90,
        "facilitator": manager_user.pk,
        "participant_roles": [r.pk for r in drill.participant_roles.all()],
        "services": [s.pk for s in drill.services.all()],
    }
    response = manager_client.post(reverse("drills:drill-create"), data)
    assert response.status_code == 302, response.context["form"].errors
    created = Drill.objects.get(title="Spring failover")
    assert created.service_results.count() == 1 and created.duration_minutes == 90


def test_bad_planning_input_gives_form_errors_not_a_500(manager_client, drill):
    response = manager_client.post(
        reverse("drills:drill-create"), {"title": "", "scheduled_start": "tomorrow-ish", "duration_minutes": "-5"}
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert {"title", "scheduled_start", "duration_minutes", "services", "participant_roles"} <= set(errors)
    response = manager_client.post(
        reverse("drills:scenario-create"),
        {"title": "S", "kind": "custom", "description": "d", "hypothesis": "h", "injects": "ten minutes in: calls"},
    )
    assert response.status_code == 200 and "Line 1" in str(response.context["form"].errors["injects"])


# --- The run page ---------------------------------------------------------------------------------


def test_the_facilitator_runs_steps_with_one_click_each(ops_client, drill):
    services.drill_transition(drill=drill, to=S.RUNNING)
    step = drill.plan_version.steps.order_by("order").first()
    run_url = reverse("drills:drill-run", args=[drill.pk])
    assert ops_client.get(run_url).status_code == 200
    ops_client.post(reverse("drills:run-step", args=[drill.pk, step.pk, "start"]))
    response = ops_client.post(
        reverse("drills:run-step", args=[drill.pk, step.pk, "finish"]),
        {"outcome": "problem", "note": "slow VPN"},
        follow=True,
    )
    record = drill.step_records.get()
    assert record.finished_at and record.outcome == "problem" and record.note == "slow VPN"
    assert "slow VPN" in response.content.decode()


def test_bad_run_input_gives_a_message_and_changes_nothing(ops_client, drill):
    services.drill_transition(drill=drill, to=S.RUNNING)
    step = drill.plan_version.steps.first()
    ops_client.post(reverse("drills:run-step", args=[drill.pk, step.pk, "start"]))
    response = ops_client.post(
        reverse("drills:run-step", args=[drill.pk, step.pk, "finish"]), {"outcome": "great"}, follow=True
    )
    assert "Choose an outcome" in _messages(response)
    assert drill.step_records.get().finished_at is None
    row = drill.service_results.first()
    ops_client.post(reverse("drills:run-service", args=[drill.pk, row.service_id, "disrupted"]))
    response = ops_client.post(
        reverse("drills:run-service", args=[drill.pk, row.service_id, "restored"]),
        {"data_loss_minutes": "lots"},
        follow=True,
    )
    assert "data lost" in _messages(response)
    assert ops_client.post(reverse("drills:run-service", args=[drill.pk, row.service_id, "explode"])).status_code == 404
    response = ops_client.post(reverse("drills:run-step", args=[drill.pk, 999999, "start"]), follow=True)
    assert "not part of the drill" in _messages(response)


def test_completing_from_the_page_records_hypothesis_and_result(ops_client, drill):
    services.drill_transition(drill=drill, to=S.RUNNING)
    url = reverse("drills:drill-transition", args=[drill.pk, "completed"])
    response = ops_client.post(url, {}, follow=True)
    assert Drill.objects.get(pk=drill.pk).status == S.RUNNING
    assert "required" in _messages(response)
    ops_client.post(url, {"hypothesis_held": "no", "passed": "", "summary": "Paper forms missing"})
    drill.refresh_from_db()
    assert (drill.status, drill.hypothesis_held, drill.passed) == (S.COMPLETED, False, False)


def test_a_refused_transition_shows_the_reason(ops_client, drill):
    response = ops_client.post(reverse("drills:drill-transition", args=[drill.pk, "reported"]), follow=True)
    assert "cannot become reported" in _messages(response)


# --- Findings -------------------------------------------------------------------------------------


def test_a_finding_becomes_an_action_item_a_plan_draft_and_a_risk_change(manager_client, manager_user, ops_user, drill):
    services.drill_transition(drill=drill, to=S.RUNNING)
    manager_client.post(
        reverse("drills:finding-create", args=[drill.pk]),
        {"kind": "plan_gap", "severity": "high", "title": "Nobody re-keys EDI orders", "description": ""},
    )
    finding = Finding.objects.get()
    due = timezone.localdate() + datetime.timedelta(days=10)
    manager_client.post(
        reverse("drills:finding-action", args=[finding.pk]), {"owner": ops_user.pk, "due_date": due, "title": ""}
    )
    item = ActionItem.objects.get()
    assert (item.owner, item.due_date, item.source, item.plan) == (ops_user, due, finding, drill.plan_version.plan)
    response = manager_client.post(reverse("drills:finding-plan-change", args=[finding.pk]))
    finding.refresh_from_db()
    assert finding.proposed_version.status == PlanVersion.Status.DRAFT
    assert response["Location"] == finding.proposed_version.get_absolute_url()
    risk = RiskFactory(likelihood=4, impact=4, residual_likelihood=3, residual_impact=3)
    manager_client.post(
        reverse("drills:finding-risk-change", args=[finding.pk]),
        {"risk": risk.pk, "residual_likelihood": 4, "residual_impact": 4},
    )
    manager_client.post(reverse("drills:finding-risk-change", args=[finding.pk]), {"apply": "1"})
    risk.refresh_from_db()
    assert risk.residual_score == 16


def test_a_finding_with_bad_input_is_refused_with_a_message(ops_client, drill):
    services.drill_transition(drill=drill, to=S.RUNNING)
    response = ops_client.post(
        reverse("drills:finding-create", args=[drill.pk]), {"kind": "meh", "title": ""}, follow=True
    )
    assert not Finding.objects.exists()
    assert "Kind" in _messages(response)


def test_an_impossible_risk_change_is_refused_by_the_risk_rules(manager_client, drill):
    services.drill_transition(drill=drill, to=S.RUNNING)
    finding = services.finding_create(drill=drill, kind="did_not", severity="high", title="x")
    risk = RiskFactory(likelihood=2, impact=2, residual_likelihood=1, residual_impact=1)
    services.finding_propose_risk_change(finding=finding, risk=risk, residual_likelihood=5, residual_impact=5)
    response = manager_client.post(
        reverse("drills:finding-risk-change", args=[finding.pk]), {"apply": "1"}, follow=True
    )
    assert "cannot be higher than the inherent score" in _messages(response)
    risk.refresh_from_db()
    assert risk.residual_likelihood == 1


# --- Query counts ---------------------------------------------------------------------------------


def _reported_drill(facilitator, participants=()):
    drill = make_drill(facilitator=facilitator, participants=participants, steps=(10, 20, 30, 40))
    services.drill_transition(drill=drill, to=S.RUNNING)
    for step in drill.plan_version.steps.all():
        services.step_start(drill=drill, step_id=step.pk)
        services.step_finish(drill=drill, step_id=step.pk, outcome="done")
    for i in range(3):
        f = services.finding_create(drill=drill, kind="did_not", severity="high", title=f"F{i}")
        services.finding_add_action(finding=f, owner=facilitator, due_date=timezone.localdate())
    services.drill_transition(drill=drill, to=S.COMPLETED, hypothesis_held=True)
    return services.drill_transition(drill=drill, to=S.REPORTED)


def test_the_report_page_runs_a_fixed_number_of_queries(manager_client, ops_user, django_assert_num_queries):
    drill = _reported_drill(ops_user)
    url = reverse("drills:drill-report", args=[drill.pk])
    manager_client.get(url)
    # session, user, permissions (user + group), the drill with scenario/plan/facilitator/alert,
    # step records, steps with roles, service results, findings with their action items and owners,
    # participant roles, their members, logged injects, scenario injects, the user's groups (menu).
    with django_assert_num_queries(14):
        manager_client.get(url)
    _reported_drill(ops_user)  # more data elsewhere changes nothing
    with django_assert_num_queries(14):
        assert manager_client.get(url).status_code == 200


def test_the_overview_and_calendar_do_not_grow_with_the_number_of_drills(
    manager_client, ops_user, django_assert_num_queries
):
    _reported_drill(ops_user)
    make_drill(scheduled_start=timezone.now())
    for name in ("drills:drill-list", "drills:calendar"):
        manager_client.get(reverse(name))
    # session, user, permissions (2), the drills with scenario/plan/facilitator, the service results
    # of completed drills (trend chart), the user's groups (menu). The calendar: no results query.
    with django_assert_num_queries(7):
        manager_client.get(reverse("drills:drill-list"))
    with django_assert_num_queries(6):
        manager_client.get(reverse("drills:calendar"))
    _reported_drill(ops_user)
    make_drill(scheduled_start=timezone.now())
    with django_assert_num_queries(7):
        manager_client.get(reverse("drills:drill-list"))
    with django_assert_num_queries(6):
        manager_client.get(reverse("drills:calendar"))


# --- Drill page: readiness panel, scenarios -------------------------------------------------------


def test_the_drill_page_shows_readiness_of_the_participants_when_training_is_there(
    manager_client, business_user, drill
):
    page = manager_client.get(reverse("drills:drill-detail", args=[drill.pk])).content.decode()
    assert "Readiness" in page and (business_user.get_full_name() or business_user.username) in page


def test_the_drill_page_works_without_the_training_app(manager_client, drill, monkeypatch):
    from drills import selectors

    monkeypatch.setattr(selectors, "plan_readiness", None)
    response = manager_client.get(reverse("drills:drill-detail", args=[drill.pk]))
    assert response.status_code == 200 and "Readiness" not in response.content.decode()


def test_a_manager_edits_a_scenario_and_its_injects(manager_client, drill):
    scenario = drill.scenario
    assert manager_client.get(reverse("drills:scenario-list")).status_code == 200
    assert manager_client.get(reverse("drills:scenario-detail", args=[scenario.pk])).status_code == 200
    response = manager_client.post(
        reverse("drills:scenario-edit", args=[scenario.pk]),
        {
            "title": scenario.title,
            "kind": "custom",
            "description": "d",
            "hypothesis": "h",
            "injects": "5 Calls\n30: EDI order",
        },
    )
    assert response.status_code == 302
    assert [(i.minute, i.text) for i in scenario.injects.all()] == [(5, "Calls"), (30, "EDI order")]


def test_a_business_user_cannot_open_scenarios(business_client, drill):
    assert business_client.get(reverse("drills:scenario-list")).status_code == 403


def test_a_manager_plans_a_drill_from_a_day_of_the_calendar(manager_client, ops_client, time_machine):
    time_machine.move_to("2026-11-24 08:00:00+00:00", tick=False)
    calendar = manager_client.get(reverse("drills:calendar") + "?month=2026-11").content.decode()
    assert "?date=2026-11-30" in calendar and "?date=2026-11-23" not in calendar  # only days still ahead
    assert "?date=" not in ops_client.get(reverse("drills:calendar") + "?month=2026-11").content.decode()

    form = manager_client.get(reverse("drills:drill-create") + "?date=2026-11-30").content.decode()
    assert 'value="2026-11-30T09:30"' in form
    # A bad date is ignored, not an error.
    assert manager_client.get(reverse("drills:drill-create") + "?date=30-11-2026").status_code == 200
