"""Thin Celery tasks: load ids, call the services. Each is safe to run twice."""

from celery import shared_task

from . import services


@shared_task(ignore_result=True)
def tick() -> int:
    """Beat entry: claim the checks that are due; enqueue HTTP/TCP checks in batches, others one run each."""
    return len(services.claim_due_checks())


@shared_task(ignore_result=True)
def run_check(check_id: int) -> None:
    services.run_check(check_id=check_id)


@shared_task(ignore_result=True)
def run_batch(check_ids: list[int]) -> int:
    """Probe a batch of HTTP/TCP checks concurrently in this one worker process."""
    return services.run_batch(check_ids=check_ids)


@shared_task(ignore_result=True)
def apply_retention() -> dict:
    return services.apply_retention()
