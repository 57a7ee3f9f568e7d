"""Celery wiring. Periodic work is one beat entry per kind of work; each tick claims what is due
from the database (schedules live on the rows, see DESIGN.md "Scheduling")."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "erpcontinuity.settings")

app = Celery("erpcontinuity")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Each entry is cheap when nothing is due; the task itself decides what is due.
app.conf.beat_schedule = {
    # Incident response: escalate unacknowledged incidents, and send outbox rows a lost broker
    # message or a retry left behind (incidents/services/escalation.py, notifications.py).
    "incidents-escalate": {"task": "incidents.tasks.escalate_due", "schedule": 15.0},
    "incidents-outbox-sweep": {"task": "incidents.tasks.sweep_outbox", "schedule": 20.0},
    # Backups: fail stale runs, claim policies due for verification and locations due for a scan
    # (backups/services.py claim_due_*), each enqueued as its own task.
    "backups-tick": {"task": "backups.tasks.tick", "schedule": 60.0},
    # Monitoring: claim due checks and enqueue one probe run each (monitoring/services.py
    # claim_due_checks); fold old samples into hourly aggregates once an hour.
    "monitoring-tick": {"task": "monitoring.tasks.tick", "schedule": 5.0},
    "monitoring-retention": {"task": "monitoring.tasks.apply_retention", "schedule": 3600.0},
    # Training: remind people of courses due soon, overdue or expiring, once a day each at most.
    "training-reminders": {"task": "training.tasks.send_reminders", "schedule": 3600.0},
    "risks-review-reminders": {
        "task": "risks.tasks.remind_overdue_reviews",
        "schedule": 3600.0,
    },
    # Overdue action items (drill findings, incident reviews): owners emailed once a day per item.
    "plans-action-item-reminders": {"task": "plans.tasks.remind_overdue_action_items", "schedule": 3600.0},
}
