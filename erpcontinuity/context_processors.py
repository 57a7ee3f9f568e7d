from django.conf import settings

from . import navigation as nav
from .roles import user_role


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": [], "user_role": None}
    role = user_role(user)
    return {
        "nav_items": nav.items_for(user, request.path),
        "user_role": role,
        "user_role_label": settings.ROLE_LABELS.get(role, ""),
    }
