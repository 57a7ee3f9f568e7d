"""The paired bar chart of the report (erpcontinuity.charts.paired_hbar): planned vs actual."""

from erpcontinuity import charts


def test_it_draws_two_bars_per_step_escapes_labels_and_marks_a_step_not_run():
    svg = str(
        charts.paired_hbar(
            [("1. <Confirm>", 10, 12), ("2. Restore", 30, None)],
            labels=("Planned", "Actual"),
            title="Steps",
            unit=" min",
        )
    )
    assert svg.startswith("<svg") and "&lt;Confirm&gt;" in svg and "<Confirm>" not in svg
    assert svg.count("<rect") == 2 + 4  # legend + two bars per row
    assert "12 min" in svg and "—" in svg  # the actual minutes; the step never run


def test_long_labels_are_shortened_but_kept_whole_in_the_tooltip():
    label = "7. Stop batch jobs, EDI and the bank interface before the restore"
    svg = str(charts.paired_hbar([(label, 5, 5)], labels=("Planned", "Actual")))
    assert f"<title>{label}</title>" in svg and "…" in svg
