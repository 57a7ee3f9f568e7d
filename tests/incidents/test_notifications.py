"""The outbox: written with the event, delivered by deliver(), retried with backoff, swept when a
task was lost, sent once; the channel senders and their signatures; rate-limit digests."""

import base64
import datetime
import hashlib
import hmac
import urllib.parse

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import transaction

from incidents import services
from incidents.models import Notification
from incidents.services import notifications, senders
from tests.factories import ChannelFactory, FallbackFactory

pytestmark = pytest.mark.django_db

T0 = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)


@pytest.fixture
def queued(monkeypatch):
    """Delivery tasks handed to the broker (without a broker)."""
    ids = []
    monkeypatch.setattr(notifications, "enqueue_delivery", lambda batch: ids.extend(batch))
    return ids


def open_incident(sales, severity="sev2"):
    return services.incident_open(title="Sales down", severity=severity, services=[sales])


# --- Writing the outbox ------------------------------------------------------------------------


def test_outbox_rows_are_written_in_the_event_transaction_and_queued_after_commit(
    sales, queued, receiver, django_capture_on_commit_callbacks
):
    ChannelFactory(target=receiver.url)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        incident = open_incident(sales)
        assert Notification.objects.filter(incident=incident, event="opened").count() == 1
        assert queued == []  # nothing reaches the broker before the commit
    assert len(callbacks) == 1
    assert queued == list(Notification.objects.values_list("pk", flat=True))


def test_a_rolled_back_event_leaves_no_notification(sales, queued):
    ChannelFactory()
    with pytest.raises(RuntimeError), transaction.atomic():
        open_incident(sales)
        raise RuntimeError
    assert not Notification.objects.exists() and queued == []


def test_channels_filter_by_severity_audience_drills_and_enabled(sales, queued):
    ops_all = ChannelFactory(name="ops")
    sev1_only = ChannelFactory(name="sev1", min_severity="sev1")
    disabled = ChannelFactory(name="off", enabled=False)
    business = ChannelFactory(name="business", audience="business")
    drills = ChannelFactory(name="drills", include_drills=True)
    incident = open_incident(sales, severity="sev2")
    names = set(Notification.objects.filter(incident=incident).values_list("channel__name", flat=True))
    assert names == {ops_all.name, business.name, drills.name}
    assert sev1_only.name not in names and disabled.name not in names
    services.incident_acknowledge(incident=incident, user=None)
    acked = set(Notification.objects.filter(event="acknowledged").values_list("channel__name", flat=True))
    assert acked == {"ops", "drills"}  # business users do not hear about acknowledgements
    drill = services.incident_open(title="Drill", severity="sev2", services=[sales], is_drill=True)
    assert set(Notification.objects.filter(incident=drill).values_list("channel__name", flat=True)) == {"drills"}


def test_messages_carry_title_severity_services_link_and_fallbacks_for_business(sales, queued, settings):
    settings.SITE_URL = "https://erpc.example.com"
    FallbackFactory(service=sales, title="Take orders on paper")
    ChannelFactory(name="business", audience="business")
    incident = open_incident(sales)
    payload = Notification.objects.get().payload
    assert payload["title"] == "Sales down" and payload["severity"] == "sev2"
    assert payload["services"] == ["Sales"]
    assert payload["url"] == f"https://erpc.example.com/incidents/{incident.pk}/"
    assert payload["fallbacks"][0]["title"] == "Take orders on paper"
    assert payload["fallbacks"][0]["url"].startswith("https://erpc.example.com/")
    message = notifications.render(Notification.objects.get())
    assert "[SEV2]" in message.title and f"INC-{incident.pk}" in message.title
    assert "Take orders on paper" in message.text()


# --- Delivering --------------------------------------------------------------------------------


def test_deliver_posts_the_webhook_and_marks_it_sent_once(sales, queued, receiver):
    ChannelFactory(name="hook", target=receiver.url + "/hook")
    incident = open_incident(sales)
    row = Notification.objects.get()
    assert services.deliver(notification_id=row.pk) == "sent"
    assert services.deliver(notification_id=row.pk) == "skipped"
    assert len(receiver.requests) == 1
    body = receiver.requests[0]["body"]
    assert body["reference"] == incident.reference and body["severity"] == "sev2" and "Sales down" in body["text"]
    row.refresh_from_db()
    assert row.status == "sent" and row.sent_at and row.attempts == 1
    assert incident.timeline.filter(kind="notification").count() == 1


