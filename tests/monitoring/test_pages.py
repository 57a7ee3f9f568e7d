"""Monitoring pages: roles, the check list (filters, search, query count), the check page (masked
settings, chart, samples), pause/resume and run now through the services."""

import datetime
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone

from monitoring import services
from monitoring.models import Check, Sample
from tests.factories import ServiceFactory

pytestmark = pytest.mark.django_db

LIST = "/monitoring/"


def _check(**fields):
    defaults = {
        "name": "Stuck orders",
        "kind": "sql",
        "settings": {"database_url": "postgres://erp:s3cret@db:5432/erp", "query": "SELECT count(*) FROM orders"},
        "warning_threshold": 10,
        "critical_threshold": 50,
    }
    defaults.update(fields)
    defaults.setdefault("service", ServiceFactory())
    return services.check_create(**defaults)


def _http_check(**fields):
    return _check(
        **{"kind": "http", "settings": {"url": "https://erp.example/health"}, "warning_threshold": None, **fields}
    )


@pytest.mark.parametrize(
    ("role", "code"),
    [("administrator", 200), ("it_operations", 200), ("manager", 200), ("business_user", 403)],
)
def test_the_list_and_the_check_page_follow_the_roles(role_clients, role, code):
    check = _check()
    assert role_clients[role].get(LIST).status_code == code
    assert role_clients[role].get(reverse("monitoring:check-detail", args=[check.pk])).status_code == code


