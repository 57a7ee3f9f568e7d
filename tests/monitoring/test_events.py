"""Log pattern checks (a real log file read incrementally, pushed lines) and security and
behaviour rules over pushed events."""

import datetime
import os

import pytest
import time_machine
from django.utils import timezone

from incidents.models import Alert
from monitoring import probes, services
from monitoring.models import Check, Event
from tests.factories import ServiceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def log_dir(tmp_path, settings):
    settings.MONITORING_LOG_DIRS = [str(tmp_path)]
    return tmp_path


def log_check(service, path="", **fields):
    settings = {"pattern": r"ORA-\d{5}|deadlock", "window_minutes": 5}
    if path:
        settings["path"] = str(path)
    defaults = {"service": service, "name": "ERP log errors", "kind": "log_pattern", "settings": settings}
    defaults.update(warning_threshold=1, critical_threshold=5)
    defaults.update(fields)
    return services.check_create(**defaults)


def append(path, text):
    with open(path, "a", encoding="utf-8") as f:
        f.write(text)


def run(check, at):
    return services.run_check(check_id=check.pk, now=at)


# --- Log file ---


def test_a_log_check_counts_new_matching_lines_of_its_file(log_dir):
    path = log_dir / "erp.log"
    path.write_text("ORA-00060 old error before the check existed\n")
    check = log_check(ServiceFactory(), path)
    now = timezone.now()
    assert run(check, now).value == 0  # starts at the end: old lines are not new errors

    append(path, "INFO order 1 saved\nERROR ORA-00060: deadlock detected\nERROR ORA-01555 snapshot too old\n")
    sample = run(check, now + datetime.timedelta(minutes=1))
    assert sample.value == 2 and sample.status == "warning"
    assert Event.objects.filter(monitor_check=check).count() == 2  # only matching lines are kept

    # Read again with nothing new: the window still holds the two matches, no line is counted twice.
    assert run(check, now + datetime.timedelta(minutes=2)).value == 2
    # Outside the window they no longer count.
    assert run(check, now + datetime.timedelta(minutes=7)).value == 0


def test_a_half_written_line_is_read_when_it_is_complete(log_dir):
    path = log_dir / "erp.log"
    path.write_text("")
    check = log_check(ServiceFactory(), path)
    now = timezone.now()
    run(check, now)
    append(path, "ERROR ORA-000")
    assert run(check, now).value == 0
    append(path, "60 deadlock\n")
    assert run(check, now).value == 1


def test_a_rotated_or_truncated_file_is_read_from_its_start(log_dir):
    path = log_dir / "erp.log"
    path.write_text("x" * 500 + "\n")
    check = log_check(ServiceFactory(), path)
    now = timezone.now()
    run(check, now)
    # Rotation: the file is renamed and a new (shorter) one takes its name.
    os.rename(path, log_dir / "erp.log.1")
    path.write_text("deadlock one\n")
    assert run(check, now).value == 1
    # Truncation in place (copytruncate), then as many bytes written again as were read before.
    path.write_text("")
    append(path, "deadlock two\n")
    assert run(check, now).value == 2
    # Truncation to a smaller file.
    path.write_text("deadlock 3\n")
    assert run(check, now).value == 3


def test_an_unreadable_log_file_is_an_unknown_result(log_dir):
    check = log_check(ServiceFactory(), log_dir / "missing.log", breaches_to_fire=1)
    sample = run(check, timezone.now())
    assert sample.value is None and "cannot read" in sample.error
    check.refresh_from_db()
    assert check.state == "unknown"


def test_a_log_check_cannot_read_files_outside_the_allowed_directories(log_dir):
    with pytest.raises(Exception) as e:
        log_check(ServiceFactory(), "/etc/shadow")
    assert "settings.path" in e.value.message_dict


def test_a_log_check_refuses_a_bad_regular_expression():
    with pytest.raises(Exception) as e:
        log_check(ServiceFactory(), settings={"pattern": "ORA-(\\d+"})
    assert "settings.pattern" in e.value.message_dict


# --- Pushed log lines ---


