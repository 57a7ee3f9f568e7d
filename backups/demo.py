"""Demo data for backups/: two policies with their locations and two weeks of history.

- The ERP database dump follows 3-2-1-1: a disk copy on the backup server, an off-site copy in
  object storage with object lock, and a weekly LTO tape in the vault; daily restore tests pass
  well within the RTO.
- The document store archive has two copies on disk in the same room: the overview shows it red,
  missing an off-site and an offline copy.

Loaded by `python manage.py load_demo` after plans.demo (it uses its services). Idempotent: a
policy is looked up by (service, name) and its history is only created with the policy.

- The app's own database ("ERP Continuity", code erp-continuity): a policy with a directory
  location under var/backups/erpc. `manage.py backup_self` fills it (pg_dump through the API with
  a token, see the README); until it has run, the overview shows it red ("no successful backup").
"""

from __future__ import annotations

import datetime
import os
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from plans import services as plan_services
from plans.models import Department, ERPService

from . import services
from .models import BackupLocation, BackupPolicy, Verification

DB_POLICY = "Nightly pg_dump of the ERP database"
DOCS_POLICY = "Document store archive"

SANITY = [
    {"name": "open sales orders", "sql": "SELECT count(*) FROM sales_order WHERE state = 'open'", "expect": ">0"},
    {"name": "trial balance", "sql": "SELECT coalesce(sum(debit - credit), 0) FROM gl_entry", "expect": "zero"},
    {
        "name": "orphan order lines",
        "sql": "SELECT count(*) FROM sales_order_line l LEFT JOIN sales_order o ON o.id = l.order_id WHERE o.id IS NULL",
        "expect": "zero",
    },
]


def _db_policy(service: ERPService, now) -> None:
    policy = services.policy_create(
        service=service,
        name=DB_POLICY,
        what=BackupPolicy.What.DATABASE,
        expected_frequency_minutes=24 * 60,
        grace_minutes=60,
        retention_days=35,
        restore_test_every_days=1,
        scratch_target="postgresql://restore_test@restore-lab.huaxin-pm.example:5432/postgres",
        expected_tables=[{"name": "sales_order", "min_rows": 1000}, "sales_order_line", "gl_entry", "stock_move"],
        sanity_queries=SANITY,
        min_size_bytes=500_000_000,
    )
    disk = services.location_create(
        policy=policy, name="Backup server disk", kind=BackupLocation.Kind.LOCAL, media_type="disk",
        path="/var/backups/erp", file_pattern="erp-*.dump",
    )  # fmt: skip
    cloud = services.location_create(
        policy=policy, name="Object storage (object lock)", kind=BackupLocation.Kind.OBJECT_STORAGE,
        media_type="object storage", offsite=True, immutable_or_offline=True,
    )  # fmt: skip
    tape = services.location_create(
        policy=policy, name="LTO tape vault", kind=BackupLocation.Kind.TAPE, media_type="LTO-8 tape",
        offsite=True, immutable_or_offline=True,
    )  # fmt: skip
    for days_ago in range(14, -1, -1):
        day = (now - datetime.timedelta(days=days_ago)).replace(hour=1, minute=0, second=0, microsecond=0)
        if day > now:
            continue
        name = f"erp-{day:%Y%m%d}.dump"
        size = 2_100_000_000 + (14 - days_ago) * 6_000_000
        copies = [disk, cloud] + ([tape] if day.weekday() == 6 or days_ago == 0 else [])
        for location in copies:
            run = services.run_report_start(policy=policy, location=location, backup_set=name, at=day)
            run = services.run_report_finish(
                run=run, file_path=f"{location.path or location.name}/{name}", size_bytes=size,
                at=day + datetime.timedelta(minutes=23),
            )  # fmt: skip
        services.record_verification(
            policy=policy, kind=Verification.Kind.RESTORE, result=Verification.Result.PASS, run=run,
            started_at=day + datetime.timedelta(hours=1), duration=1500 + (14 - days_ago) * 9,
            message="Restored and checked 4 tables and 3 sanity queries.",
            details={"format": "pg_custom", "within_rto": True},
        )  # fmt: skip