def test_the_pages_ask_anonymous_users_to_log_in(client):
    check = _check()
    for url in (LIST, reverse("monitoring:check-detail", args=[check.pk])):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    response = client.post(reverse("monitoring:check-pause", args=[check.pk]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_nav_shows_monitoring_to_whoever_may_see_checks(manager_client, business_client):
    assert 'href="/monitoring/"' in manager_client.get("/dashboard/").content.decode()
    assert 'href="/monitoring/"' not in business_client.get("/status/").content.decode()


def test_the_list_shows_state_badges_last_value_and_paused(manager_client):
    critical = _check(name="Stuck orders")
    Check.objects.filter(pk=critical.pk).update(state="critical", last_value=73.5, last_run_at=timezone.now())
    _http_check(name="Shop front", paused=True)
    page = manager_client.get(LIST).content.decode()
    assert "Stuck orders" in page and "Shop front" in page
    assert 'class="badge bad">Critical' in page and "73.5" in page
    assert "paused" in page


def test_the_list_filters_by_state_kind_and_service_and_searches(manager_client):
    sales = ServiceFactory(name="Sales")
    sql = _check(name="Stuck orders", service=sales)
    Check.objects.filter(pk=sql.pk).update(state="warning")
    _http_check(name="Shop front")
    by_state = manager_client.get(LIST, {"state": "warning"}).content.decode()
    assert "Stuck orders" in by_state and "Shop front" not in by_state
    by_kind = manager_client.get(LIST, {"kind": "http"}).content.decode()
    assert "Shop front" in by_kind and "Stuck orders" not in by_kind
    by_service = manager_client.get(LIST, {"service": sales.pk}).content.decode()
    assert "Stuck orders" in by_service and "Shop front" not in by_service
    by_search = manager_client.get(LIST, {"q": "shop"}).content.decode()
    assert "Shop front" in by_search and "Stuck orders" not in by_search


def test_unknown_filter_values_are_ignored(manager_client):
    _check(name="Stuck orders")
    page = manager_client.get(LIST, {"state": "nonsense", "kind": "x", "service": "abc", "page": "zz"})
    assert page.status_code == 200 and "Stuck orders" in page.content.decode()


def test_the_list_query_count_is_constant_as_checks_grow(manager_client, django_assert_max_num_queries):
    _check()
    # session, user, user permissions, group permissions, count, checks with their services,
    # counts per state, services having checks (filter), the user's groups (nav).
    with django_assert_max_num_queries(10) as few:
        manager_client.get(LIST)
    for _ in range(10):
        _http_check(name="Another")
    with django_assert_max_num_queries(len(few.captured_queries)):
        manager_client.get(LIST)


def test_the_check_page_masks_the_database_password_and_draws_the_chart(ops_client):
    check = _check()
    now = timezone.now()
    for minutes, value in [(600, 4), (300, 12), (30, 60)]:
        Sample.objects.create(monitor_check=check, at=now - datetime.timedelta(minutes=minutes), value=value)
    Sample.objects.create(
        monitor_check=check, at=now - datetime.timedelta(minutes=5), error="timed out", status="unknown"
    )
    response = ops_client.get(reverse("monitoring:check-detail", args=[check.pk]))
    page = response.content.decode()
    assert response.status_code == 200
    assert "s3cret" not in page and "erp:***@db" in page
    assert "<svg" in page and 'stroke-dasharray="6 4"' in page and ">Critical threshold</text>" in page
    assert "timed out" in page and "Run now" in page and "Pause" in page


def test_the_check_page_without_samples_says_so(manager_client):
    check = _check()
    page = manager_client.get(reverse("monitoring:check-detail", args=[check.pk])).content.decode()
    assert "<svg" not in page and "No value in the last 24 hours." in page


def test_the_page_of_a_missing_check_is_404(ops_client):
    assert ops_client.get(reverse("monitoring:check-detail", args=[999999])).status_code == 404


def test_pause_and_resume_go_through_the_service(ops_client):
    check = _check()
    url = reverse("monitoring:check-pause", args=[check.pk])
    with mock.patch("monitoring.views.services.check_set_paused", wraps=services.check_set_paused) as spy:
        response = ops_client.post(url, {"paused": "1"})
        assert response.status_code == 302 and response["Location"] == reverse(
            "monitoring:check-detail", args=[check.pk]
        )
        check.refresh_from_db()
        assert check.paused
        page = ops_client.get(response["Location"]).content.decode()
        assert "Resume" in page and "Run now" not in page
        ops_client.post(url, {"paused": "0"})
    check.refresh_from_db()
    assert not check.paused and check.next_run_at is not None
    assert [c.kwargs["paused"] for c in spy.call_args_list] == [True, False]


def test_run_now_queues_a_run_through_the_service(ops_client, django_capture_on_commit_callbacks):
    check = _http_check()
    with (
        mock.patch("monitoring.tasks.run_check.delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = ops_client.post(reverse("monitoring:check-run", args=[check.pk]))
    assert response.status_code == 302
    delay.assert_called_once_with(check.pk)


def test_a_log_check_of_pushed_lines_can_be_run_now(ops_client, django_capture_on_commit_callbacks):
    check = _check(kind="log_pattern", settings={"pattern": "ERROR"}, name="Errors in the log", warning_threshold=1)
    with (
        mock.patch("monitoring.tasks.run_check.delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        ops_client.post(reverse("monitoring:check-run", args=[check.pk]), follow=True)
    delay.assert_called_once_with(check.pk)


def test_actions_need_a_post(ops_client):
    check = _check()
    assert ops_client.get(reverse("monitoring:check-pause", args=[check.pk])).status_code == 405
    assert ops_client.get(reverse("monitoring:check-run", args=[check.pk])).status_code == 405


@pytest.mark.parametrize("role", ["manager", "business_user"])
def test_only_those_who_may_change_checks_may_pause_or_run_them(role_clients, role):
    check = _check()
    client = role_clients[role]
    with mock.patch("monitoring.tasks.run_check.delay") as delay:
        assert client.post(reverse("monitoring:check-pause", args=[check.pk])).status_code == 403
        assert client.post(reverse("monitoring:check-run", args=[check.pk])).status_code == 403
    check.refresh_from_db()
    assert not check.paused
    delay.assert_not_called()
    if role == "manager":
        page = client.get(reverse("monitoring:check-detail", args=[check.pk])).content.decode()
        assert "Run now" not in page and "Pause" not in page


def test_the_list_counts_checks_per_state_and_refreshes_its_table_alone(manager_client):
    services.record(check=_check(name="Green"), value=1)
    services.record(check=_http_check(name="Red"), value=None, error="refused")
    _http_check(name="New")
    page = manager_client.get(LIST).content.decode()
    assert 'data-refresh-seconds="30"' in page
    partial = manager_client.get(LIST + "?partial=1&state=unknown").content.decode()
    assert "<html" not in partial and "Red" in partial and "Green" not in partial
    assert '<span class="badge bad">Unknown</span> 2' in partial  # a new check is unknown until run


def test_the_dashboard_block_lists_checks_not_ok_worst_first():
    from django.template.loader import render_to_string

    from monitoring.selectors import checks_not_ok

    services.record(check=_check(name="Fine"), value=1)
    services.record(check=_check(name="Stuck A"), value=60)  # critical
    services.record(check=_http_check(name="Portal"), value=None, error="refused")  # unknown
    _http_check(name="Quiet", paused=True)
    summary = checks_not_ok()
    assert summary["count"] == 2 and [c.name for c in summary["checks"]] == ["Stuck A", "Portal"]
    html = render_to_string("monitoring/_dashboard.html", {"monitoring_not_ok": summary})
    assert "Stuck A" in html and "Fine" not in html and "Quiet" not in html


def test_the_demo_checks_load_once_and_pass_validation():
    import io

    from monitoring import demo

    for code in ("erp-continuity", "erp-db", "erp-app", "identity", "finance", "sales"):
        ServiceFactory(code=code)
    with mock.patch.object(demo, "_own_database_url", return_value="sqlite:////tmp/erpc.sqlite3"):
        demo.load(io.StringIO())
        demo.load(io.StringIO())
    assert Check.objects.count() == len(demo.CHECKS) + 1
    assert set(Check.objects.values_list("kind", flat=True)) == set(Check.Kind.values)
    assert Sample.objects.filter(monitor_check__kind="prometheus").count() == demo.HISTORY_DAYS * 96


def test_the_check_page_lists_the_alerts_and_incidents_it_raised(ops_client, django_assert_max_num_queries):
    check = _http_check(name="Portal")
    services.record(check=check, value=None, error="refused")
    services.record(check=check, value=12)
    services.record(check=check, value=None, error="timed out")
    with django_assert_max_num_queries(14):
        page = ops_client.get(check.get_absolute_url()).content.decode()
    # Two firings (the first resolved by the good result between them), each on the page.
    assert "Portal is Unknown: refused" in page and "Portal is Unknown: timed out" in page
    for incident in check.service.incidents.all():
        assert incident.get_absolute_url() in page


def test_values_show_the_unit_their_kind_fixes(ops_client):
    service = ServiceFactory()
    http = services.check_create(service=service, name="Web", kind="http", settings={"url": "http://erp.example/"})
    services.record(check=http, value=42.5)
    heartbeat = services.check_create(
        service=service, name="Export", kind="heartbeat", settings={"every_minutes": 60, "grace_minutes": 5}
    )
    page = ops_client.get(http.get_absolute_url()).content.decode()
    assert "42.5 ms" in page
    assert heartbeat.unit == "min" and Check(kind="event_rule").unit == ""
