"""The streaming checksum helper, and creating, updating and deleting policies and locations."""

from __future__ import annotations

import hashlib
import os

from django.db import transaction

from incidents.services import resolve_alert
from plans.models import ERPService

from ..models import BackupLocation, BackupPolicy, Verification
from ._common import ALERT_SOURCE

CHUNK_SIZE = 1024 * 1024


# --- Checksums -----------------------------------------------------------------------------------


def sha256_file(path: str | os.PathLike, *, chunk_size: int = CHUNK_SIZE) -> str:
    """SHA-256 of a file, streamed through one reused buffer: memory stays at `chunk_size`."""
    digest = hashlib.sha256()
    buffer = bytearray(chunk_size)
    view = memoryview(buffer)
    with open(path, "rb", buffering=0) as handle:
        while True:
            n = handle.readinto(buffer)
            if not n:
                break
            digest.update(view[:n])
    return digest.hexdigest()


# --- Policies and locations ----------------------------------------------------------------------


@transaction.atomic
def policy_create(*, service: ERPService, name: str, **fields) -> BackupPolicy:
    policy = BackupPolicy(service=service, name=(name or "").strip(), **fields)
    policy.full_clean()
    policy.save()
    return policy


@transaction.atomic
def policy_update(*, policy: BackupPolicy, **fields) -> BackupPolicy:
    for name, value in fields.items():
        setattr(policy, name, value)
    policy.full_clean()
    policy.save()
    return policy


@transaction.atomic
def policy_delete(*, policy: BackupPolicy) -> None:
    """Delete the policy with its locations, runs and verifications, and resolve its alerts:
    nothing is left to verify, so nothing can be failing."""
    kinds = list(Verification.Kind.values)
    pk = policy.pk
    policy.delete()
    for kind in kinds:
        resolve_alert(source=ALERT_SOURCE, fingerprint=f"policy-{pk}-{kind}")


@transaction.atomic
def location_create(*, policy: BackupPolicy, name: str, **fields) -> BackupLocation:
    location = BackupLocation(policy=policy, name=(name or "").strip(), **fields)
    location.full_clean()
    location.save()
    return location


@transaction.atomic
def location_update(*, location: BackupLocation, **fields) -> BackupLocation:
    for name, value in fields.items():
        setattr(location, name, value)
    if "name" in fields:
        location.name = (location.name or "").strip()
    location.full_clean()
    location.save()
    return location


@transaction.atomic
def location_delete(*, location: BackupLocation) -> None:
    """Delete the location and the runs recorded on it (the files themselves are not touched)."""
    location.delete()