def _docs_policy(service: ERPService, now) -> None:
    policy = services.policy_create(
        service=service,
        name=DOCS_POLICY,
        what=BackupPolicy.What.FILE_STORE,
        expected_frequency_minutes=24 * 60,
        grace_minutes=120,
        retention_days=90,
        restore_test_every_days=7,
        expected_files=["attachments/index.json"],
    )
    first = services.location_create(
        policy=policy, name="NAS share", kind=BackupLocation.Kind.NFS, media_type="disk",
        path="/mnt/nas/erp-docs", file_pattern="docs-*.tar.gz",
    )  # fmt: skip
    second = services.location_create(
        policy=policy, name="Backup server disk (docs)", kind=BackupLocation.Kind.LOCAL, media_type="disk",
        path="/var/backups/docs", file_pattern="docs-*.tar.gz",
    )  # fmt: skip
    for days_ago in range(7, 0, -1):
        day = (now - datetime.timedelta(days=days_ago)).replace(hour=2, minute=0, second=0, microsecond=0)
        name = f"docs-{day:%Y%m%d}.tar.gz"
        for location in (first, second):
            run = services.run_report_start(policy=policy, location=location, backup_set=name, at=day)
            services.run_report_finish(
                run=run, file_path=f"{location.path}/{name}", size_bytes=48_000_000_000,
                at=day + datetime.timedelta(minutes=95),
            )  # fmt: skip


SELF_SERVICE = "erp-continuity"
SELF_POLICY = "pg_dump of the ERP Continuity database"
SELF_DIR = Path(settings.BASE_DIR) / "var" / "backups" / "erpc"


def _scratch_target() -> str:
    """The server of the app's own database (never the database itself: restore tests create and
    drop erpc_restore_* databases next to it), when that is PostgreSQL."""
    url = os.environ.get("DATABASE_URL", "")
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql", "pgsql"):
        return ""
    return urlunsplit(("postgresql", parts.netloc, "/postgres", "", ""))


def _self_service() -> ERPService:
    service = ERPService.objects.filter(code=SELF_SERVICE).first()
    if service is None:
        service = plan_services.service_create(
            code=SELF_SERVICE,
            name="ERP Continuity (this tool)",
            kind=ERPService.Kind.INFRASTRUCTURE,
            criticality=ERPService.Criticality.HIGH,
            rto_minutes=4 * 60,
            rpo_minutes=24 * 60,
            mtpd_minutes=48 * 60,
            owner_department=Department.objects.order_by("pk").first(),
            description="The continuity tool itself: plans, contacts and runbooks must survive the ERP outage.",
        )
    return service


def _self_policy(service: ERPService, now) -> None:
    # A starting point the job can satisfy on its own (one disk copy). Copy var/backups/erpc
    # off-site, add that location here and raise the numbers to 3-2-1-1.
    policy = services.policy_create(
        service=service,
        name=SELF_POLICY,
        what=BackupPolicy.What.DATABASE,
        expected_frequency_minutes=24 * 60,
        grace_minutes=60,
        retention_days=14,
        min_copies=1,
        min_media_kinds=1,
        min_offsite=0,
        require_offline_or_immutable=False,
        restore_test_every_days=1,
        scratch_target=_scratch_target(),
        expected_tables=[{"name": "auth_user", "min_rows": 1}, "plans_erpservice", "backups_backuppolicy"],
        sanity_queries=[
            {"name": "migrations applied", "sql": "SELECT count(*) FROM django_migrations", "expect": ">0"},
            {"name": "services registered", "sql": "SELECT count(*) FROM plans_erpservice", "expect": ">0"},
        ],
        min_size_bytes=10_000,
    )
    SELF_DIR.mkdir(parents=True, exist_ok=True)
    services.location_create(
        policy=policy, name="App server disk (var/backups/erpc)", kind=BackupLocation.Kind.LOCAL,
        media_type="disk", path=str(SELF_DIR), file_pattern="erpc-*.dump",
    )  # fmt: skip


def load(stdout) -> None:
    now = timezone.now()
    created = []
    with transaction.atomic():
        _self_service()
        for code, name, loader in (
            ("erp-db", DB_POLICY, _db_policy),
            ("erp-app", DOCS_POLICY, _docs_policy),
            (SELF_SERVICE, SELF_POLICY, _self_policy),
        ):
            service = ERPService.objects.filter(code=code).first()
            if service is None or BackupPolicy.objects.filter(service=service, name=name).exists():
                continue
            loader(service, now)
            created.append(name)
    stdout.write(f"backups: {len(created)} backup policies created")
