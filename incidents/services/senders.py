"""How a message reaches each kind of channel. One function per kind takes the channel (or a
recipient address) and the rendered message, sends it, and raises SendError when the other side
did not accept it. No retries here: the outbox (notifications.py) owns retries and backoff.

Signatures, as the vendors document them:
- DingTalk robot: sign = urlencode(base64(HMAC-SHA256(key=secret, msg=f"{timestamp_ms}\\n{secret}"))),
  passed as &timestamp=…&sign=… on the webhook URL.
- Feishu/Lark bot: sign = base64(HMAC-SHA256(key=f"{timestamp_s}\\n{secret}", msg=b"")), sent in the
  JSON body as "timestamp" and "sign".
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import send_mail

from ..models import NotificationChannel

Kind = NotificationChannel.Kind
HTTP_TIMEOUT = 10  # seconds; well inside the outbox lease, so a slow receiver never causes a double send

SEVERITY_COLOURS = {"sev1": "B91C1C", "sev2": "EA580C", "sev3": "CA8A04", "sev4": "2563EB"}


class SendError(Exception):
    pass


@dataclass
class Message:
    """What every channel renders: a title line, plain lines of body text, a link, extra links."""

    title: str
    lines: list[str] = field(default_factory=list)
    url: str = ""
    links: list[tuple[str, str]] = field(default_factory=list)  # (label, url), e.g. fallback procedures
    severity: str = ""
    data: dict = field(default_factory=dict)  # the structured payload, for the generic webhook

    def text(self) -> str:
        parts = [self.title, *self.lines]
        parts += [f"{label}: {url}" for label, url in self.links]
        if self.url:
            parts.append(self.url)
        return "\n".join(parts)

    def markdown(self) -> str:
        parts = [f"### {self.title}", *[f"- {line}" for line in self.lines]]
        parts += [f"- [{label}]({url})" for label, url in self.links]
        if self.url:
            parts.append(f"\n[{self.url}]({self.url})")
        return "\n".join(parts)


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    string_to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), string_to_sign, hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest))


def dingtalk_signed_url(url: str, secret: str, timestamp_ms: int) -> str:
    joiner = "&" if "?" in url else "?"
    return f"{url}{joiner}timestamp={timestamp_ms}&sign={dingtalk_sign(secret, timestamp_ms)}"


def feishu_sign(secret: str, timestamp_s: int) -> str:
    key = f"{timestamp_s}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()


def post_json(url: str, body: dict) -> dict | None:
    data = json.dumps(body, ensure_ascii=False).encode()
    request = urllib.request.Request(
        url, data=data, method="POST", headers={"Content-Type": "application/json; charset=utf-8"}
    )
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT) as response:  # noqa: S310 - URL set by an admin
            raw = response.read(65536)
    except urllib.error.HTTPError as exc:
        raise SendError(f"HTTP {exc.code} from {urllib.parse.urlsplit(url).netloc}")
    except (urllib.error.URLError, OSError) as exc:
        raise SendError(f"Cannot reach {urllib.parse.urlsplit(url).netloc}: {getattr(exc, 'reason', exc)}")
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None


def _check_robot_reply(reply: dict | None, code_keys: tuple[str, ...]) -> None:
    # Chat robots answer HTTP 200 with an error code in the body (e.g. DingTalk 130101 "too fast").
    if not isinstance(reply, dict):
        return
    for key in code_keys:
        if key in reply and reply[key] not in (0, "0"):
            message = reply.get("errmsg") or reply.get("msg") or reply.get("StatusMessage") or ""
            raise SendError(f"{key} {reply[key]}: {message}")


def send_email(addresses: list[str], message: Message) -> None:
    if not addresses:
        raise SendError("No email address")
    sent = send_mail(message.title, message.text(), settings.DEFAULT_FROM_EMAIL, addresses, fail_silently=False)
    if not sent:
        raise SendError("The mail server accepted no message")


def send_webhook(url: str, message: Message) -> None:
    post_json(url, {**message.data, "text": message.text()})


def send_slack(url: str, message: Message) -> None:
    body = "\n".join(message.lines + [f"<{u}|{label}>" for label, u in message.links])
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": message.title[:150]}},
        {"type": "section", "text": {"type": "mrkdwn", "text": body or message.title}},
    ]
    if message.url:
        blocks.append(
            {
                "type": "actions",
                "elements": [{"type": "button", "text": {"type": "plain_text", "text": "Open"}, "url": message.url}],
            }
        )
    post_json(url, {"text": message.text(), "blocks": blocks})


def send_teams(url: str, message: Message) -> None:
    # Office 365 connector "MessageCard": still accepted by Teams incoming webhooks and workflows.
    card = {
        "@type": "MessageCard",
        "@context": "https://schema.org/extensions",
        "summary": message.title,
        "themeColor": SEVERITY_COLOURS.get(message.severity, "64748B"),
        "title": message.title,
        "text": "<br>".join(message.lines + [f"[{label}]({u})" for label, u in message.links]),
    }
    if message.url:
        card["potentialAction"] = [
            {"@type": "OpenUri", "name": "Open", "targets": [{"os": "default", "uri": message.url}]}
        ]
    post_json(url, card)


def send_dingtalk(url: str, secret: str, message: Message) -> None:
    if secret:
        url = dingtalk_signed_url(url, secret, int(time.time() * 1000))
    reply = post_json(url, {"msgtype": "markdown", "markdown": {"title": message.title, "text": message.markdown()}})
    _check_robot_reply(reply, ("errcode",))


def send_wecom(url: str, message: Message) -> None:
    reply = post_json(url, {"msgtype": "markdown", "markdown": {"content": message.markdown()}})
    _check_robot_reply(reply, ("errcode",))


def send_feishu(url: str, secret: str, message: Message) -> None:
    body: dict = {"msg_type": "text", "content": {"text": message.text()}}
    if secret:
        timestamp = int(time.time())
        body = {"timestamp": str(timestamp), "sign": feishu_sign(secret, timestamp), **body}
    reply = post_json(url, body)
    _check_robot_reply(reply, ("code", "StatusCode"))


def send(*, channel: NotificationChannel | None, recipient: str, message: Message) -> None:
    if channel is None:
        send_email([recipient], message)
        return
    target = channel.target.strip()
    if channel.kind == Kind.EMAIL:
        send_email(channel.email_addresses, message)
    elif channel.kind == Kind.WEBHOOK:
        send_webhook(target, message)
    elif channel.kind == Kind.SLACK:
        send_slack(target, message)
    elif channel.kind == Kind.TEAMS:
        send_teams(target, message)
    elif channel.kind == Kind.DINGTALK:
        send_dingtalk(target, channel.secret, message)
    elif channel.kind == Kind.WECOM:
        send_wecom(target, message)
    elif channel.kind == Kind.FEISHU:
        send_feishu(target, channel.secret, message)
    else:
        raise SendError(f"Unknown channel kind {channel.kind}")
