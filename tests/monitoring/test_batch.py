"""HTTP and TCP checks probed concurrently in batches by one task."""

import socket
from unittest import mock

import pytest

from incidents.models import Alert
from monitoring import probes, services
from monitoring.models import Check, Sample
from tests.monitoring.test_services import http_server, make_check  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db


def test_a_batch_probes_http_and_tcp_checks_and_records_each_result(http_server):  # noqa: F811
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    closed_port = closed.getsockname()[1]
    closed.close()
    try:
        healthy = make_check(settings={"url": http_server + "/", "body_contains": "ready"})
        broken = make_check(name="Broken", settings={"url": http_server + "/broken"})
        slow = make_check(name="Slow", settings={"url": http_server + "/slow", "timeout": 0.3})
        tcp = make_check(name="DB port", kind="tcp", settings={"host": "127.0.0.1", "port": port})
        tcp_down = make_check(name="Down", kind="tcp", settings={"host": "127.0.0.1", "port": closed_port})
        ids = [healthy.pk, broken.pk, slow.pk, tcp.pk, tcp_down.pk]
        assert services.run_batch(check_ids=ids) == 5
    finally:
        listener.close()
    by_check = {s.monitor_check_id: s for s in Sample.objects.all()}
    assert by_check[healthy.pk].value > 0 and by_check[healthy.pk].error == ""
    assert by_check[broken.pk].error == "status 500, expected 200"
    assert "timed out" in by_check[slow.pk].error
    assert by_check[tcp.pk].value > 0
    assert "cannot connect" in by_check[tcp_down.pk].error
    states = dict(Check.objects.values_list("pk", "state"))
    assert states[healthy.pk] == "ok" and states[broken.pk] == "unknown"
    assert set(Alert.objects.values_list("fingerprint", flat=True)) == {
        f"check-{pk}" for pk in (broken.pk, slow.pk, tcp_down.pk)
    }


def test_a_batch_records_in_a_few_queries_whatever_its_size(django_assert_max_num_queries):
    checks = [make_check(name=f"c{i}", settings={"url": "http://127.0.0.1:1/"}) for i in range(30)]
    results = [(c.pk, 12.5, "") for c in checks]
    # One lock query, one bulk INSERT, one bulk UPDATE of the states, and the transaction.
    with django_assert_max_num_queries(6):
        assert services.record_many(results=results) == 30
    assert Sample.objects.count() == 30


def test_a_batch_skips_paused_and_deleted_checks(http_server):  # noqa: F811
    paused = make_check(settings={"url": http_server + "/"}, paused=True)
    with mock.patch.object(probes, "run_many", wraps=probes.run_many) as run_many:
        assert services.run_batch(check_ids=[paused.pk, 999_999]) == 0
    run_many.assert_not_called()
