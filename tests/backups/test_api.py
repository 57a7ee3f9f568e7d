"""The backups API: run reports with a token, bad input named by field, roles."""

import pytest
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from backups.models import BackupRun

from .factories import BackupLocationFactory, BackupPolicyFactory, BackupRunFactory

RUNS = "/api/backup-runs/"


@pytest.fixture
def location(db):
    return BackupLocationFactory()


@pytest.fixture
def job_client(ops_user):
    """A backup job authenticating with the token of an it_operations account."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=ops_user).key}")
    return client


def test_a_job_reports_start_then_finish(job_client, location):
    response = job_client.post(RUNS, {"event": "start", "policy": location.policy_id, "location": location.pk})
    assert response.status_code == 201, response.content
    run_id = response.json()["id"]
    response = job_client.post(
        RUNS,
        {"event": "finish", "run": run_id, "file_path": "/b/erp-1.dump", "size_bytes": 42, "checksum_sha256": "c" * 64},
    )
    assert response.status_code == 200, response.content
    run = BackupRun.objects.get(pk=run_id)
    assert (run.status, run.size_bytes, run.backup_set) == ("succeeded", 42, "erp-1.dump")


def test_a_job_reports_a_failure_with_its_message(job_client, location):
    run_id = job_client.post(RUNS, {"event": "start", "policy": location.policy_id, "location": location.pk}).json()[
        "id"
    ]
    response = job_client.post(RUNS, {"event": "fail", "run": run_id, "message": "disk full"})
    assert response.status_code == 200
    assert BackupRun.objects.get(pk=run_id).message == "disk full"


def test_a_one_shot_finish_records_a_run(job_client, location):
    response = job_client.post(
        RUNS, {"event": "finish", "policy": location.policy_id, "location": location.pk, "file_path": "/b/x.dump"}
    )
    assert response.status_code == 201
    assert BackupRun.objects.get().status == "succeeded"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"event": "explode"}, "event"),
        ({"event": "start"}, "policy"),
        ({"event": "finish", "run": 999999}, "run"),
        ({"event": "finish", "file_path": "/x"}, "run"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(job_client, location, body, field):
    response = job_client.post(RUNS, body, format="json")
    assert response.status_code == 400
    assert field in response.json()


def test_a_finish_without_a_file_path_or_with_a_bad_checksum_is_refused(job_client, location):
    run_id = job_client.post(RUNS, {"event": "start", "policy": location.policy_id, "location": location.pk}).json()[
        "id"
    ]
    response = job_client.post(RUNS, {"event": "finish", "run": run_id, "file_path": ""})
    assert response.status_code == 400 and "file_path" in response.json()
    response = job_client.post(RUNS, {"event": "finish", "run": run_id, "file_path": "/x", "checksum_sha256": "nothex"})
    assert response.status_code == 400 and "checksum_sha256" in response.json()
    assert BackupRun.objects.get(pk=run_id).status == "running"


def test_a_one_shot_report_with_bad_input_leaves_no_run(job_client, location):
    response = job_client.post(
        RUNS, {"event": "finish", "policy": location.policy_id, "location": location.pk, "file_path": ""}
    )
    assert response.status_code == 400
    assert not BackupRun.objects.exists()


def test_a_location_of_another_policy_is_refused(job_client, location):
    other = BackupPolicyFactory()
    response = job_client.post(RUNS, {"event": "start", "policy": other.pk, "location": location.pk})
    assert response.status_code == 400 and "location" in response.json()


def test_finishing_a_finished_run_is_refused(job_client, location):
    run = BackupRunFactory(location=location)
    response = job_client.post(RUNS, {"event": "finish", "run": run.pk, "file_path": "/again"})
    assert response.status_code == 400 and "run" in response.json()


@pytest.mark.parametrize(("role", "code"), [("manager", 403), ("business_user", 403), ("anonymous", 403)])
def test_only_reporters_may_report(role_clients, location, role, code):
    response = role_clients[role].post(
        RUNS, {"event": "start", "policy": location.policy_id, "location": location.pk}, content_type="application/json"
    )
    assert response.status_code in (code, 401)


@pytest.mark.parametrize(
    ("role", "code"), [("administrator", 200), ("it_operations", 200), ("manager", 200), ("business_user", 403)]
)
@pytest.mark.parametrize("url", ["/api/backup-policies/", RUNS, "/api/backup-verifications/"])
def test_lists_follow_the_roles(role_clients, location, role, code, url):
    BackupRunFactory(location=location)
    assert role_clients[role].get(url).status_code == code


def test_the_policy_list_hides_the_scratch_password(ops_client):
    BackupPolicyFactory(scratch_target="postgresql://admin:hunter2@db-test/postgres")
    body = ops_client.get("/api/backup-policies/").content.decode()
    assert "hunter2" not in body and "admin:***@db-test" in body


@pytest.mark.parametrize(
    ("role", "code"), [("it_operations", 202), ("administrator", 202), ("manager", 403), ("business_user", 403)]
)
def test_verify_now_queues_a_verification(role_clients, django_capture_on_commit_callbacks, monkeypatch, role, code):
    calls = []
    monkeypatch.setattr("backups.tasks.verify_policy.delay", lambda *args: calls.append(args))
    policy = BackupPolicyFactory()
    url = reverse("api-backup-policy-verify-now", args=[policy.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = role_clients[role].post(url)
    assert response.status_code == code
    assert len(calls) == (1 if code == 202 else 0)


def test_a_file_outside_a_directory_location_is_refused(job_client, tmp_path):
    location = BackupLocationFactory(path=str(tmp_path))
    response = job_client.post(
        RUNS, {"event": "finish", "policy": location.policy_id, "location": location.pk, "file_path": "/etc/passwd"}
    )
    assert response.status_code == 400 and "file_path" in response.json()
    response = job_client.post(
        RUNS,
        {"event": "finish", "policy": location.policy_id, "location": location.pk, "file_path": f"{tmp_path}/../x"},
    )
    assert response.status_code == 400
    response = job_client.post(
        RUNS,
        {"event": "finish", "policy": location.policy_id, "location": location.pk, "file_path": f"{tmp_path}/a.dump"},
    )
    assert response.status_code == 201
