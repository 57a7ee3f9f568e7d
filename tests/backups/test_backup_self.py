"""The app protects itself, end to end on PostgreSQL: `manage.py backup_self` dumps the app's own
database, reports the run through the API with a token (a live server), and the verification of
the policy passes, a real restore test of that dump into a scratch database included."""

import os

import pytest
from django.core.management import CommandError, call_command

from backups import services
from backups.models import BackupRun, Verification
from tests.needs import binary

from .factories import BackupLocationFactory, BackupPolicyFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

SCRATCH_URL = os.environ.get("PG_SCRATCH_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


@pytest.fixture(autouse=True)
def _postgres_only():
    # PostgreSQL itself: the `postgres` marker (tests/conftest.py).
    binary("pg_dump", "postgresql-client")


@pytest.fixture
def self_policy(tmp_path):
    policy = BackupPolicyFactory(
        name="ERP Continuity database",
        service__rto_minutes=60,
        service__rpo_minutes=24 * 60,
        expected_frequency_minutes=24 * 60,
        min_copies=1,
        min_media_kinds=1,
        min_offsite=0,
        require_offline_or_immutable=False,
        scratch_target=SCRATCH_URL,
        expected_tables=[{"name": "auth_user", "min_rows": 1}, "backups_backuppolicy", "incidents_alert"],
        sanity_queries=[
            {"name": "migrations applied", "sql": "SELECT count(*) FROM django_migrations", "expect": ">0"},
            {
                "name": "this policy is in its own backup",
                "sql": "SELECT count(*) FROM backups_backuppolicy",
                "expect": ">=1",
            },
        ],
    )
    location = BackupLocationFactory(policy=policy, path=str(tmp_path), file_pattern="erpc-*.dump")
    return policy, location


def _token():
    from io import StringIO

    out = StringIO()
    call_command("backup_token", stdout=out)
    return out.getvalue().strip()


def test_the_self_backup_is_reported_through_the_api_and_verified_with_a_real_restore(
    live_server, self_policy, tmp_path
):
    policy, location = self_policy
    call_command(
        "backup_self", policy=policy.pk, location=location.pk, dir=str(tmp_path), api=live_server.url, token=_token()
    )
    run = BackupRun.objects.get(policy=policy)
    assert run.status == BackupRun.Status.SUCCEEDED and run.source == BackupRun.Source.API
    dump = tmp_path / os.path.basename(run.file_path)
    assert dump.is_file() and dump.read_bytes()[:5] == b"PGDMP"
    assert run.size_bytes == dump.stat().st_size and len(run.checksum_sha256) == 64
    assert not list(tmp_path.glob("*.partial"))

    # A scan of the directory finds the same file: still one record.
    services.scan_location(location=location)
    assert BackupRun.objects.filter(policy=policy).count() == 1

    results = {v.kind: v for v in services.verify_policy(policy=policy, kinds=list(Verification.Kind.values))}
    assert {k: v.result for k, v in results.items()} == dict.fromkeys(Verification.Kind.values, "pass"), {
        k: v.message for k, v in results.items()
    }
    restore = results["restore"]
    assert restore.details["tables"]["auth_user"] >= 1
    assert all(q["ok"] for q in restore.details["sanity"])
    assert restore.duration_seconds > 0 and restore.details["within_rto"]


def test_a_failing_pg_dump_is_reported_as_a_failed_run(
    live_server, self_policy, tmp_path, tmp_path_factory, monkeypatch
):
    policy, location = self_policy
    bin_dir = tmp_path_factory.mktemp("bin")
    fake = bin_dir / "pg_dump"
    fake.write_text("#!/bin/sh\necho 'pg_dump: error: connection refused' >&2\ntouch \"$4\"\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    with pytest.raises(CommandError, match="pg_dump failed"):
        call_command(
            "backup_self",
            policy=policy.pk,
            location=location.pk,
            dir=str(tmp_path),
            api=live_server.url,
            token=_token(),
        )
    run = BackupRun.objects.get(policy=policy)
    assert run.status == BackupRun.Status.FAILED and "connection refused" in run.message
    assert not list(tmp_path.iterdir())  # the partial dump was removed


def test_a_wrong_token_is_refused_and_nothing_is_dumped(live_server, self_policy, tmp_path):
    policy, location = self_policy
    with pytest.raises(CommandError, match="refused the start report"):
        call_command(
            "backup_self", policy=policy.pk, location=location.pk, dir=str(tmp_path), api=live_server.url, token="nope"
        )
    assert not BackupRun.objects.exists() and not list(tmp_path.iterdir())
