"""The iCalendar feed of drills, built with the `icalendar` library (RFC 5545: folding, escaping
and time zones are the library's job, not ours)."""

from __future__ import annotations

import datetime

from django.utils import timezone
from django.utils.translation import gettext as _
from icalendar import Calendar, Event

from .models import Drill
from .selectors import drill_list

# Past drills stay in the feed for a while, so a subscribed calendar keeps its history.
HISTORY = datetime.timedelta(days=365)


def calendar_for(user, *, base_url: str) -> bytes:
    cal = Calendar()
    cal.add("prodid", "-//ERP Continuity//Drills//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", _("ERP continuity drills"))
    since = timezone.now() - HISTORY
    for drill in drill_list(user).filter(scheduled_start__gte=since).order_by("scheduled_start", "id"):
        event = Event()
        event.add("uid", f"drill-{drill.pk}@erpcontinuity")
        event.add("dtstamp", drill.created_at)
        event.add("dtstart", drill.scheduled_start)
        event.add("dtend", drill.scheduled_end)
        event.add("summary", _("Drill: %(title)s") % {"title": drill.title})
        event.add(
            "description",
            "\n".join(
                [
                    _("Scenario: %(s)s") % {"s": drill.scenario.title},
                    _("Kind: %(k)s") % {"k": drill.get_kind_display()},
                    _("Plan: %(p)s v%(n)d") % {"p": drill.plan_version.plan.title, "n": drill.plan_version.number},
                    _("Facilitator: %(f)s") % {"f": drill.facilitator.get_full_name() or drill.facilitator.username},
                ]
            ),
        )
        if drill.location:
            event.add("location", drill.location)
        event.add("url", base_url + drill.get_absolute_url())
        event.add("status", "CANCELLED" if drill.status == Drill.Status.CANCELLED else "CONFIRMED")
        cal.add_component(event)
    return cal.to_ical()
