"""Panels training adds to the plan and fallback pages (templates/training/_plan_ack.html and
_fallback_ack.html are included there): the person's acknowledgement, and for managers who has and
has not acknowledged the current version."""

from __future__ import annotations

from django import template

from plans.models import TeamMember

from ..models import Acknowledgement
from ..services import current_version

register = template.Library()


@register.inclusion_tag("training/_plan_ack_panel.html", takes_context=True)
def plan_acknowledgements(context, plan):
    """Expected to acknowledge: everyone with a login who holds a role that has a step in the
    current version. Three queries, whatever the number of people."""
    user = context["request"].user
    version = current_version(plan)
    if version is None:
        return {"version": None}
    acks = {a.user_id: a for a in Acknowledgement.objects.filter(plan_version=version).select_related("user")}
    show_people = user.has_perm("training.view_coverage")
    expected, missing = [], []
    if show_people:
        holders = (
            TeamMember.objects.filter(user__isnull=False, role__plan_steps__version=version)
            .select_related("user")
            .order_by("user__first_name", "user__username")
        )
        seen = set()
        for member in holders:
            if member.user_id in seen:
                continue
            seen.add(member.user_id)
            expected.append(member.user)
            if member.user_id not in acks:
                missing.append(member.user)
    return {
        "plan": plan,
        "version": version,
        "mine": acks.get(user.pk),
        "show_people": show_people,
        "acknowledged": sorted(acks.values(), key=lambda a: a.acknowledged_at),
        "missing": missing,
        "csrf_token": context.get("csrf_token"),
    }


@register.inclusion_tag("training/_fallback_ack_panel.html", takes_context=True)
def fallback_acknowledgement(context, procedure):
    user = context["request"].user
    acks = list(
        Acknowledgement.objects.filter(fallback=procedure, fallback_version=procedure.version).select_related("user")
    )
    return {
        "procedure": procedure,
        "mine": next((a for a in acks if a.user_id == user.pk), None),
        "show_people": user.has_perm("training.view_coverage"),
        "acknowledged": acks,
        "csrf_token": context.get("csrf_token"),
    }
