"""Alerting setup pages: silences and maintenance windows, notification channels, escalation policies."""

import datetime
import http.server
import threading

import pytest
from django.urls import reverse
from django.utils import timezone

from incidents.models import EscalationLevel, EscalationPolicy, Notification, NotificationChannel, Silence
from tests.factories import ChannelFactory, LevelFactory, PolicyFactory, RoleFactory, SilenceFactory

pytestmark = pytest.mark.django_db


def _client(request, role):
    return request.getfixturevalue(
        {
            "administrator": "admin_client",
            "it_operations": "ops_client",
            "manager": "manager_client",
            "business_user": "business_client",
            "anonymous": "client",
        }[role]
    )


def _local(dt: datetime.datetime) -> str:
    return timezone.localtime(dt).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def objects(db):
    return {"silence": SilenceFactory(), "channel": ChannelFactory(), "policy": PolicyFactory()}


def _read_pages(objects):
    return [
        reverse("incidents:silence-list"),
        reverse("incidents:channel-list"),
        reverse("incidents:policy-list"),
        reverse("incidents:policy-detail", args=[objects["policy"].pk]),
    ]


def _write_pages(objects):
    return [
        reverse("incidents:silence-create"),
        reverse("incidents:channel-create"),
        reverse("incidents:channel-edit", args=[objects["channel"].pk]),
        reverse("incidents:channel-delete", args=[objects["channel"].pk]),
        reverse("incidents:policy-create"),
        reverse("incidents:policy-edit", args=[objects["policy"].pk]),
        reverse("incidents:policy-delete", args=[objects["policy"].pk]),
    ]


@pytest.mark.parametrize(
    "role, read, write",
    [
        ("administrator", 200, 200),
        ("it_operations", 200, 200),
        ("manager", 200, 403),
        ("business_user", 403, 403),
    ],
)
def test_each_role_reaches_the_setup_pages_it_may(request, role, read, write, objects):
    client = _client(request, role)
    for url in _read_pages(objects):
        assert client.get(url).status_code == read, url
    for url in _write_pages(objects):
        assert client.get(url).status_code == write, url


def test_an_anonymous_visitor_is_sent_to_log_in(client, objects):
    for url in [*_read_pages(objects), *_write_pages(objects)]:
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], url


def test_a_manager_cannot_expire_a_silence_or_send_a_test(manager_client, objects):
    assert manager_client.post(reverse("incidents:silence-expire", args=[objects["silence"].pk])).status_code == 403
    assert manager_client.post(reverse("incidents:channel-test", args=[objects["channel"].pk])).status_code == 403
    assert not Notification.objects.exists()


# --- Silences ----------------------------------------------------------------------------------------


def test_silences_are_listed_as_active_upcoming_and_ended(ops_client):
    now = timezone.now()
    active = SilenceFactory(reason="Active one")
    upcoming = SilenceFactory(reason="Upcoming one", starts_at=now + datetime.timedelta(hours=1),
                              ends_at=now + datetime.timedelta(hours=2))  # fmt: skip
    ended = SilenceFactory(reason="Ended one", starts_at=now - datetime.timedelta(hours=3),
                           ends_at=now - datetime.timedelta(hours=2))  # fmt: skip
    context = ops_client.get(reverse("incidents:silence-list")).context
    assert (context["active"], context["upcoming"], context["expired"]) == ([active], [upcoming], [ended])


def test_creating_a_maintenance_window_for_a_service(ops_client, ops_user, sales):
    now = timezone.now()
    response = ops_client.post(
        reverse("incidents:silence-create"),
        {"kind": "maintenance", "service": sales.pk, "starts_at": _local(now),
         "ends_at": _local(now + datetime.timedelta(hours=2)), "reason": "Patching"},
    )  # fmt: skip
    assert response.status_code == 302
    silence = Silence.objects.get()
    assert (silence.kind, silence.service, silence.author) == ("maintenance", sales, ops_user)


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"service": "", "source": ""}, None),  # no matcher at all
        ({"ends_at": "before"}, "ends_at"),
        ({"fingerprint_pattern": "([unclosed"}, "fingerprint_pattern"),
        ({"reason": ""}, "reason"),
        ({"kind": "forever"}, "kind"),
    ],
)
def test_bad_silences_are_refused_and_nothing_is_written(ops_client, sales, overrides, field):
    now = timezone.now()
    data = {"kind": "silence", "service": sales.pk, "source": "monitoring", "starts_at": _local(now),
            "ends_at": _local(now + datetime.timedelta(hours=1)), "reason": "Noise"}  # fmt: skip
    data.update(overrides)
    if data["ends_at"] == "before":
        data["ends_at"] = _local(now - datetime.timedelta(hours=1))
    response = ops_client.post(reverse("incidents:silence-create"), data)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert (field or "__all__") in errors, errors
    assert not Silence.objects.exists()


