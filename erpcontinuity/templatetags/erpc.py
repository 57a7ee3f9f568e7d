"""Template tags shared by every app."""

from django import template

from plans.models import format_minutes

register = template.Library()


@register.simple_tag(takes_context=True)
def query_replace(context, **kwargs) -> str:
    """The current query string with some parameters replaced (for pagination and sorting links)."""
    query = context["request"].GET.copy()
    for key, value in kwargs.items():
        if value in (None, ""):
            query.pop(key, None)
        else:
            query[key] = value
    return query.urlencode()


@register.filter
def minutes(value) -> str:
    """45 → "45 min", 240 → "4 h"."""
    try:
        return format_minutes(int(value))
    except (TypeError, ValueError):
        return "—"


@register.filter
def has_perm(user, perm: str) -> bool:
    return user.has_perm(perm)


@register.filter
def seconds(value) -> str:
    """A measured duration: 4.27 → "4.3 s", 95 → "95 s", 1626 → "27 min" (like the RTO beside it)."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        return "—"
    if value < 10:
        return f"{value:.1f} s"
    if value < 120:
        return f"{value:.0f} s"
    return format_minutes(round(value / 60))
