"""risks.services: scores, levels, review cadence, the residual rule and overdue reminders."""

import datetime

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError

from risks import services
from risks.models import Level, Risk, level_for_score
from tests.factories import PlanFactory, RiskFactory, ServiceFactory, UserFactory

TODAY = datetime.date(2026, 3, 10)
NOON = datetime.datetime(2026, 3, 10, 12, 0, tzinfo=datetime.UTC)
REVIEW_DAYS = {"critical": 30, "high": 90, "medium": 180, "low": 365}


@pytest.fixture(autouse=True)
def review_days(settings):
    settings.RISK_REVIEW_DAYS = dict(REVIEW_DAYS)


@pytest.fixture
def owner(db):
    return UserFactory(username="rita-owner", role="manager")


def _create(owner, **overrides):
    fields = {
        "title": "Database disk failure",
        "category": Risk.Category.HARDWARE,
        "likelihood": 3,
        "impact": 5,
        "residual_likelihood": 2,
        "residual_impact": 3,
        "owner": owner,
    }
    fields.update(overrides)
    return services.risk_create(**fields)


@pytest.mark.parametrize(
    ("score", "level"),
    [
        (1, Level.LOW),
        (4, Level.LOW),
        (5, Level.MEDIUM),
        (9, Level.MEDIUM),
        (10, Level.HIGH),
        (14, Level.HIGH),
        (15, Level.CRITICAL),
        (25, Level.CRITICAL),
    ],
)
def test_the_level_bands_meet_at_4_5_9_10_and_14_15(score, level):
    assert level_for_score(score) == level


@pytest.mark.django_db
def test_it_stores_both_scores_and_takes_the_level_from_the_residual_score(owner):
    risk = _create(owner, likelihood=4, impact=5, residual_likelihood=2, residual_impact=2)

    risk.refresh_from_db()
    assert risk.inherent_score == 20
    assert risk.residual_score == 4
    assert risk.level == Level.LOW
    assert risk.inherent_level == Level.CRITICAL


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("residual", "level"),
    [((2, 2), "low"), ((1, 5), "medium"), ((3, 3), "medium"), ((2, 5), "high"), ((3, 5), "critical")],
)
def test_the_next_review_date_follows_the_cadence_of_the_level(owner, residual, level):
    with time_machine.travel(NOON, tick=False):
        risk = _create(owner, likelihood=5, impact=5, residual_likelihood=residual[0], residual_impact=residual[1])

    assert risk.level == level
    assert risk.next_review_date == TODAY + datetime.timedelta(days=REVIEW_DAYS[level])


@pytest.mark.django_db
def test_the_next_review_counts_from_the_last_review_when_there_was_one(owner):
    reviewed = datetime.date(2026, 1, 5)
    with time_machine.travel(NOON, tick=False):
        risk = _create(owner, residual_likelihood=2, residual_impact=5, last_reviewed_on=reviewed)

    assert risk.level == Level.HIGH
    assert risk.next_review_date == reviewed + datetime.timedelta(days=90)


@pytest.mark.django_db
def test_it_links_services_and_plans(owner):
    service, plan = ServiceFactory(), PlanFactory()

    risk = _create(owner, services=[service], plans=[plan])

    assert list(risk.services.all()) == [service]
    assert list(risk.plans.all()) == [plan]


@pytest.mark.django_db
def test_it_refuses_a_residual_score_above_the_inherent_score_and_saves_nothing(owner):
    with pytest.raises(ValidationError) as caught:
        _create(owner, likelihood=2, impact=2, residual_likelihood=3, residual_impact=2, services=[ServiceFactory()])

    assert "residual_impact" in caught.value.message_dict
    assert Risk.objects.count() == 0


@pytest.mark.django_db
def test_a_residual_score_equal_to_the_inherent_score_is_allowed(owner):
    risk = _create(owner, likelihood=2, impact=3, residual_likelihood=3, residual_impact=2)

    assert risk.residual_score == risk.inherent_score == 6


@pytest.mark.django_db
def test_an_update_that_raises_the_residual_above_inherent_changes_nothing(owner):
    service = ServiceFactory()
    risk = _create(owner, services=[service])

    with pytest.raises(ValidationError):
        services.risk_update(risk=risk, residual_likelihood=5, residual_impact=5, title="Changed", services=[])

    risk.refresh_from_db()
    assert risk.title == "Database disk failure"
    assert risk.residual_score == 6
    assert list(risk.services.all()) == [service]


