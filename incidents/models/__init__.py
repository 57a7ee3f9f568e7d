"""Incidents and the alert spine.

An incident moves through a fixed lifecycle (open → acknowledged → investigating → mitigated →
resolved → closed, reopen possible) and keeps an append-only timeline. Alerts are the one entry
point every automatic source raises into (see DESIGN.md "The alert contract"); silences and
maintenance windows mute them. Escalation policies and notification channels decide who hears
about an incident; notifications are an outbox table written in the same transaction as the
event, delivered by a worker. All writes go through incidents.services.
"""

from auditlog.registry import auditlog

from .alerts import Alert, AlertQuerySet, Silence, SilenceQuerySet
from .incidents import (
    SEVERITY_RANK,
    TRANSITIONS,
    ChecklistItem,
    Incident,
    IncidentQuerySet,
    PostIncidentReview,
    TimelineEntry,
    TimelineQuerySet,
    is_more_severe,
    severity_rank,
)
from .notifications import EscalationLevel, EscalationPolicy, Notification, NotificationChannel, NotificationQuerySet

__all__ = [
    "SEVERITY_RANK", "TRANSITIONS", "Alert", "AlertQuerySet", "ChecklistItem", "EscalationLevel", "EscalationPolicy",
    "Incident", "IncidentQuerySet", "Notification", "NotificationChannel", "NotificationQuerySet",
    "PostIncidentReview", "Silence", "SilenceQuerySet", "TimelineEntry", "TimelineQuerySet", "is_more_severe",
    "severity_rank",
]  # fmt: skip

auditlog.register(Incident, m2m_fields={"services"}, exclude_fields=["version", "updated_at"])
auditlog.register(Silence)
auditlog.register(EscalationPolicy, m2m_fields={"services"})
auditlog.register(EscalationLevel)
auditlog.register(NotificationChannel, exclude_fields=["secret"])
auditlog.register(PostIncidentReview)
