from celery import shared_task

from . import services


@shared_task
def remind_overdue_action_items() -> int:
    """Once a day per item (ActionItem.last_reminded_on): safe to run hourly, twice, or in parallel."""
    return services.remind_overdue_action_items()
