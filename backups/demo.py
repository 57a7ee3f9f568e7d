"""Demo data for backups/: two policies with their locations and two weeks of history.

- The ERP database dump follows 3-2-1-1: a disk copy on the backup server, an off-site copy in
  object storage with object lock, and a weekly LTO tape in the vault; daily restore tests pass
  well within the RTO.
- The document store archive has two copies on disk in the same room: the overview shows it red,
  missing an off-site and an offline copy.

Loaded by `python manage.py load_demo` after plans.demo (it uses its services). Idempotent: a
policy is looked up by (service, name) and its history is only created with the policy.

The app's own database is protected the same way: register it as a service (e.g. code
"erp-continuity") with a policy and a directory location, and have its pg_dump job report
through the API with a token of an it_operations account, e.g.:

    run=$(curl -s -H "Authorization: Token $TOKEN" -d event=start -d policy=$P -d location=$L $URL/api/backup-runs/ | jq .id)
    pg_dump -Fc -f /var/backups/erpc/erpc-$(date +%F).dump "$DATABASE_URL"
    curl -s -H "Authorization: Token $TOKEN" -d event=finish -d run=$run \\
         -d file_path=/var/backups/erpc/erpc-$(date +%F).dump -d size_bytes=$(stat -c%s ...) \\
         -d checksum_sha256=$(sha256sum ... | cut -d' ' -f1) $URL/api/backup-runs/
"""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone

from plans.models import ERPService

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


def load(stdout) -> None:
    now = timezone.now()
    created = []
    with transaction.atomic():
        for code, name, loader in (("erp-db", DB_POLICY, _db_policy), ("erp-app", DOCS_POLICY, _docs_policy)):
            service = ERPService.objects.filter(code=code).first()
            if service is None or BackupPolicy.objects.filter(service=service, name=name).exists():
                continue
            loader(service, now)
            created.append(name)
    stdout.write(f"backups: {len(created)} backup policies created")