@pytest.mark.django_db
def test_an_update_recomputes_scores_level_and_review_date(owner):
    with time_machine.travel(NOON, tick=False):
        risk = _create(owner)
        risk = services.risk_update(risk=risk, likelihood=5, impact=5, residual_likelihood=4, residual_impact=4)

    assert (risk.inherent_score, risk.residual_score, risk.level) == (25, 16, Level.CRITICAL)
    assert risk.next_review_date == TODAY + datetime.timedelta(days=30)


@pytest.mark.django_db
def test_marking_reviewed_moves_the_next_review_forward(owner):
    with time_machine.travel(NOON, tick=False):
        risk = _create(owner, residual_likelihood=2, residual_impact=5, last_reviewed_on=datetime.date(2025, 1, 1))
    assert risk.review_overdue

    later = datetime.datetime(2026, 4, 1, 9, 0, tzinfo=datetime.UTC)
    with time_machine.travel(later, tick=False):
        risk = services.risk_mark_reviewed(risk=risk)
        assert not risk.review_overdue

    assert risk.last_reviewed_on == datetime.date(2026, 4, 1)
    assert risk.next_review_date == datetime.date(2026, 4, 1) + datetime.timedelta(days=90)


@pytest.mark.django_db
def test_delete_removes_the_risk(owner):
    risk = _create(owner)

    services.risk_delete(risk=risk)

    assert not Risk.objects.filter(pk=risk.pk).exists()


# --- reminders -------------------------------------------------------------------------------


def _overdue_risk(owner, **kwargs):
    """A risk whose next review was due before TODAY."""
    risk = RiskFactory(owner=owner, last_reviewed_on=datetime.date(2024, 1, 1), **kwargs)
    assert risk.next_review_date < TODAY
    return risk


@pytest.mark.django_db
def test_it_reminds_the_owner_of_an_overdue_review(owner):
    risk = _overdue_risk(owner, title="Core switch failure")

    with time_machine.travel(NOON, tick=False):
        sent = services.remind_overdue_reviews()

    assert sent == 1
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [owner.email]
    assert "Core switch failure" in message.subject
    assert f"/risks/{risk.pk}/" in message.body


@pytest.mark.django_db
def test_it_does_not_remind_about_risks_that_are_not_yet_due(owner):
    with time_machine.travel(NOON, tick=False):
        _create(owner)  # next review months away
        # Low level (365 days), reviewed a year ago: due today, not yet overdue.
        RiskFactory(
            owner=owner, residual_likelihood=1, residual_impact=2, last_reviewed_on=TODAY - datetime.timedelta(days=365)
        )
        sent = services.remind_overdue_reviews()

    assert sent == 0
    assert mail.outbox == []


@pytest.mark.django_db
def test_running_twice_on_the_same_day_sends_one_reminder(owner):
    _overdue_risk(owner)

    with time_machine.travel(NOON, tick=False):
        services.remind_overdue_reviews()
    with time_machine.travel(NOON + datetime.timedelta(hours=5), tick=False):
        services.remind_overdue_reviews()

    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_it_reminds_again_the_next_day_while_the_review_stays_overdue(owner):
    _overdue_risk(owner)

    with time_machine.travel(NOON, tick=False):
        services.remind_overdue_reviews()
    with time_machine.travel(NOON + datetime.timedelta(days=1), tick=False):
        services.remind_overdue_reviews()

    assert len(mail.outbox) == 2


@pytest.mark.django_db
def test_a_reviewed_risk_gets_no_more_reminders(owner):
    risk = _overdue_risk(owner)
    with time_machine.travel(NOON, tick=False):
        services.remind_overdue_reviews()
        services.risk_mark_reviewed(risk=risk)
    with time_machine.travel(NOON + datetime.timedelta(days=1), tick=False):
        sent = services.remind_overdue_reviews()

    assert sent == 0
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_each_overdue_risk_gets_its_own_reminder_to_its_own_owner(owner):
    other = UserFactory(username="otto-ops", role="it_operations")
    _overdue_risk(owner)
    _overdue_risk(other)

    with time_machine.travel(NOON, tick=False):
        sent = services.remind_overdue_reviews()

    assert sent == 2
    assert sorted(m.to[0] for m in mail.outbox) == sorted([owner.email, other.email])
