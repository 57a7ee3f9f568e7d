"""Browser forms for backup policies and locations: create, edit, delete, validation, roles."""

import pytest

from backups.models import BackupLocation, BackupPolicy, BackupRun
from incidents.models import Alert
from tests.factories import ServiceFactory

from .factories import BackupLocationFactory, BackupPolicyFactory, BackupRunFactory

NEW_POLICY = "/backups/new/"


def _policy_data(service, **overrides):
    data = {
        "service": service.pk,
        "name": "Nightly ERP dump",
        "what": "database",
        "expected_frequency_minutes": 1440,
        "grace_minutes": 60,
        "retention_days": 30,
        "min_copies": 3,
        "min_media_kinds": 2,
        "min_offsite": 1,
        "require_offline_or_immutable": "on",
        "verify_every_minutes": 60,
        "restore_test_every_days": 7,
        "scratch_target": "postgresql://restore:s3cret@db-test:5432/postgres",
        "expected_tables": '[{"name": "orders", "min_rows": 10}, "order_lines"]',
        "sanity_queries": '[{"name": "orphans", "sql": "SELECT count(*) FROM order_lines", "expect": "zero"}]',
        "expected_files": "[]",
        "min_size_bytes": 1000,
        "shrink_alert_ratio": 0.5,
        "enabled": "on",
    }
    data.update(overrides)
    return data


def test_ops_creates_a_policy_from_the_form(ops_client):
    service = ServiceFactory()
    response = ops_client.post(NEW_POLICY, _policy_data(service))
    policy = BackupPolicy.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/backups/{policy.pk}/"
    assert policy.service == service and policy.min_copies == 3
    assert policy.expected_tables == [{"name": "orders", "min_rows": 10}, "order_lines"]
    assert policy.sanity_queries[0]["expect"] == "zero"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("min_media_kinds", 4, "more kinds of media than copies"),
        ("min_offsite", 5, "more off-site copies than copies"),
        ("min_copies", 0, "at least one copy"),
        ("sanity_queries", '[{"name": "x", "sql": "SELECT 1", "expect": "about 3"}]', "Entry 1: &quot;expect&quot;"),
        ("sanity_queries", '[{"name": "x"', "not valid JSON"),
        ("sanity_queries", '{"sql": "SELECT 1"}', "Give a list"),
        ("expected_tables", '["orders; DROP TABLE x"]', "give a table name"),
        ("expected_files", '["../etc/passwd"]', "relative path inside the archive"),
        ("scratch_target", "mysql://db/x", "postgresql:// URL"),
        ("name", "", "This field is required"),
    ],
)
def test_bad_policy_input_is_a_form_error_naming_the_field(ops_client, field, value, message):
    response = ops_client.post(NEW_POLICY, _policy_data(ServiceFactory(), **{field: value}))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors, errors
    assert message in response.content.decode()
    assert not BackupPolicy.objects.exists()


def test_a_duplicate_policy_name_for_the_service_is_a_form_error(ops_client):
    existing = BackupPolicyFactory(name="Nightly ERP dump")
    response = ops_client.post(NEW_POLICY, _policy_data(existing.service))
    assert response.status_code == 200 and response.context["form"].errors
    assert BackupPolicy.objects.count() == 1


def test_the_edit_form_never_shows_the_scratch_password_and_keeps_it(ops_client):
    policy = BackupPolicyFactory(scratch_target="postgresql://restore:s3cret@db-test:5432/postgres")
    page = ops_client.get(f"/backups/{policy.pk}/edit/").content.decode()
    assert "s3cret" not in page and "restore:***@db-test" in page
    data = _policy_data(policy.service, name="Renamed", scratch_target="postgresql://restore:***@db-test:5432/postgres")
    response = ops_client.post(f"/backups/{policy.pk}/edit/", data)
    assert response.status_code == 302
    policy.refresh_from_db()
    assert policy.name == "Renamed"
    assert policy.scratch_target == "postgresql://restore:s3cret@db-test:5432/postgres"


def test_deleting_a_policy_removes_its_history_and_resolves_its_alerts(ops_client):
    from backups import services

    run = BackupRunFactory(size_bytes=0)
    policy = run.policy
    services.verify_size(policy=policy)
    assert Alert.objects.active().filter(fingerprint=f"policy-{policy.pk}-size").exists()
    page = ops_client.get(f"/backups/{policy.pk}/delete/").content.decode()
    assert "1 backup runs" in page
    response = ops_client.post(f"/backups/{policy.pk}/delete/")
    assert response.status_code == 302 and response["Location"] == "/backups/"
    assert not BackupPolicy.objects.exists() and not BackupRun.objects.exists()
    assert not Alert.objects.active().filter(fingerprint=f"policy-{policy.pk}-size").exists()


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", NEW_POLICY),
        ("post", "/backups/{policy}/edit/"),
        ("post", "/backups/{policy}/delete/"),
        ("post", "/backups/{policy}/locations/new/"),
        ("post", "/backups/locations/{location}/edit/"),
        ("post", "/backups/locations/{location}/delete/"),
    ],
)
def test_a_manager_may_read_but_not_change_policies_or_locations(manager_client, method, url):
    location = BackupLocationFactory()
    url = url.format(policy=location.policy_id, location=location.pk)
    response = getattr(manager_client, method)(url, {"name": "x"})
    assert response.status_code == 403
    assert BackupPolicy.objects.count() == 1 and BackupLocation.objects.get().name == location.name


