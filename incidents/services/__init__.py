"""Every state change of incidents/ (DESIGN.md "Inside an app"), split by concern. Import from
here: `from incidents.services import raise_alert`."""

from .alerts import raise_alert, resolve_alert
from .escalation import (
    escalate_due,
    level_create,
    level_delete,
    level_update,
    policy_create,
    policy_delete,
    policy_update,
)
from .lifecycle import (
    checklist_item_done,
    checklist_item_undo,
    incident_acknowledge,
    incident_add_note,
    incident_assign_commander,
    incident_attach_plan,
    incident_change_severity,
    incident_close,
    incident_investigate,
    incident_mitigate,
    incident_open,
    incident_publish_update,
    incident_reopen,
    incident_resolve,
    incident_transition,
    incident_update,
)
from .notifications import (
    channel_create,
    channel_delete,
    channel_update,
    deliver,
    enqueue_notifications,
    send_test,
    sweep_outbox,
)
from .reviews import review_add_action_item, review_complete, review_save
from .silences import silence_create, silence_delete, silence_expire, silence_update
from .stats import response_stats
from .status import service_states

__all__ = [
    "channel_create", "channel_delete", "channel_update", "checklist_item_done", "checklist_item_undo", "deliver",
    "enqueue_notifications", "escalate_due", "incident_acknowledge", "incident_add_note", "incident_assign_commander",
    "incident_attach_plan", "incident_change_severity", "incident_close", "incident_investigate", "incident_mitigate",
    "incident_open", "incident_publish_update", "incident_reopen", "incident_resolve", "incident_transition",
    "incident_update", "level_create", "level_delete", "level_update", "policy_create", "policy_delete",
    "policy_update", "raise_alert", "resolve_alert", "response_stats", "review_add_action_item", "review_complete",
    "review_save", "send_test", "service_states", "silence_create", "silence_delete", "silence_expire",
    "silence_update", "sweep_outbox",
]  # fmt: skip
