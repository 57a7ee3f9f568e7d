"""Backup pages: roles, the green/amber/red overview, the policy page, verify now."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from backups import selectors
from backups.models import BackupLocation, Verification

from .factories import BackupLocationFactory, BackupPolicyFactory, BackupRunFactory

OVERVIEW = "/backups/"


def _compliant_policy(**fields):
    policy = BackupPolicyFactory(**fields)
    for kind, media, offsite, offline in [
        (BackupLocation.Kind.LOCAL, "disk", False, False),
        (BackupLocation.Kind.OBJECT_STORAGE, "object storage", True, False),
        (BackupLocation.Kind.TAPE, "tape", True, True),
    ]:
        location = BackupLocationFactory(
            policy=policy, kind=kind, media_type=media, offsite=offsite, immutable_or_offline=offline
        )
        BackupRunFactory(location=location, backup_set="erp-1.dump", file_path=f"/{location.pk}/erp-1.dump")
    Verification.objects.create(
        policy=policy, kind="restore", result="pass", started_at=timezone.now(), duration_seconds=30
    )
    return policy


@pytest.mark.parametrize(
    ("role", "code"), [("administrator", 200), ("it_operations", 200), ("manager", 200), ("business_user", 403)]
)
def test_the_overview_follows_the_roles(role_clients, role, code):
    assert role_clients[role].get(OVERVIEW).status_code == code


def test_the_overview_asks_anonymous_users_to_log_in(client, db):
    assert client.get(OVERVIEW).status_code == 302


def test_a_compliant_policy_is_green_and_a_bare_one_red(manager_client):
    good = _compliant_policy(name="Nightly ERP dump")
    bare = BackupPolicyFactory(name="Forgotten file store")
    rows = {row.policy.pk: row for row in selectors.overview_rows(selectors.policy_list())}
    assert rows[good.pk].state == "ok", (rows[good.pk].copies, rows[good.pk].freshness)
    assert rows[bare.pk].state == "bad"
    assert "0 of 1 off-site copies" in rows[bare.pk].copies["missing"]
    page = manager_client.get(OVERVIEW).content.decode()
    assert "Nightly ERP dump" in page and "Forgotten file store" in page
    only_red = manager_client.get(OVERVIEW, {"state": "bad"}).content.decode()
    assert "Forgotten file store" in only_red and "Nightly ERP dump" not in only_red


def test_an_old_restore_test_is_amber(db):
    policy = _compliant_policy(restore_test_every_days=7)
    policy.verifications.update(started_at=timezone.now() - datetime.timedelta(days=8))
    row = selectors.overview_rows(selectors.policy_list())[0]
    assert row.restore_state == "warn" and row.state == "warn"


def test_the_search_box_filters_by_service_or_policy(manager_client):
    BackupPolicyFactory(name="Payroll archive")
    BackupPolicyFactory(name="Sales dump")
    page = manager_client.get(OVERVIEW, {"q": "payroll"}).content.decode()
    assert "Payroll archive" in page and "Sales dump" not in page


def test_the_overview_query_count_is_constant(manager_client, django_assert_max_num_queries):
    _compliant_policy()
    # session, user, user permissions, group permissions, policies (with newest-backup and
    # last-verification subqueries), copies of the newest sets, last verifications, the user's groups (nav).
    with django_assert_max_num_queries(8) as few:
        manager_client.get(OVERVIEW)
    for _ in range(5):
        _compliant_policy()
    with django_assert_max_num_queries(len(few.captured_queries)):
        manager_client.get(OVERVIEW)


def test_the_policy_page_shows_runs_verifications_and_charts(ops_client):
    policy = _compliant_policy(scratch_target="postgresql://postgres:topsecret@db-test/postgres")
    response = ops_client.get(reverse("backups:policy-detail", args=[policy.pk]))
    page = response.content.decode()
    assert response.status_code == 200
    assert "erp-1.dump" in page and "Restore test durations" in page and "<svg" in page
    assert "topsecret" not in page and "postgres:***@db-test" in page
    assert "Verify now" in page


def test_the_policy_page_of_a_missing_policy_is_404(ops_client):
    assert ops_client.get(reverse("backups:policy-detail", args=[999999])).status_code == 404


def test_verify_now_queues_and_redirects(ops_client, django_capture_on_commit_callbacks, monkeypatch):
    calls = []
    monkeypatch.setattr("backups.tasks.verify_policy.delay", lambda *args: calls.append(args))
    policy = BackupPolicyFactory()
    with django_capture_on_commit_callbacks(execute=True):
        response = ops_client.post(reverse("backups:verify-now", args=[policy.pk]))
    assert response.status_code == 302
    assert calls and calls[0][0] == policy.pk


def test_a_manager_may_not_verify_now(manager_client):
    policy = BackupPolicyFactory()
    assert manager_client.post(reverse("backups:verify-now", args=[policy.pk])).status_code == 403
    assert "Verify now" not in manager_client.get(reverse("backups:policy-detail", args=[policy.pk])).content.decode()


def test_the_compliance_summary_counts_policies_per_state(db):
    _compliant_policy()
    BackupPolicyFactory()
    BackupPolicyFactory(enabled=False)
    assert selectors.compliance_summary() == {"ok": 1, "warn": 0, "bad": 1}


def test_a_running_restore_shows_its_progress_and_refreshes_the_page(ops_client):
    from backups import services

    run = BackupRunFactory()
    progress = services.restore_progress_start(policy=run.policy, run=run)
    services.restore_progress_update(progress=progress, phase="restoring", done=12, total=48, current="public.gl_entry")
    page = ops_client.get(f"/backups/{run.policy_id}/").content.decode()
    assert "Restore test in progress" in page
    assert '<meta http-equiv="refresh" content="5">' in page
    assert "12 of 48 tables restored (25%)" in page and "public.gl_entry" in page
    assert '<progress max="48" value="12">' in page


def test_a_stalled_restore_says_so_and_stops_refreshing(ops_client):
    from backups import services
    from backups.models import RestoreProgress

    run = BackupRunFactory()
    progress = services.restore_progress_start(policy=run.policy, run=run)
    RestoreProgress.objects.filter(pk=progress.pk).update(updated_at=timezone.now() - datetime.timedelta(hours=1))
    page = ops_client.get(f"/backups/{run.policy_id}/").content.decode()
    assert "Restore test stalled" in page and "http-equiv" not in page


def test_a_finished_restore_shows_no_progress(ops_client):
    from backups import services

    run = BackupRunFactory()
    progress = services.restore_progress_start(policy=run.policy, run=run)
    services.restore_progress_update(progress=progress, finished=True)
    page = ops_client.get(f"/backups/{run.policy_id}/").content.decode()
    assert "Restore test in progress" not in page and "http-equiv" not in page


def test_the_overview_shows_the_measured_rpo_against_the_rpo(manager_client):
    from backups import services

    policy = _compliant_policy(service__rpo_minutes=60)
    run = policy.runs.first()
    Verification.objects.create(policy=policy, run=run, kind="checksum", result="pass", started_at=timezone.now())
    policy.runs.update(finished_at=timezone.now() - datetime.timedelta(minutes=150))
    services.verify_freshness(policy=policy)
    row = selectors.overview_rows(selectors.policy_list())[0]
    assert row.measured_rpo_minutes == 150 and row.measured_rpo_state == "bad"
    page = manager_client.get(OVERVIEW).content.decode()
    assert "measured RPO (newest verified):" in page


def test_the_policy_page_query_count_does_not_grow_with_its_history(ops_client, django_assert_max_num_queries):
    from backups import services

    policy = _compliant_policy()
    run = policy.runs.first()
    services.restore_progress_start(policy=policy, run=run)
    url = reverse("backups:policy-detail", args=[policy.pk])
    with django_assert_max_num_queries(20) as first:
        ops_client.get(url)
    for i in range(10):
        BackupRunFactory(location=run.location, file_path=f"/more/erp-{i}.dump")
        Verification.objects.create(policy=policy, run=run, kind="size", result="pass", started_at=timezone.now())
    # Same queries with ten more runs and verifications: no query per row.
    with django_assert_max_num_queries(len(first.captured_queries)):
        ops_client.get(url)
