"""Thin Celery tasks: load ids, call the services. Each is safe to run twice."""

from celery import shared_task

from . import services
from .models import BackupLocation, BackupPolicy


@shared_task(ignore_result=True)
def tick() -> dict:
    """Beat entry: fail stale runs, then claim what is due and enqueue it."""
    return {
        "stale": services.mark_stale_runs(),
        "policies": len(services.claim_due_policies()),
        "locations": len(services.claim_due_locations()),
    }


@shared_task(ignore_result=True)
def verify_policy(policy_id: int, kinds: list[str] | None = None, pass_key: str = "") -> int:
    # Re-delivered after a worker died (acks_late): the pass key makes the checks already
    # recorded by the first attempt count as done, so each check of a pass is recorded once.
    policy = BackupPolicy.objects.filter(pk=policy_id).first()
    if policy is None:
        return 0
    return len(services.verify_policy(policy=policy, kinds=kinds, pass_key=pass_key))


@shared_task(ignore_result=True)
def scan_location(location_id: int) -> int:
    location = BackupLocation.objects.filter(pk=location_id).first()
    if location is None:
        return 0
    return len(services.scan_location(location=location))
