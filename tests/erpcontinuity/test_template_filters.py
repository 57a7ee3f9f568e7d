"""Shared template filters: durations read the way the RTO next to them does."""

import pytest

from erpcontinuity.templatetags.erpc import minutes, seconds


@pytest.mark.parametrize(
    ("value", "shown"),
    [(0.04, "0.0 s"), (4.27, "4.3 s"), (95, "95 s"), (1626, "27 min"), (7300, "2 h 2 min"), (None, "—"), ("x", "—")],
)
def test_a_measured_duration_in_seconds(value, shown):
    assert seconds(value) == shown


def test_minutes_of_a_target():
    assert minutes(45) == "45 min" and minutes(240) == "4 h" and minutes(None) == "—"