def test_the_forms_of_a_missing_policy_or_location_are_404(ops_client, db):
    assert ops_client.get("/backups/999/edit/").status_code == 404
    assert ops_client.get("/backups/999/locations/new/").status_code == 404
    assert ops_client.get("/backups/locations/999/edit/").status_code == 404


# --- Locations -------------------------------------------------------------------------------------


def _location_data(**overrides):
    data = {
        "name": "Backup server disk",
        "kind": "local",
        "media_type": "disk",
        "path": "",
        "file_pattern": "erp-*.dump",
        "scan_every_minutes": 15,
    }
    data.update(overrides)
    return data


def test_ops_adds_a_directory_location_that_exists(ops_client, tmp_path):
    policy = BackupPolicyFactory()
    response = ops_client.post(f"/backups/{policy.pk}/locations/new/", _location_data(path=f"{tmp_path}/"))
    assert response.status_code == 302
    location = policy.locations.get()
    assert location.path == str(tmp_path) and location.file_pattern == "erp-*.dump"
    assert location.is_directory


def test_an_offsite_object_storage_location_needs_no_path(ops_client):
    policy = BackupPolicyFactory()
    data = _location_data(kind="object_storage", media_type="object storage", offsite="on", file_pattern="")
    assert ops_client.post(f"/backups/{policy.pk}/locations/new/", data).status_code == 302
    assert policy.locations.get().offsite


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"path": "/nonexistent/erp-backups"}, "path", "does not exist on this server"),
        ({"path": ""}, "path", "needs the path of its directory"),
        ({"path": "relative/dir"}, "path", "absolute path"),
        ({"file_pattern": "sub/erp-*.dump"}, "file_pattern", "no / in it"),
        ({"file_pattern": "erp-[0-9.dump"}, "file_pattern", "Unbalanced"),
        ({"file_pattern": " "}, "file_pattern", "Give a file pattern"),
        ({"media_type": ""}, "media_type", "This field is required"),
    ],
)
def test_bad_location_input_is_a_form_error_naming_the_field(ops_client, tmp_path, overrides, field, message):
    policy = BackupPolicyFactory()
    data = _location_data(path=str(tmp_path))
    data.update(overrides)
    response = ops_client.post(f"/backups/{policy.pk}/locations/new/", data)
    assert response.status_code == 200
    assert field in response.context["form"].errors, response.context["form"].errors
    assert message in response.content.decode()
    assert not policy.locations.exists()


def test_ops_edits_and_deletes_a_location(ops_client, tmp_path):
    location = BackupLocationFactory(path=str(tmp_path))
    BackupRunFactory(location=location)
    response = ops_client.post(
        f"/backups/locations/{location.pk}/edit/", _location_data(name="NAS", kind="nfs", path=str(tmp_path))
    )
    assert response.status_code == 302
    location.refresh_from_db()
    assert location.name == "NAS" and location.kind == "nfs"
    response = ops_client.post(f"/backups/locations/{location.pk}/delete/")
    assert response.status_code == 302 and response["Location"] == f"/backups/{location.policy_id}/"
    assert not BackupLocation.objects.exists() and not BackupRun.objects.exists()


def test_a_duplicate_location_name_is_a_form_error(ops_client):
    location = BackupLocationFactory(name="Tape")
    data = _location_data(name="Tape", kind="tape", media_type="LTO")
    response = ops_client.post(f"/backups/{location.policy_id}/locations/new/", data)
    assert response.status_code == 200 and response.context["form"].errors
    assert BackupLocation.objects.count() == 1


def test_the_policy_page_links_to_the_forms_for_ops_only(ops_client, manager_client):
    location = BackupLocationFactory()
    ops_page = ops_client.get(f"/backups/{location.policy_id}/").content.decode()
    assert f"/backups/locations/{location.pk}/edit/" in ops_page and "/edit/" in ops_page
    manager_page = manager_client.get(f"/backups/{location.policy_id}/").content.decode()
    assert "/edit/" not in manager_page and "/locations/new/" not in manager_page