def test_pushed_log_lines_feed_the_log_checks_of_their_service_and_raise_an_alert():
    service, other = ServiceFactory(code="erp-core"), ServiceFactory(code="erp-hr")
    check = log_check(service)
    services.ingest_events(
        events=[{"kind": "log", "service": "erp-core", "message": f"PG 40P01 deadlock detected #{i}"} for i in range(6)]
        + [
            {"kind": "log", "service": "erp-core", "message": "INFO all good"},
            {"kind": "log", "service": "erp-hr", "message": "deadlock elsewhere"},
        ]
    )
    sample = run(check, timezone.now())
    assert sample.value == 6 and sample.status == "critical"
    alert = Alert.objects.get(source="monitoring", fingerprint=f"check-{check.pk}")
    assert alert.severity == "sev2" and alert.service == service
    assert other.checks.count() == 0


@pytest.mark.parametrize(
    ("item", "field"),
    [
        ({"kind": "log", "service": "nope", "message": "x"}, "events[1].service"),
        ({"kind": "log", "service": "erp-core"}, "events[1].message"),
        ({"kind": "sudo", "service": "erp-core"}, "events[1].kind"),
        ({"kind": "deletion", "service": "erp-core", "at": "yesterday"}, "events[1].at"),
        ({"kind": "deletion", "service": "erp-core", "at": "2026-01-01T10:00:00"}, "events[1].at"),
        ({"kind": "deletion", "service": "erp-core", "user": 7}, "events[1].user"),
        ({"kind": "deletion", "service": "erp-core", "colour": "red"}, "events[1].colour"),
        ("not an object", "events[1].kind"),
    ],
)
def test_a_bad_event_names_its_index_and_field_and_nothing_is_written(item, field):
    ServiceFactory(code="erp-core")
    good = {"kind": "login_failure", "service": "erp-core", "user": "jdoe"}
    with pytest.raises(Exception) as e:
        services.ingest_events(events=[good, item, good])
    assert field in e.value.message_dict
    assert Event.objects.count() == 0


def test_the_events_api_takes_a_batch_and_answers_400_naming_a_bad_item(ops_client, business_client):
    ServiceFactory(code="erp-core")
    url = "/api/events/"
    batch = {
        "events": [
            {"kind": "log", "service": "erp-core", "message": "ORA-00060", "at": "2026-03-02T10:00:00Z"},
            {"kind": "privileged_operation", "service": "erp-core", "user": "root", "source": "10.0.0.9"},
        ]
    }
    assert ops_client.post(url, batch, content_type="application/json").json() == {"written": 2}
    assert Event.objects.count() == 2
    bad = {"events": [*batch["events"], {"kind": "deletion", "service": "erp-crm"}]}
    response = ops_client.post(url, bad, content_type="application/json")
    assert response.status_code == 400 and "events[2].service" in response.content.decode()
    assert Event.objects.count() == 2
    assert ops_client.post(url, {"events": []}, content_type="application/json").status_code == 400
    assert business_client.post(url, batch, content_type="application/json").status_code == 403


def test_the_events_api_is_in_the_openapi_schema(ops_client):
    schema = ops_client.get("/api/schema/?format=json").json()
    assert "/api/events/" in schema["paths"]
    assert any(name.startswith("EventBatch") for name in schema["components"]["schemas"])


# --- Security and behaviour rules ---


def rule_check(service, **settings):
    fields = {"warning_threshold": settings.pop("warning", None), "critical_threshold": settings.pop("critical", None)}
    return services.check_create(
        service=service, name="Rule", kind="event_rule", settings={"window_minutes": 15, **settings}, **fields
    )


def push(kind, n=1, **fields):
    services.ingest_events(events=[{"kind": kind, "service": "erp-core", **fields} for _ in range(n)])


def test_login_failures_per_user_above_a_threshold_breach():
    service = ServiceFactory(code="erp-core")
    check = rule_check(service, event="login_failure", group_by="user", critical=4)
    push("login_failure", 3, user="alice")
    push("login_failure", 3, user="bob", source="10.0.0.1")
    assert run(check, timezone.now()).status == "ok"  # 3 each: no single user above 4
    push("login_failure", 2, user="bob", source="10.0.0.2")
    sample = run(check, timezone.now())
    assert sample.value == 5 and sample.status == "critical"
    # Ungrouped, the same events count together.
    assert services.event_rule_value(check=rule_check(service, event="login_failure", critical=4)) == 8


