"""REST API of incident response: serializers that validate and shape, views that call services.

- /api/incidents/: cursor-paginated on (-opened_at, -id) so page 2,000 costs what page 1 costs;
  filters status, severity, service, commander, opened_from, opened_to, q, is_drill. PATCH needs
  the `version` the edit was made against (a stale one is a 400 naming who changed it).
  POST actions: acknowledge, investigate, mitigate, resolve, close, reopen, note, attach-plan,
  public-update; checklist/<item>/done and /undo.
- /api/alerts/raise/ and /api/alerts/resolve/: the alert contract for machines (token auth,
  permission incidents.raise_alert; see `manage.py alert_token`). /api/alerts/: list, retrieve.
- /api/silences/, /api/notification-channels/ (+ test), /api/escalation-policies/,
  /api/escalation-levels/: managed by IT operations.
- /api/incident-stats/ (response statistics) and /api/status/ (service states, incidents.view_status).

Every write is a service call; a service's ValidationError becomes a 400 naming the field.
"""

from .views import (
    AlertViewSet,
    ChannelViewSet,
    IncidentViewSet,
    LevelViewSet,
    PolicyViewSet,
    SilenceViewSet,
    StatsView,
    StatusView,
)

__all__ = [
    "AlertViewSet", "ChannelViewSet", "IncidentViewSet", "LevelViewSet", "PolicyViewSet", "SilenceViewSet",
    "StatsView", "StatusView",
]  # fmt: skip
