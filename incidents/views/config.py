"""Setting up alerting: silences and maintenance windows, notification channels, escalation policies."""

from __future__ import annotations

import datetime
from urllib.parse import urlsplit

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import OuterRef, Prefetch, Subquery
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from incidents import services
from incidents.forms import ChannelForm, LevelForm, PolicyForm, SilenceForm
from incidents.models import EscalationLevel, EscalationPolicy, Notification, NotificationChannel, Silence

from ._common import call_service, perm_required

# --- Silences and maintenance windows ----------------------------------------------------------------


@perm_required("incidents.view_silence")
def silence_list(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    base = Silence.objects.select_related("service", "author")
    return render(
        request,
        "incidents/silence_list.html",
        {
            "active": list(base.filter(starts_at__lte=now, ends_at__gt=now).order_by("ends_at", "id")),
            "upcoming": list(base.filter(starts_at__gt=now).order_by("starts_at", "id")),
            # Only the most recent expired ones: the history is in the audit trail.
            "expired": list(base.filter(ends_at__lte=now).order_by("-ends_at", "-id")[:50]),
            "now": now,
        },
    )


@perm_required("incidents.add_silence")
def silence_create(request: HttpRequest) -> HttpResponse:
    now = timezone.localtime().replace(second=0, microsecond=0)
    form = SilenceForm(request.POST or None, initial={"starts_at": now, "ends_at": now + datetime.timedelta(hours=2)})
    if request.method == "POST" and form.is_valid():
        silence = call_service(form, services.silence_create, user=request.user, **form.cleaned_data)
        if silence:
            messages.success(request, _("%(kind)s created.") % {"kind": silence.get_kind_display()})
            return redirect("incidents:silence-list")
    return render(request, "incidents/silence_form.html", {"form": form})


@perm_required("incidents.change_silence")
@require_POST
def silence_expire(request: HttpRequest, pk: int) -> HttpResponse:
    silence = get_object_or_404(Silence, pk=pk)
    try:
        services.silence_expire(silence=silence, user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Ended now. Matching alerts fire again on their next raise."))
    return redirect("incidents:silence-list")


# --- Notification channels ---------------------------------------------------------------------------


def masked_target(channel: NotificationChannel) -> str:
    """Webhook URLs carry their access token: show where they point, not the token."""
    if channel.kind == NotificationChannel.Kind.EMAIL:
        return ", ".join(channel.email_addresses)
    parts = urlsplit(channel.target.strip())
    path = parts.path if len(parts.path) <= 24 else parts.path[:20] + "…"
    return f"{parts.scheme}://{parts.netloc}{path}{'?…' if parts.query else ''}"


@perm_required("incidents.view_notificationchannel")
def channel_list(request: HttpRequest) -> HttpResponse:
    # The last message of each channel, to see at a glance whether it works (subqueries, one query).
    last = Notification.objects.filter(channel=OuterRef("pk"), status__in=["sent", "failed"]).order_by(
        "-created_at", "-id"
    )
    channels = NotificationChannel.objects.annotate(
        last_status=Subquery(last.values("status")[:1]),
        last_at=Subquery(last.values("created_at")[:1]),
        last_error=Subquery(last.values("last_error")[:1]),
    ).order_by("name")
    rows = [{"channel": c, "target": masked_target(c)} for c in channels]
    return render(request, "incidents/channel_list.html", {"rows": rows})


def _channel_form_page(request, form, channel=None) -> HttpResponse:
    return render(
        request,
        "incidents/channel_form.html",
        {"form": form, "channel": channel, "kinds": NotificationChannel.Kind.choices},
    )


@perm_required("incidents.add_notificationchannel")
def channel_create(request: HttpRequest) -> HttpResponse:
    form = ChannelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        channel = call_service(form, services.channel_create, **form.service_fields())
        if channel:
            messages.success(
                request, _("Channel “%(name)s” was created. Send a test message to check it.") % {"name": channel.name}
            )
            return redirect("incidents:channel-list")
    return _channel_form_page(request, form)


@perm_required("incidents.change_notificationchannel")
def channel_edit(request: HttpRequest, pk: int) -> HttpResponse:
    channel = get_object_or_404(NotificationChannel, pk=pk)
    form = ChannelForm(request.POST or None, instance=NotificationChannel.objects.get(pk=pk))
    if request.method == "POST" and form.is_valid():
        saved = call_service(form, services.channel_update, channel=channel, **form.service_fields())
        if saved:
            messages.success(request, _("Channel “%(name)s” was saved.") % {"name": saved.name})
            return redirect("incidents:channel-list")
    return _channel_form_page(request, form, channel)


@perm_required("incidents.change_notificationchannel")
@require_POST
def channel_test(request: HttpRequest, pk: int) -> HttpResponse:
    channel = get_object_or_404(NotificationChannel, pk=pk)
    notification = services.send_test(channel=channel, user=request.user)
    if notification.status == Notification.Status.SENT:
        messages.success(request, _("Test message sent to “%(name)s”. Check that it arrived.") % {"name": channel.name})
    elif notification.status == Notification.Status.FAILED:
        messages.error(
            request,
            _("The test message to “%(name)s” failed: %(error)s")
            % {"name": channel.name, "error": notification.last_error or _("no reason given")},
        )
    else:
        messages.info(request, _("The test message to “%(name)s” is queued.") % {"name": channel.name})
    return redirect("incidents:channel-list")


@perm_required("incidents.delete_notificationchannel")
def channel_delete(request: HttpRequest, pk: int) -> HttpResponse:
    channel = get_object_or_404(NotificationChannel, pk=pk)
    if request.method == "POST":
        name = channel.name
        services.channel_delete(channel=channel)
        messages.success(request, _("Channel “%(name)s” was deleted.") % {"name": name})
        return redirect("incidents:channel-list")
    return render(
        request,
        "incidents/confirm_delete.html",
        {"object": channel, "cancel_url": reverse("incidents:channel-list"),
         "warning": _("Escalation levels that notify this channel are deleted with it.")},
    )  # fmt: skip


# --- Escalation policies -----------------------------------------------------------------------------

LEVELS = Prefetch(
    "levels",
    queryset=EscalationLevel.objects.select_related("notify_role", "notify_user", "notify_channel").order_by("order"),
)


@perm_required("incidents.view_escalationpolicy")
def policy_list(request: HttpRequest) -> HttpResponse:
    policies = EscalationPolicy.objects.prefetch_related(LEVELS, "services").order_by("-is_default", "name")
    return render(request, "incidents/policy_list.html", {"policies": policies})


@perm_required("incidents.view_escalationpolicy")
def policy_detail(request: HttpRequest, pk: int) -> HttpResponse:
    policy = get_object_or_404(EscalationPolicy.objects.prefetch_related(LEVELS, "services"), pk=pk)
    return render(request, "incidents/policy_detail.html", {"policy": policy, "level_form": LevelForm()})


@perm_required("incidents.add_escalationpolicy")
def policy_create(request: HttpRequest) -> HttpResponse:
    form = PolicyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        policy = call_service(form, services.policy_create, **form.cleaned_data)
        if policy:
            messages.success(request, _("Policy “%(name)s” was created. Add its levels.") % {"name": policy.name})
            return redirect("incidents:policy-detail", pk=policy.pk)
    return render(request, "incidents/policy_form.html", {"form": form})


@perm_required("incidents.change_escalationpolicy")
def policy_edit(request: HttpRequest, pk: int) -> HttpResponse:
    policy = get_object_or_404(EscalationPolicy, pk=pk)
    initial = {
        "name": policy.name,
        "description": policy.description,
        "services": list(policy.services.all()),
        "is_default": policy.is_default,
        "repeat_minutes": policy.repeat_minutes,
    }
    form = PolicyForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        saved = call_service(form, services.policy_update, policy=policy, **form.cleaned_data)
        if saved:
            messages.success(request, _("Policy “%(name)s” was saved.") % {"name": saved.name})
            return redirect("incidents:policy-detail", pk=saved.pk)
    return render(request, "incidents/policy_form.html", {"form": form, "policy": policy})


@perm_required("incidents.delete_escalationpolicy")
def policy_delete(request: HttpRequest, pk: int) -> HttpResponse:
    policy = get_object_or_404(EscalationPolicy, pk=pk)
    if request.method == "POST":
        name = policy.name
        services.policy_delete(policy=policy)
        messages.success(request, _("Policy “%(name)s” was deleted.") % {"name": name})
        return redirect("incidents:policy-list")
    return render(
        request,
        "incidents/confirm_delete.html",
        {"object": policy, "cancel_url": reverse("incidents:policy-detail", args=[policy.pk]),
         "warning": _("Incidents on its services fall back to the default policy.")},
    )  # fmt: skip


@perm_required("incidents.add_escalationlevel")
def level_create(request: HttpRequest, pk: int) -> HttpResponse:
    policy = get_object_or_404(EscalationPolicy.objects.prefetch_related(LEVELS, "services"), pk=pk)
    form = LevelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        level = call_service(form, services.level_create, policy=policy, **form.cleaned_data)
        if level:
            messages.success(request, _("Level %(n)d added.") % {"n": level.order})
            return redirect("incidents:policy-detail", pk=policy.pk)
    return render(request, "incidents/policy_detail.html", {"policy": policy, "level_form": form})


@perm_required("incidents.change_escalationlevel")
def level_edit(request: HttpRequest, pk: int) -> HttpResponse:
    level = get_object_or_404(EscalationLevel.objects.select_related("policy"), pk=pk)
    initial = {
        "order": level.order,
        "delay_minutes": level.delay_minutes,
        "notify_role": level.notify_role_id,
        "notify_user": level.notify_user_id,
        "notify_channel": level.notify_channel_id,
    }
    form = LevelForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        saved = call_service(form, services.level_update, level=level, **form.cleaned_data)
        if saved:
            messages.success(request, _("Level %(n)d saved.") % {"n": saved.order})
            return redirect("incidents:policy-detail", pk=level.policy_id)
    return render(request, "incidents/level_form.html", {"form": form, "level": level, "policy": level.policy})


@perm_required("incidents.delete_escalationlevel")
@require_POST
def level_delete(request: HttpRequest, pk: int) -> HttpResponse:
    level = get_object_or_404(EscalationLevel, pk=pk)
    policy_id = level.policy_id
    services.level_delete(level=level)
    messages.success(request, _("Level deleted."))
    return redirect("incidents:policy-detail", pk=policy_id)