@pytest.mark.parametrize(
    ("group_by", "offender"),
    [("user", "user 'sysadm'"), ("source", "source '10.0.0.66'")],
)
def test_a_grouped_rule_alert_names_the_offender_and_its_count(group_by, offender):
    service = ServiceFactory(code="erp-core")
    check = rule_check(service, event="login_failure", group_by=group_by, critical=4)
    check.name = "Login failures per " + group_by
    check.save()
    push("login_failure", 3, user="alice", source="10.0.0.1")
    push("login_failure", 6, user="sysadm", source="10.0.0.66")
    assert run(check, timezone.now()).status == "critical"
    alert = Alert.objects.get(source="monitoring", fingerprint=f"check-{check.pk}")
    assert alert.summary == f"Login failures per {group_by} is Critical: 6 login failures by {offender} in 15 min"
    assert alert.details["offender"] == {group_by: offender.split("'")[1], "count": 6}


def test_an_outside_hours_alert_names_the_users_and_times_of_a_few_operations(settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    service = ServiceFactory(code="erp-core")
    check = rule_check(service, event="privileged_operation", rule="outside_hours", window_minutes=600)
    tz = timezone.get_default_timezone()
    saturday = datetime.datetime(2026, 3, 7, 9, 0, tzinfo=tz)
    with time_machine.travel(saturday + datetime.timedelta(hours=6), tick=False):
        for minutes, user in [(0, "root"), (30, "sysadm"), (45, "root"), (60, "dba"), (90, "jdoe")]:
            push("privileged_operation", user=user, at=(saturday + datetime.timedelta(minutes=minutes)).isoformat())
        assert run(check, timezone.now()).status == "critical"
    alert = Alert.objects.get(source="monitoring", fingerprint=f"check-{check.pk}")
    assert alert.summary == (
        "Rule is Critical: 5 privileged operations outside working hours: 'root' at 2026-03-07 09:00, "
        "'sysadm' at 2026-03-07 09:30, 'root' at 2026-03-07 09:45 and 2 more"
    )
    assert [op["user"] for op in alert.details["outside_hours"]] == ["root", "sysadm", "root"]


def test_a_single_operation_outside_hours_is_named_without_more(settings):
    settings.TIME_ZONE = "UTC"
    check = rule_check(ServiceFactory(code="erp-core"), event="privileged_operation", rule="outside_hours")
    at = datetime.datetime(2026, 3, 3, 22, 15, tzinfo=datetime.UTC)  # Tuesday night
    with time_machine.travel(at + datetime.timedelta(minutes=1), tick=False):
        push("privileged_operation", source="10.0.0.9", at=at.isoformat())  # no user: the source names it
        run(check, timezone.now())
    alert = Alert.objects.get(source="monitoring", fingerprint=f"check-{check.pk}")
    assert (
        alert.summary
        == "Rule is Critical: 1 privileged operation outside working hours: '10.0.0.9' at 2026-03-03 22:15"
    )


def test_deletions_are_counted_per_window_only():
    service = ServiceFactory(code="erp-core")
    check = rule_check(service, event="deletion", warning=1)
    old = (timezone.now() - datetime.timedelta(minutes=30)).isoformat()
    push("deletion", 5, at=old)
    assert run(check, timezone.now()).value == 0
    push("deletion", 2)
    assert run(check, timezone.now()).value == 2


@pytest.mark.parametrize(
    ("local_time", "expected"),
    [
        ("2026-03-03 10:00", "ok"),  # Tuesday in working hours
        ("2026-03-03 07:59", "critical"),  # Tuesday before work
        ("2026-03-03 18:00", "critical"),  # the end is excluded
        ("2026-03-07 11:00", "critical"),  # Saturday
    ],
)
def test_any_privileged_operation_outside_working_hours_breaches(settings, local_time, expected):
    settings.TIME_ZONE = "Asia/Shanghai"
    service = ServiceFactory(code="erp-core")
    check = rule_check(
        service, event="privileged_operation", rule="outside_hours", work_start="08:00", work_end="18:00"
    )
    tz = timezone.get_default_timezone()
    at = datetime.datetime.strptime(local_time, "%Y-%m-%d %H:%M").replace(tzinfo=tz)
    with time_machine.travel(at + datetime.timedelta(minutes=1), tick=False):
        push("privileged_operation", user="root", at=at.isoformat())
        assert run(check, timezone.now()).status == expected


@pytest.mark.parametrize(
    ("rule_settings", "field"),
    [
        ({"event": "coffee"}, "settings.event"),
        ({"event": "log"}, "settings.event"),
        ({"event": "deletion", "rule": "sometimes"}, "settings.rule"),
        ({"event": "deletion", "group_by": "colour"}, "settings.group_by"),
        ({"event": "privileged_operation", "rule": "outside_hours", "work_start": "8h"}, "settings.work_start"),
        ({"event": "privileged_operation", "rule": "outside_hours", "work_days": [0, 9]}, "settings.work_days"),
        ({"event": "deletion", "window_minutes": -5}, "settings.window_minutes"),
    ],
)
def test_a_rule_with_bad_settings_names_the_setting(rule_settings, field):
    with pytest.raises(Exception) as e:
        rule_check(ServiceFactory(), warning=1, **rule_settings)
    assert field in e.value.message_dict


def test_a_count_rule_needs_a_threshold():
    with pytest.raises(Exception) as e:
        rule_check(ServiceFactory(), event="deletion")
    assert "warning_threshold" in e.value.message_dict


def test_retention_drops_old_events_in_bulk():
    ServiceFactory(code="erp-core")
    push("deletion", 3, at=(timezone.now() - datetime.timedelta(days=40)).isoformat())
    push("deletion", 2)
    result = services.apply_retention()
    assert result["events"] == 3 and Event.objects.count() == 2
    assert services.apply_retention()["events"] == 0


def test_a_rule_check_is_polled_and_its_probe_never_touches_the_network():
    check = rule_check(ServiceFactory(code="erp-core"), event="deletion", warning=1)
    assert check.kind in Check.POLLED_KINDS
    assert probes.run_probe(check) == (0.0, "")


def test_pushed_events_make_the_checks_they_feed_due_at_once_and_no_others():
    service, other = ServiceFactory(code="erp-core"), ServiceFactory(code="erp-other")
    rule = rule_check(service, event="login_failure", critical=4)
    logs = log_check(service)
    elsewhere = rule_check(other, event="login_failure", critical=4)
    later = timezone.now() + datetime.timedelta(minutes=5)
    Check.objects.update(next_run_at=later)

    push("login_failure", 5, user="sysadm")
    due = set(Check.objects.filter(next_run_at__lte=timezone.now()).values_list("pk", flat=True))
    assert due == {rule.pk}  # not the log check of the same service, not the other service's rule
    assert set(services.claim_due_checks()) == {rule.pk}

    services.ingest_events(events=[{"kind": "log", "service": "erp-core", "message": "ORA-00060: deadlock"}])
    assert Check.objects.get(pk=logs.pk).next_run_at <= timezone.now()
    assert Check.objects.get(pk=elsewhere.pk).next_run_at == later


def test_lines_written_just_before_a_rotation_are_read_from_the_rotated_file(log_dir):
    path = log_dir / "erp.log"
    path.write_text("INFO start\n")
    check = log_check(ServiceFactory(), path)
    now = timezone.now()
    assert run(check, now).value == 0
    # The ERP writes two errors (the last without its newline yet), then logrotate renames the file.
    append(path, "ERROR deadlock detected in order 7\nINFO fine\nERROR ORA-00060 in order 8")
    os.rename(path, log_dir / "erp.log.1")
    path.write_text("ERROR deadlock detected in order 9\n")
    assert run(check, now).value == 3
    # Read again: nothing is counted twice, and the rotated file is not read again.
    assert run(check, now).value == 3
    # Compressed or removed rotated files are simply gone: the new file is still read.
    os.remove(log_dir / "erp.log.1")
    os.rename(path, log_dir / "erp.log.2")
    path.write_text("ERROR deadlock in order 10\n")
    assert run(check, now).value == 4
