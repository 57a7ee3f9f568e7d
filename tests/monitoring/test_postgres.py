"""On PostgreSQL: the claim loop run by two ticks at once, and the SQL probe against a real
PostgreSQL (the test database). Skipped on SQLite (`pytest.mark.postgres`), a failure under CI=true."""

import threading
from unittest import mock

import pytest
from django.db import connections

from monitoring import services
from monitoring.models import Check
from tests.factories import ServiceFactory
from tests.integration.test_alert_to_webhook import _database_url

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _many_due_checks(n: int) -> set[int]:
    service = ServiceFactory()
    rows = [Check(service=service, name=f"c{i}", kind="tcp", settings={"host": "db", "port": 5432}) for i in range(n)]
    return {c.pk for c in Check.objects.bulk_create(rows)}


def test_two_ticks_at_once_never_claim_a_check_twice_for_one_due_time():
    due = _many_due_checks(300)
    claimed: list[list[int]] = [[], []]
    start = threading.Barrier(2)

    def tick(slot: int) -> None:
        try:
            start.wait()
            # Small claims so the two ticks interleave over several rounds.
            for _ in range(20):
                claimed[slot].extend(services.claim_due_checks(limit=25))
        finally:
            connections.close_all()

    with mock.patch("monitoring.tasks.run_batch.delay"), mock.patch("monitoring.tasks.run_check.delay"):
        threads = [threading.Thread(target=tick, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    first, second = claimed
    assert not set(first) & set(second)
    assert len(first) + len(second) == len(due) and set(first) | set(second) == due


def test_a_sql_check_reads_a_number_from_a_real_postgresql_read_only():
    _many_due_checks(3)
    check = services.check_create(
        service=ServiceFactory(),
        name="Checks defined",
        kind="sql",
        settings={"database_url": _database_url(), "query": "SELECT count(*) FROM monitoring_check"},
        warning_threshold=3,
    )
    sample = services.run_check(check_id=check.pk)
    assert sample.error == "" and sample.value == 4 and sample.status == "warning"
    # A query that slipped past validation still cannot write: the transaction is read-only.
    Check.objects.filter(pk=check.pk).update(
        settings={**check.settings, "query": "SELECT count(*) FROM (SELECT nextval('monitoring_check_id_seq')) x"}
    )
    sample = services.run_check(check_id=check.pk)
    assert sample.value is None and "read-only" in sample.error