def test_a_failing_receiver_is_retried_with_exponential_backoff(sales, queued, receiver):
    ChannelFactory(target=receiver.url)
    receiver.replies = [(500, {}), (500, {})]
    with time_machine.travel(T0, tick=False):
        open_incident(sales)
        row = Notification.objects.get()
        assert services.deliver(notification_id=row.pk) == "retry"
    row.refresh_from_db()
    assert row.status == "pending" and row.attempts == 1 and "HTTP 500" in row.last_error
    assert row.next_attempt_at == T0 + datetime.timedelta(seconds=30)
    with time_machine.travel(T0 + datetime.timedelta(seconds=10), tick=False):
        assert services.deliver(notification_id=row.pk) == "skipped"  # not due yet
    with time_machine.travel(T0 + datetime.timedelta(seconds=30), tick=False):
        assert services.deliver(notification_id=row.pk) == "retry"
    row.refresh_from_db()
    assert row.next_attempt_at == T0 + datetime.timedelta(seconds=90)  # 30 s, then 60 s
    with time_machine.travel(T0 + datetime.timedelta(seconds=90), tick=False):
        assert services.deliver(notification_id=row.pk) == "sent"
    assert len(receiver.requests) == 3


def test_it_gives_up_after_the_last_attempt_and_says_so_on_the_timeline(sales, queued, monkeypatch):
    ChannelFactory(target="http://127.0.0.1:9/")  # nothing listens on the discard port
    incident = open_incident(sales)
    row = Notification.objects.get()
    Notification.objects.filter(pk=row.pk).update(attempts=notifications.MAX_ATTEMPTS - 1)
    assert services.deliver(notification_id=row.pk) == "failed"
    row.refresh_from_db()
    assert row.status == "failed" and "Cannot reach" in row.last_error
    assert incident.timeline.filter(kind="notification", data__failed=True).exists()


def test_backoff_doubles_and_is_capped():
    assert [notifications.backoff(n).total_seconds() for n in (1, 2, 3, 8, 20)] == [30, 60, 120, 3600, 3600]


def test_the_sweep_requeues_rows_whose_task_was_lost(sales, queued):
    ChannelFactory()
    with time_machine.travel(T0, tick=False):
        open_incident(sales)
    row = Notification.objects.get()
    queued.clear()  # the broker lost the message
    with time_machine.travel(T0 + datetime.timedelta(seconds=5), tick=False):
        assert services.sweep_outbox() == 0  # too fresh: its own task may still be on its way
    with time_machine.travel(T0 + datetime.timedelta(seconds=15), tick=False):
        assert services.sweep_outbox() == 1
    assert queued == [row.pk]


def test_the_sweep_recovers_a_row_a_dead_worker_left_in_sending(sales, queued, receiver):
    ChannelFactory(target=receiver.url)
    with time_machine.travel(T0, tick=False):
        open_incident(sales)
    row = Notification.objects.get()
    Notification.objects.filter(pk=row.pk).update(
        status="sending", next_attempt_at=T0 + notifications.LEASE, attempts=1
    )
    with time_machine.travel(T0 + datetime.timedelta(minutes=1), tick=False):
        services.sweep_outbox()
    row.refresh_from_db()
    assert row.status == "sending"  # the lease still runs: the worker may be sending it
    with time_machine.travel(T0 + notifications.LEASE + datetime.timedelta(seconds=15), tick=False):
        services.sweep_outbox()
        assert services.deliver(notification_id=row.pk) == "sent"
    assert len(receiver.requests) == 1


def test_with_the_broker_down_incidents_still_open_and_notifications_wait(sales, monkeypatch, receiver):
    """Redis stopped: queuing fails, the incident and its outbox rows are still committed, and the
    sweep delivers them all, once, when the broker is back."""
    from incidents import tasks

    ChannelFactory(target=receiver.url)

    def broker_down(*args, **kwargs):
        raise ConnectionRefusedError("Error 111 connecting to 127.0.0.1:6379")

    monkeypatch.setattr(tasks.deliver_notification, "apply_async", broker_down)
    with time_machine.travel(T0, tick=False):
        incident = open_incident(sales)
        services.incident_acknowledge(incident=incident, user=None)
    assert Notification.objects.filter(status="pending").count() == 2

    delivered = []
    monkeypatch.setattr(
        tasks.deliver_notification,
        "apply_async",
        lambda args, **kw: delivered.append(services.deliver(notification_id=args[0])),
    )
    with time_machine.travel(T0 + datetime.timedelta(minutes=1), tick=False):
        assert services.sweep_outbox() == 2
        assert services.sweep_outbox() == 0
    assert delivered == ["sent", "sent"]
    assert len(receiver.requests) == 2


