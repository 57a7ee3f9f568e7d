from celery import shared_task

from . import services


@shared_task
def send_reminders() -> int:
    """Hourly: email people whose training is due soon, overdue or expiring (once a day each)."""
    return services.send_reminders()