def test_expiring_a_silence_ends_it_now(ops_client):
    silence = SilenceFactory()
    assert ops_client.post(reverse("incidents:silence-expire", args=[silence.pk])).status_code == 302
    silence.refresh_from_db()
    assert silence.ends_at <= timezone.now()
    # Expiring it again says so instead of failing.
    response = ops_client.post(reverse("incidents:silence-expire", args=[silence.pk]), follow=True)
    assert "already ended" in response.content.decode()


# --- Channels ----------------------------------------------------------------------------------------


CHANNEL = {
    "name": "Ops DingTalk",
    "kind": "dingtalk",
    "target": "https://oapi.dingtalk.com/robot/send?access_token=abc",
    "secret": "SECxyz",
    "min_severity": "sev3",
    "audience": "ops",
    "enabled": "on",
    "rate_limit_per_minute": "",
}


def test_the_channel_form_explains_each_kind(ops_client):
    page = ops_client.get(reverse("incidents:channel-create")).content.decode()
    for text in ["oapi.dingtalk.com/robot/send?access_token=", "qyapi.weixin.qq.com", "open.feishu.cn",
                 "hooks.slack.com", "webhook.office.com", "signing secret"]:  # fmt: skip
        assert text in page, text


def test_creating_a_dingtalk_channel_applies_its_default_rate_limit(ops_client):
    assert ops_client.post(reverse("incidents:channel-create"), CHANNEL).status_code == 302
    channel = NotificationChannel.objects.get()
    assert (channel.kind, channel.secret, channel.rate_limit_per_minute) == ("dingtalk", "SECxyz", 20)


def test_the_list_hides_webhook_tokens(ops_client):
    ChannelFactory(name="Robot", kind="wecom", target="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=SECRETKEY")
    page = ops_client.get(reverse("incidents:channel-list")).content.decode()
    assert "qyapi.weixin.qq.com" in page and "SECRETKEY" not in page


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"target": "not a url"}, "target"),
        ({"kind": "email", "target": "ops@example.com, not-an-address"}, "target"),
        ({"name": ""}, "name"),
        ({"kind": "pigeon"}, "kind"),
        ({"rate_limit_per_minute": "-3"}, "rate_limit_per_minute"),
    ],
)
def test_bad_channels_are_refused_and_nothing_is_written(ops_client, overrides, field):
    response = ops_client.post(reverse("incidents:channel-create"), {**CHANNEL, **overrides})
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not NotificationChannel.objects.exists()


def test_editing_keeps_the_secret_unless_a_new_one_is_given_and_never_shows_it(ops_client):
    channel = ChannelFactory(kind="feishu", target="https://open.feishu.cn/open-apis/bot/v2/hook/x", secret="KEEPME")
    url = reverse("incidents:channel-edit", args=[channel.pk])
    assert "KEEPME" not in ops_client.get(url).content.decode()
    data = {**CHANNEL, "kind": "feishu", "target": channel.target, "secret": "", "name": "Renamed"}
    assert ops_client.post(url, data).status_code == 302
    channel.refresh_from_db()
    assert (channel.name, channel.secret) == ("Renamed", "KEEPME")
    assert ops_client.post(url, {**data, "clear_secret": "on"}).status_code == 302
    channel.refresh_from_db()
    assert channel.secret == ""


def test_deleting_a_channel(ops_client):
    channel = ChannelFactory()
    assert ops_client.post(reverse("incidents:channel-delete", args=[channel.pk])).status_code == 302
    assert not NotificationChannel.objects.exists()


class _Receiver(http.server.BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):  # noqa: N802 - http.server's naming
        self.received.append(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"ok": true}')

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    server = http.server.HTTPServer(("127.0.0.1", 0), _Receiver)
    _Receiver.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", _Receiver.received
    server.shutdown()
    server.server_close()