def test_a_disabled_channel_fails_its_pending_rows_instead_of_sending(sales, queued, receiver):
    channel = ChannelFactory(target=receiver.url)
    open_incident(sales)
    services.channel_update(channel=channel, enabled=False)
    row = Notification.objects.get()
    assert services.deliver(notification_id=row.pk) == "failed"
    assert receiver.requests == []


# --- Rate limit and digest ---------------------------------------------------------------------


def test_over_the_rate_limit_messages_are_folded_into_one_digest_not_dropped(sales, queued, receiver):
    channel = services.channel_create(
        name="DingTalk ops", kind="dingtalk", target=receiver.url + "/robot/send?access_token=x"
    )
    assert channel.rate_limit_per_minute == 20
    services.channel_update(channel=channel, rate_limit_per_minute=2)
    with time_machine.travel(T0, tick=False):
        for i in range(5):
            services.incident_open(title=f"Problem {i}", severity="sev3", services=[sales])
        ids = list(Notification.objects.order_by("id").values_list("pk", flat=True))
        outcomes = [services.deliver(notification_id=pk) for pk in ids]
    # The first message over the limit folds every waiting one: the others find nothing to send.
    assert outcomes == ["sent", "sent", "folded", "skipped", "skipped"]
    digest = Notification.objects.get(event="digest")
    assert digest.status == "pending" and digest.next_attempt_at == T0 + datetime.timedelta(minutes=1)
    assert digest.folded.count() == 3
    with time_machine.travel(T0 + datetime.timedelta(seconds=30), tick=False):
        services.incident_open(title="Problem 5", severity="sev3", services=[sales])
        late = Notification.objects.filter(event="opened").latest("id")
        assert services.deliver(notification_id=late.pk) == "folded"  # joins the waiting digest
    with time_machine.travel(T0 + datetime.timedelta(minutes=1, seconds=1), tick=False):
        assert services.deliver(notification_id=digest.pk) == "sent"
    assert len(receiver.requests) == 3
    text = receiver.requests[2]["body"]["markdown"]["text"]
    assert "4 incident notifications" in text
    for i in (2, 3, 4, 5):
        assert f"Problem {i}" in text
    assert Notification.objects.filter(status="folded").count() == 4


def test_a_digest_due_while_the_window_is_still_full_waits(sales, queued, receiver):
    channel = ChannelFactory(kind="wecom", target=receiver.url, rate_limit_per_minute=1)
    with time_machine.travel(T0, tick=False):
        open_incident(sales)
        services.incident_acknowledge(incident=open_incident(sales), user=None)
        ids = list(Notification.objects.filter(channel=channel).order_by("id").values_list("pk", flat=True))
        assert [services.deliver(notification_id=pk) for pk in ids] == ["sent", "folded", "skipped"]
        digest = Notification.objects.get(event="digest")
        Notification.objects.filter(pk=digest.pk).update(next_attempt_at=T0)
        assert services.deliver(notification_id=digest.pk) == "deferred"
    digest.refresh_from_db()
    assert digest.status == "pending" and digest.next_attempt_at == T0 + datetime.timedelta(minutes=1)


# --- Senders and signatures --------------------------------------------------------------------


def test_dingtalk_messages_are_markdown_and_signed(sales, queued, receiver):
    secret = "SEC0123456789abcdef"
    ChannelFactory(kind="dingtalk", target=receiver.url + "/robot/send?access_token=abc", secret=secret)
    open_incident(sales)
    assert services.deliver(notification_id=Notification.objects.get().pk) == "sent"
    request = receiver.requests[0]
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(request["path"]).query)
    timestamp = query["timestamp"][0]
    expected = base64.b64encode(
        hmac.new(secret.encode("utf-8"), f"{timestamp}\n{secret}".encode(), digestmod=hashlib.sha256).digest()
    ).decode()
    assert query["access_token"] == ["abc"]
    assert query["sign"][0] == expected  # parse_qs undid the URL encoding
    assert "sign=" + urllib.parse.quote_plus(expected) in request["path"]
    assert request["body"]["msgtype"] == "markdown"
    assert "Sales down" in request["body"]["markdown"]["text"]


