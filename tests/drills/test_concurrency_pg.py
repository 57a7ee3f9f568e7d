"""Two transitions of one drill at once, with real threads on PostgreSQL: the row lock
(select_for_update in drills.services) gives one winner and one clear refusal."""

import pytest
from django.core.exceptions import ValidationError

from drills import services
from drills.models import Drill
from tests.incidents.test_concurrency_pg import run_together

from .factories import make_drill

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_complete_and_cancel_at_once_one_wins_the_other_is_refused():
    drill = make_drill()
    services.drill_transition(drill=drill, to=Drill.Status.RUNNING)
    results, errors = run_together(
        lambda: services.drill_transition(drill=drill, to=Drill.Status.COMPLETED, hypothesis_held=True),
        lambda: services.drill_transition(drill=drill, to=Drill.Status.CANCELLED, reason="Real outage"),
    )
    winners = [r for r in results if r is not None]
    refused = [e for e in errors if e is not None]
    assert len(winners) == 1 and len(refused) == 1
    assert isinstance(refused[0], ValidationError)
    assert "cannot become" in refused[0].message_dict["status"][0]
    drill.refresh_from_db()
    assert drill.status == winners[0].status
    # Exactly one of the two sets of fields was written.
    assert (drill.completed_at is None) != (drill.cancelled_at is None)


def test_two_starts_of_one_step_record_it_once():
    drill = make_drill(steps=(10,))
    services.drill_transition(drill=drill, to=Drill.Status.RUNNING)
    step = drill.plan_version.steps.get()
    results, errors = run_together(
        lambda: services.step_start(drill=drill, step_id=step.pk),
        lambda: services.step_start(drill=drill, step_id=step.pk),
    )
    assert sum(r is not None for r in results) == 1
    assert sum(isinstance(e, ValidationError) for e in errors) == 1
    assert drill.step_records.count() == 1
