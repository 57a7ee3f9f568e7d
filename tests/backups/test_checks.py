"""Checksum, freshness, size, copies, scans and the alerts that failed checks raise."""

import datetime
import hashlib
import os
import tracemalloc

import pytest
import time_machine
from django.utils import timezone

from backups import services
from backups.models import BackupLocation, BackupRun, Verification
from incidents.models import Alert, Incident

from .factories import BackupLocationFactory, BackupPolicyFactory, BackupRunFactory

NOW = datetime.datetime(2026, 11, 24, 12, 0, tzinfo=datetime.UTC)


# --- Checksum ------------------------------------------------------------------------------------


def _write_random(path, size, block=1024 * 1024):
    with open(path, "wb") as handle:
        for _ in range(size // block):
            handle.write(os.urandom(block))
        handle.write(os.urandom(size % block))


def test_the_checksum_equals_hashlib_on_a_generated_file(tmp_path):
    path = tmp_path / "data.bin"
    _write_random(path, 3 * 1024 * 1024 + 17)
    assert services.sha256_file(path) == hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_checksum_of_an_empty_file_is_the_empty_digest(tmp_path):
    path = tmp_path / "empty"
    path.write_bytes(b"")
    assert services.sha256_file(path) == hashlib.sha256(b"").hexdigest()


def test_the_checksum_streams_a_64_mib_file_in_bounded_memory(tmp_path):
    path = tmp_path / "big.bin"
    size = 64 * 1024 * 1024
    _write_random(path, size)
    tracemalloc.start()
    try:
        services.sha256_file(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * 1024 * 1024, peak  # one 1 MiB buffer, not 64 MiB


@pytest.mark.django_db
def test_a_wrong_checksum_fails_and_names_the_file(tmp_path):
    path = tmp_path / "erp.dump"
    path.write_bytes(b"backup content")
    run = BackupRunFactory(location__path=str(path.parent), file_path=str(path), checksum_sha256="0" * 64)
    verification = services.verify_checksum(policy=run.policy)
    assert verification.result == Verification.Result.FAIL
    assert "Checksum mismatch" in verification.message and str(path) in verification.message


@pytest.mark.django_db
def test_a_matching_checksum_passes(tmp_path):
    path = tmp_path / "erp.dump"
    path.write_bytes(b"backup content")
    run = BackupRunFactory(
        location__path=str(path.parent),
        file_path=str(path),
        checksum_sha256=hashlib.sha256(b"backup content").hexdigest(),
    )
    assert services.verify_checksum(policy=run.policy).result == Verification.Result.PASS


# --- Freshness -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_freshness_passes_within_the_rpo_and_fails_beyond_it():
    policy = BackupPolicyFactory(service__rpo_minutes=60, expected_frequency_minutes=1440, grace_minutes=60)
    location = BackupLocationFactory(policy=policy)
    with time_machine.travel(NOW, tick=False):
        BackupRunFactory(location=location, started_at=NOW - datetime.timedelta(minutes=10), finished_at=NOW)
    with time_machine.travel(NOW + datetime.timedelta(minutes=59), tick=False):
        fresh = services.verify_freshness(policy=policy)
    with time_machine.travel(NOW + datetime.timedelta(minutes=61), tick=False):
        stale = services.verify_freshness(policy=policy)
    assert fresh.result == Verification.Result.PASS
    assert fresh.measured_rpo_seconds is None  # nothing verified yet
    assert stale.result == Verification.Result.FAIL
    assert "61 minutes old; the limit is 60 minutes" in stale.message


@pytest.mark.django_db
def test_freshness_uses_the_frequency_and_grace_when_shorter_than_the_rpo():
    policy = BackupPolicyFactory(service__rpo_minutes=1440, expected_frequency_minutes=60, grace_minutes=15)
    BackupRunFactory(location__policy=policy, finished_at=NOW - datetime.timedelta(minutes=80))
    with time_machine.travel(NOW, tick=False):
        verification = services.verify_freshness(policy=policy)
    assert verification.result == Verification.Result.FAIL
    assert "limit is 75 minutes" in verification.message


@pytest.mark.django_db
def test_freshness_ignores_failed_runs():
    policy = BackupPolicyFactory()
    BackupRunFactory(location__policy=policy, status=BackupRun.Status.FAILED)
    verification = services.verify_freshness(policy=policy)
    assert verification.result == Verification.Result.FAIL
    assert verification.message == "No successful backup yet."


# --- Size ----------------------------------------------------------------------------------------


def _history(policy, sizes):
    location = BackupLocationFactory(policy=policy)
    for i, size in enumerate(sizes):
        at = NOW - datetime.timedelta(days=len(sizes) - i)
        BackupRunFactory(location=location, size_bytes=size, started_at=at, finished_at=at)


@pytest.mark.django_db
def test_a_backup_that_shrinks_by_80_percent_fails_the_size_check():
    policy = BackupPolicyFactory(shrink_alert_ratio=0.5)
    _history(policy, [1000, 1100, 1050, 990, 200])
    verification = services.verify_size(policy=policy)
    assert verification.result == Verification.Result.FAIL
    assert "of the recent median" in verification.message
    assert verification.details["median_bytes"] == 1025


@pytest.mark.django_db
def test_a_backup_in_line_with_the_trend_passes_the_size_check():
    policy = BackupPolicyFactory(shrink_alert_ratio=0.5)
    _history(policy, [1000, 1100, 1050, 990, 1020])
    assert services.verify_size(policy=policy).result == Verification.Result.PASS


@pytest.mark.django_db
def test_an_empty_backup_fails_the_size_check():
    policy = BackupPolicyFactory(min_size_bytes=1)
    _history(policy, [0])
    verification = services.verify_size(policy=policy)
    assert verification.result == Verification.Result.FAIL
    assert "below the minimum" in verification.message


# --- Copies --------------------------------------------------------------------------------------


def _copy(policy, backup_set, finished_at=NOW, **location):
    loc = BackupLocationFactory(policy=policy, **location)
    return BackupRunFactory(
        location=loc, backup_set=backup_set, file_path=f"/{loc.name}/{backup_set}", finished_at=finished_at
    )


@pytest.mark.django_db
def test_copies_pass_the_3_2_1_1_rule():
    policy = BackupPolicyFactory()
    _copy(policy, "erp-1.dump", media_type="disk")
    _copy(policy, "erp-1.dump", media_type="object storage", kind=BackupLocation.Kind.OBJECT_STORAGE, offsite=True)
    _copy(policy, "erp-1.dump", media_type="LTO tape", kind=BackupLocation.Kind.TAPE, immutable_or_offline=True)
    verification = services.verify_copies(policy=policy)
    assert verification.result == Verification.Result.PASS, verification.message
    assert verification.details["missing"] == []


@pytest.mark.django_db
def test_copies_list_what_is_missing():
    policy = BackupPolicyFactory()
    _copy(policy, "erp-1.dump", media_type="disk")
    _copy(policy, "erp-1.dump", media_type="Disk")
    _copy(
        policy,
        "older.dump",
        finished_at=NOW - datetime.timedelta(days=1),
        media_type="tape",
        offsite=True,
        immutable_or_offline=True,
    )
    verification = services.verify_copies(policy=policy)
    assert verification.result == Verification.Result.FAIL
    assert verification.details["missing"] == [
        "2 of 3 copies",
        "1 of 2 kinds of media",
        "0 of 1 off-site copies",
        "no offline or immutable copy",
    ]
    assert "0 of 1 off-site copies" in verification.message


# --- Scans and API reports meet ------------------------------------------------------------------


@pytest.mark.django_db
def test_a_scan_records_matching_files_once(tmp_path):
    (tmp_path / "erp-1.dump").write_bytes(b"x" * 10)
    (tmp_path / "notes.txt").write_bytes(b"ignore me")
    location = BackupLocationFactory(path=str(tmp_path), file_pattern="erp-*.dump")
    created = services.scan_location(location=location)
    again = services.scan_location(location=location)
    assert [r.size_bytes for r in created] == [10]
    assert again == []
    run = BackupRun.objects.get()
    assert run.source == BackupRun.Source.SCAN and run.backup_set == "erp-1.dump" and run.file_mtime is not None


@pytest.mark.django_db
def test_a_scan_refreshes_the_size_of_a_known_file(tmp_path):
    path = tmp_path / "erp-1.dump"
    path.write_bytes(b"x" * 10)
    location = BackupLocationFactory(path=str(tmp_path))
    services.scan_location(location=location)
    path.write_bytes(b"x" * 20)
    services.scan_location(location=location)
    assert BackupRun.objects.get().size_bytes == 20


@pytest.mark.django_db
def test_the_api_report_and_the_scan_meet_in_one_record(tmp_path):
    path = tmp_path / "erp-1.dump"
    path.write_bytes(b"abc")
    location = BackupLocationFactory(path=str(tmp_path))
    run = services.run_report_start(policy=location.policy, location=location)
    services.run_report_finish(run=run, file_path=str(path), size_bytes=3, checksum_sha256="A" * 64)
    services.scan_location(location=location)
    run = BackupRun.objects.get()
    assert run.source == BackupRun.Source.API and run.checksum_sha256 == "a" * 64 and run.file_mtime is not None


@pytest.mark.django_db
def test_a_report_after_the_scan_lands_on_the_scanned_record(tmp_path):
    path = tmp_path / "erp-1.dump"
    path.write_bytes(b"abc")
    location = BackupLocationFactory(path=str(tmp_path))
    run = services.run_report_start(policy=location.policy, location=location)
    services.scan_location(location=location)
    services.run_report_finish(run=run, file_path=str(path), checksum_sha256="b" * 64)
    only = BackupRun.objects.get()
    assert only.checksum_sha256 == "b" * 64 and only.size_bytes == 3 and only.status == BackupRun.Status.SUCCEEDED


@pytest.mark.django_db
def test_a_run_that_never_finishes_fails_after_its_grace():
    policy = BackupPolicyFactory(grace_minutes=30)
    location = BackupLocationFactory(policy=policy)
    run = services.run_report_start(
        policy=policy, location=location, at=timezone.now() - datetime.timedelta(minutes=31)
    )
    young = services.run_report_start(policy=policy, location=location)
    assert services.mark_stale_runs() == 1
    run.refresh_from_db()
    young.refresh_from_db()
    assert run.status == BackupRun.Status.FAILED and "grace of 30 minutes" in run.message
    assert young.status == BackupRun.Status.RUNNING


# --- Alerts --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_failed_verification_raises_an_alert_and_the_next_pass_resolves_it(tmp_path):
    policy = BackupPolicyFactory(service__rpo_minutes=60, expected_frequency_minutes=60, grace_minutes=0)
    BackupRunFactory(location__policy=policy, finished_at=NOW - datetime.timedelta(hours=3))
    with time_machine.travel(NOW, tick=False):
        services.verify_freshness(policy=policy)
    alert = Alert.objects.get(source="backups", fingerprint=f"policy-{policy.pk}-freshness")
    assert alert.status == Alert.Status.FIRING and alert.severity == "sev2" and alert.service == policy.service
    assert "Freshness check failed" in alert.summary
    assert alert.incident is not None and isinstance(alert.incident, Incident)

    BackupRunFactory(location__policy=policy, finished_at=NOW)
    with time_machine.travel(NOW + datetime.timedelta(minutes=5), tick=False):
        services.verify_freshness(policy=policy)
    alert.refresh_from_db()
    assert alert.status == Alert.Status.RESOLVED


@pytest.mark.django_db
def test_a_failed_restore_of_a_vital_service_is_sev1(tmp_path):
    path = tmp_path / "empty.dump"
    path.write_bytes(b"")
    policy = BackupPolicyFactory(service__criticality=1)
    BackupRunFactory(location__policy=policy, location__path=str(path.parent), file_path=str(path))
    verification = services.restore_test(policy=policy)
    assert verification.result == Verification.Result.FAIL and "missing or empty" in verification.message
    assert Alert.objects.get(fingerprint=f"policy-{policy.pk}-restore").severity == "sev1"


@pytest.mark.django_db
def test_verify_policy_runs_every_kind_and_the_restore_when_due(tmp_path):
    policy = BackupPolicyFactory()
    kinds = {v.kind for v in services.verify_policy(policy=policy)}
    assert kinds == {"freshness", "size", "checksum", "copies", "restore"}
    kinds = {v.kind for v in services.verify_policy(policy=policy)}
    assert "restore" not in kinds  # done a moment ago; next one in restore_test_every_days


# --- The tick ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_tick_claims_due_policies_once(django_capture_on_commit_callbacks, monkeypatch):
    calls = []
    monkeypatch.setattr("backups.tasks.verify_policy.delay", lambda *args: calls.append(args))
    due = BackupPolicyFactory(next_verification_at=None)
    BackupPolicyFactory(next_verification_at=timezone.now() + datetime.timedelta(hours=1))
    BackupPolicyFactory(enabled=False)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.claim_due_policies() == [due.pk]
    assert services.claim_due_policies() == []
    assert len(calls) == 1 and calls[0][0] == due.pk and calls[0][2].startswith("tick-")


@pytest.mark.django_db
def test_the_tick_claims_due_directory_locations(django_capture_on_commit_callbacks, monkeypatch, tmp_path):
    calls = []
    monkeypatch.setattr("backups.tasks.scan_location.delay", lambda *args: calls.append(args))
    due = BackupLocationFactory(path=str(tmp_path))
    BackupLocationFactory(kind=BackupLocation.Kind.TAPE)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.claim_due_locations() == [due.pk]
    assert calls == [(due.pk,)]
    assert services.claim_due_locations() == []


@pytest.mark.django_db
def test_a_redelivered_pass_records_each_check_once(monkeypatch):
    """A worker died after some checks: the re-delivered task re-runs only the missing ones."""
    policy = BackupPolicyFactory()
    real = services.verify_copies

    def dies(**kwargs):
        raise SystemExit("worker killed")

    monkeypatch.setattr("backups.services.verification.verify_copies", dies)
    with pytest.raises(SystemExit):
        services.verify_policy(policy=policy, pass_key="tick-1")
    # Size and checksum ran before copies died; freshness runs last in a pass.
    assert set(policy.verifications.values_list("kind", flat=True)) == {"size", "checksum"}
    monkeypatch.setattr("backups.services.verification.verify_copies", real)
    services.verify_policy(policy=policy, pass_key="tick-1")
    kinds = list(policy.verifications.values_list("kind", flat=True))
    assert sorted(kinds) == sorted(["freshness", "size", "checksum", "copies", "restore"])
    services.verify_policy(policy=policy, pass_key="tick-1")
    assert policy.verifications.count() == 5


@pytest.mark.django_db
def test_the_measured_rpo_is_the_age_of_the_newest_verified_backup():
    policy = BackupPolicyFactory(service__rpo_minutes=600)
    location = BackupLocationFactory(policy=policy)
    older = BackupRunFactory(location=location, finished_at=NOW - datetime.timedelta(hours=3))
    BackupRunFactory(location=location, finished_at=NOW - datetime.timedelta(hours=1))
    Verification.objects.create(policy=policy, run=older, kind="checksum", result="pass", started_at=NOW)
    with time_machine.travel(NOW, tick=False):
        verification = services.verify_freshness(policy=policy)
    assert verification.details["age_seconds"] == 3600
    assert verification.measured_rpo_seconds == 3 * 3600


def _firing(policy, kind):
    return Alert.objects.active().filter(source="backups", fingerprint=f"policy-{policy.pk}-{kind}").first()


@pytest.mark.django_db
def test_a_wrong_checksum_raises_an_alert_and_the_next_good_backup_resolves_it(tmp_path):
    bad = tmp_path / "erp-1.dump"
    bad.write_bytes(b"backup content")
    run = BackupRunFactory(location__path=str(tmp_path), file_path=str(bad), checksum_sha256="0" * 64)
    policy = run.policy
    services.verify_checksum(policy=policy)
    assert "Checksum mismatch" in _firing(policy, "checksum").summary
    good = tmp_path / "erp-2.dump"
    good.write_bytes(b"next backup")
    BackupRunFactory(
        location=run.location, file_path=str(good), checksum_sha256=hashlib.sha256(b"next backup").hexdigest()
    )
    assert services.verify_checksum(policy=policy).result == Verification.Result.PASS
    assert _firing(policy, "checksum") is None


@pytest.mark.django_db
def test_an_empty_backup_raises_an_alert_and_the_next_good_one_resolves_it():
    policy = BackupPolicyFactory(min_size_bytes=1)
    _history(policy, [0])
    services.verify_size(policy=policy)
    assert "below the minimum" in _firing(policy, "size").summary
    _history(policy, [5000])
    assert services.verify_size(policy=policy).result == Verification.Result.PASS
    assert _firing(policy, "size") is None


@pytest.mark.django_db
def test_a_missing_offsite_copy_raises_an_alert_and_adding_it_resolves_it():
    policy = BackupPolicyFactory()
    _copy(policy, "erp-1.dump", media_type="disk")
    _copy(policy, "erp-1.dump", media_type="LTO tape", kind=BackupLocation.Kind.TAPE, immutable_or_offline=True)
    services.verify_copies(policy=policy)
    assert "0 of 1 off-site copies" in _firing(policy, "copies").summary
    _copy(policy, "erp-1.dump", media_type="object storage", kind=BackupLocation.Kind.OBJECT_STORAGE, offsite=True)
    assert services.verify_copies(policy=policy).result == Verification.Result.PASS
    assert _firing(policy, "copies") is None


@pytest.mark.django_db
def test_a_missing_directory_raises_an_alert_and_finding_it_again_resolves_it(tmp_path):
    from incidents.models import Alert

    gone = tmp_path / "nas"
    location = BackupLocationFactory(path=str(gone), file_pattern="erp-*.dump")
    assert services.scan_location(location=location) == []
    services.scan_location(location=location)  # the next tick: still one alert, not two
    alert = Alert.objects.get(source="backups", fingerprint=f"location-{location.pk}-scan")
    assert alert.status == "firing" and str(gone) in alert.summary and alert.count == 2
    assert alert.service == location.policy.service

    gone.mkdir()
    (gone / "erp-1.dump").write_bytes(b"x")
    assert len(services.scan_location(location=location)) == 1
    alert.refresh_from_db()
    assert alert.status == "resolved"