def test_the_dingtalk_signature_matches_the_documented_example():
    # Independently computed: HMAC-SHA256(key=secret, msg="1700000000000\nsecret"), base64, URL-encoded.
    digest = hmac.new(b"secret", b"1700000000000\nsecret", hashlib.sha256).digest()
    assert senders.dingtalk_sign("secret", 1700000000000) == urllib.parse.quote_plus(base64.b64encode(digest).decode())


def test_feishu_messages_carry_timestamp_and_sign_in_the_body(sales, queued, receiver):
    secret = "feishu-secret"
    ChannelFactory(kind="feishu", target=receiver.url + "/open-apis/bot/v2/hook/x", secret=secret)
    receiver.replies = [(200, {"code": 0, "msg": "success"})]
    open_incident(sales)
    assert services.deliver(notification_id=Notification.objects.get().pk) == "sent"
    body = receiver.requests[0]["body"]
    key = f"{body['timestamp']}\n{secret}".encode()
    assert body["sign"] == base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
    assert body["msg_type"] == "text" and "Sales down" in body["content"]["text"]


def test_a_robot_error_code_in_a_200_reply_is_a_failure(sales, queued, receiver):
    ChannelFactory(kind="dingtalk", target=receiver.url)
    receiver.replies = [(200, {"errcode": 130101, "errmsg": "send too fast"})]
    open_incident(sales)
    row = Notification.objects.get()
    assert services.deliver(notification_id=row.pk) == "retry"
    row.refresh_from_db()
    assert "130101" in row.last_error


@pytest.mark.parametrize(
    ("kind", "check"),
    [
        ("slack", lambda b: "Sales down" in b["text"] and b["blocks"][0]["type"] == "header"),
        ("teams", lambda b: b["@type"] == "MessageCard" and b["themeColor"] == "EA580C" and "Sales down" in b["title"]),
        ("wecom", lambda b: b["msgtype"] == "markdown" and "Sales down" in b["markdown"]["content"]),
        ("webhook", lambda b: b["event"] == "opened" and b["services"] == ["Sales"]),
    ],
)
def test_each_chat_kind_gets_its_own_format(sales, queued, receiver, kind, check):
    ChannelFactory(kind=kind, target=receiver.url)
    open_incident(sales)
    assert services.deliver(notification_id=Notification.objects.get().pk) == "sent"
    assert check(receiver.requests[0]["body"])


def test_email_channels_and_people_get_mail(sales, queued):
    ChannelFactory(kind="email", target="ops@example.com, erp-team@example.com")
    open_incident(sales)
    assert services.deliver(notification_id=Notification.objects.get().pk) == "sent"
    assert mail.outbox[0].to == ["ops@example.com", "erp-team@example.com"]
    assert "Sales down" in mail.outbox[0].subject


def test_the_test_button_sends_at_once_and_reports_failures(receiver):
    ok = services.send_test(channel=ChannelFactory(target=receiver.url))
    assert ok.status == "sent" and receiver.requests[0]["body"]["event"] == "test"
    broken = services.send_test(channel=ChannelFactory(target="http://127.0.0.1:9/"))
    assert broken.status == "failed" and broken.last_error  # no retries for a test


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"kind": "email", "target": "not-an-address"}, "target"),
        ({"kind": "webhook", "target": "ftp://x"}, "target"),
        ({"kind": "carrier-pigeon", "target": "http://x"}, "kind"),
        ({"kind": "webhook", "target": "http://x", "min_severity": "sev7"}, "min_severity"),
    ],
)
def test_channel_validation_names_the_field(fields, field):
    with pytest.raises(ValidationError) as exc:
        services.channel_create(name="c", **fields)
    assert field in exc.value.message_dict


def test_severity_notifications_follow_a_raised_severity(sales, queued):
    ChannelFactory(min_severity="sev1")
    incident = open_incident(sales, severity="sev3")
    assert not Notification.objects.exists()
    services.incident_change_severity(incident=incident, user=None, severity="sev1")
    assert Notification.objects.get().event == "severity_raised"


def test_rows_without_incident_do_not_break_the_timeline(queued, receiver):
    row = Notification.objects.create(channel=ChannelFactory(target=receiver.url), event="test", payload={"title": "x"})
    assert services.deliver(notification_id=row.pk) == "sent"
