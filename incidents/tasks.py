"""Thin Celery tasks: load ids, call the services. All are idempotent and safe to run twice."""

from celery import shared_task

from . import services


@shared_task(ignore_result=True)
def deliver_notification(notification_id: int) -> str:
    # No Celery autoretry: the outbox schedules retries with backoff on the row itself, and the
    # sweep picks them up, so a retry survives a worker or broker restart.
    return services.deliver(notification_id=notification_id)


@shared_task(ignore_result=True)
def sweep_outbox() -> int:
    return services.sweep_outbox()


@shared_task(ignore_result=True)
def escalate_due() -> int:
    return services.escalate_due()
