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
