"""Factories of the backups tests (kept here; tests/factories.py is shared by every area)."""

import datetime

import factory
from django.utils import timezone

from backups.models import BackupLocation, BackupPolicy, BackupRun
from tests.factories import ServiceFactory


class BackupPolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BackupPolicy

    service = factory.SubFactory(ServiceFactory)
    name = factory.Sequence(lambda n: f"Nightly dump {n}")
    expected_frequency_minutes = 60
    grace_minutes = 15


class BackupLocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BackupLocation

    policy = factory.SubFactory(BackupPolicyFactory)
    name = factory.Sequence(lambda n: f"Location {n}")
    kind = BackupLocation.Kind.LOCAL
    media_type = "disk"
    path = ""
    file_pattern = "*"


class BackupRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BackupRun

    location = factory.SubFactory(BackupLocationFactory)
    policy = factory.LazyAttribute(lambda o: o.location.policy)
    started_at = factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(minutes=5))
    finished_at = factory.LazyFunction(timezone.now)
    status = BackupRun.Status.SUCCEEDED
    file_path = factory.Sequence(lambda n: f"/backups/erp-{n}.dump")
    backup_set = factory.LazyAttribute(lambda o: o.file_path.rsplit("/", 1)[-1])
    size_bytes = 1000