def test_send_test_delivers_to_a_working_channel_and_says_so(ops_client, receiver):
    url, received = receiver
    channel = ChannelFactory(name="Local hook", kind="webhook", target=url)
    response = ops_client.post(reverse("incidents:channel-test", args=[channel.pk]), follow=True)
    assert "Test message sent" in response.content.decode()
    assert len(received) == 1
    assert Notification.objects.get().status == Notification.Status.SENT


def test_send_test_to_a_broken_channel_shows_why(ops_client):
    channel = ChannelFactory(name="Dead hook", kind="webhook", target="http://127.0.0.1:9/hook")
    response = ops_client.post(reverse("incidents:channel-test", args=[channel.pk]), follow=True)
    page = response.content.decode()
    assert response.status_code == 200 and "failed" in page
    assert Notification.objects.get().status == Notification.Status.FAILED


# --- Escalation policies -----------------------------------------------------------------------------


def test_creating_a_policy_and_its_levels(ops_client, ops_user, sales):
    response = ops_client.post(reverse("incidents:policy-create"),
                               {"name": "ERP core", "services": [sales.pk], "repeat_minutes": "30"})  # fmt: skip
    policy = EscalationPolicy.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("incidents:policy-detail", args=[policy.pk])
    role = RoleFactory(name="Database administrator")
    channel = ChannelFactory(name="Ops chat")
    url = reverse("incidents:level-create", args=[policy.pk])
    assert ops_client.post(url, {"delay_minutes": "5", "notify_user": ops_user.pk}).status_code == 302
    assert (
        ops_client.post(url, {"delay_minutes": "15", "notify_role": role.pk, "notify_channel": channel.pk}).status_code
        == 302
    )
    assert list(policy.levels.order_by("order").values_list("order", "delay_minutes")) == [(1, 5), (2, 15)]
    page = ops_client.get(reverse("incidents:policy-list")).content.decode()
    assert "Database administrator" in page and "Ops chat" in page


def test_a_level_must_notify_someone(ops_client):
    policy = PolicyFactory()
    response = ops_client.post(reverse("incidents:level-create", args=[policy.pk]), {"delay_minutes": "5"})
    assert response.status_code == 200
    assert "Choose whom this level notifies" in response.content.decode()
    assert not EscalationLevel.objects.exists()


@pytest.mark.parametrize(
    "data", [{"name": ""}, {"name": "x", "repeat_minutes": "-1"}, {"name": "x", "services": ["999"]}]
)
def test_bad_policies_are_refused(ops_client, data):
    response = ops_client.post(reverse("incidents:policy-create"), data)
    assert response.status_code == 200 and response.context["form"].errors
    assert not EscalationPolicy.objects.exists()


def test_a_duplicate_policy_name_is_refused_on_the_form(ops_client):
    PolicyFactory(name="ERP core")
    response = ops_client.post(reverse("incidents:policy-create"), {"name": "ERP core"})
    assert response.status_code == 200 and "name" in response.context["form"].errors
    assert EscalationPolicy.objects.count() == 1


def test_making_a_policy_the_default_takes_it_from_the_previous_one(ops_client):
    old = PolicyFactory(name="Old", is_default=True)
    assert ops_client.post(reverse("incidents:policy-create"), {"name": "New", "is_default": "on"}).status_code == 302
    old.refresh_from_db()
    assert not old.is_default and EscalationPolicy.objects.get(name="New").is_default


def test_editing_and_deleting_levels_and_policies(ops_client, ops_user):
    level = LevelFactory(order=1, delay_minutes=10, notify_user=ops_user)
    url = reverse("incidents:level-edit", args=[level.pk])
    assert ops_client.post(url, {"order": "1", "delay_minutes": "3", "notify_user": ops_user.pk}).status_code == 302
    level.refresh_from_db()
    assert level.delay_minutes == 3
    response = ops_client.post(url, {"order": "1", "delay_minutes": "3"})
    assert response.status_code == 200
    assert ops_client.post(reverse("incidents:level-delete", args=[level.pk])).status_code == 302
    assert not EscalationLevel.objects.exists()
    assert ops_client.post(reverse("incidents:policy-delete", args=[level.policy.pk])).status_code == 302
    assert not EscalationPolicy.objects.exists()
