"""Ops checks the backups: the overview, a policy, "verify now", and the results on the page.
Tasks run in the request (the Celery task is called directly) so the results are there on reload."""

import hashlib
import io
import tarfile

import pytest

from backups import tasks
from backups.models import BackupLocation, Verification
from tests.backups.factories import BackupLocationFactory, BackupPolicyFactory, BackupRunFactory
from tests.e2e.conftest import login, shot
from tests.factories import ServiceFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def eager_verification(monkeypatch):
    monkeypatch.setattr(tasks.verify_policy, "delay", lambda *args: tasks.verify_policy(*args))


def _documents_policy(tmp_path):
    """A file store policy with one real tar.gz backup on a directory location."""
    archive = tmp_path / "docs-20261124.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        payload = b'{"attachments": 1250}' * 20
        info = tarfile.TarInfo("attachments/index.json")
        info.size = len(payload)
        tar.addfile(info, io.BytesIO(payload))
    data = archive.read_bytes()
    policy = BackupPolicyFactory(
        name="Document store archive",
        what="file_store",
        service=ServiceFactory(name="ERP documents", code="erp-docs", rpo_minutes=1440, rto_minutes=240),
        expected_frequency_minutes=1440,
        min_copies=1,
        min_media_kinds=1,
        min_offsite=0,
        require_offline_or_immutable=False,
        expected_files=[{"path": "attachments/index.json", "min_bytes": 100}],
    )
    location = BackupLocationFactory(policy=policy, name="NAS share", path=str(tmp_path), file_pattern="docs-*.tar.gz")
    BackupRunFactory(
        location=location,
        file_path=str(archive),
        size_bytes=len(data),
        checksum_sha256=hashlib.sha256(data).hexdigest(),
    )
    return policy


def test_ops_verifies_a_policy_now_and_sees_the_results(page, tmp_path, eager_verification):
    UserFactory(username="olga-ops", role="it_operations")
    policy = _documents_policy(tmp_path)
    BackupPolicyFactory(name="Forgotten config backup", service=ServiceFactory(name="ERP config", code="erp-cfg"))

    login(page, "olga-ops")
    page.goto(page.base_url + "/backups/")
    row = page.locator("tr", has_text="Document store archive")
    assert "never" in row.inner_text()  # no restore test yet
    assert "red" in page.locator("tr", has_text="Forgotten config backup").inner_text()
    shot(page, "backups_overview")

    page.get_by_role("link", name="Document store archive").click()
    page.wait_for_load_state()
    assert page.locator("h1").first.inner_text().startswith("Document store archive")
    assert "No verification yet." in page.content()

    page.get_by_role("button", name="Verify now").click()
    page.wait_for_load_state()
    results = {v.kind: v.result for v in Verification.objects.filter(policy=policy)}
    assert results == dict.fromkeys(Verification.Kind.values, "pass"), list(
        Verification.objects.values_list("kind", "message")
    )
    table = page.locator("table", has_text="Check").last
    text = table.inner_text()
    for label in ("Freshness", "Size", "Checksum", "3-2-1-1-0 copies", "Restore test"):
        assert label in text
    assert "Checksum matches." in text and "Extracted 1 member." in text
    assert "Fail" not in text
    # Freshness ran after the checksum and restore of the same pass: the measured RPO is known.
    assert "unknown: no verified backup yet" not in page.content()
    shot(page, "backups_policy_verified")

    # Back on the overview, the policy is green with its restore test.
    page.goto(page.base_url + "/backups/")
    row = page.locator("tr", has_text="Document store archive")
    assert "Pass" in row.inner_text() and "green" in row.inner_text()


def test_ops_adds_a_location_and_a_bad_path_is_explained(page, tmp_path):
    UserFactory(username="olga-ops", role="it_operations")
    policy = _documents_policy(tmp_path)
    login(page, "olga-ops")
    page.goto(page.base_url + f"/backups/{policy.pk}/")
    page.get_by_role("link", name="Add location").click()
    page.wait_for_load_state()
    page.fill("#id_name", "Second NAS")
    page.fill("#id_media_type", "disk")
    page.fill("#id_path", "/nonexistent/docs")
    page.locator("form.stacked button[type=submit]").click()
    page.wait_for_load_state()
    assert page.get_by_text("The directory /nonexistent/docs does not exist on this server.").is_visible()
    page.select_option("#id_kind", "object_storage")
    page.fill("#id_path", "")
    page.check("#id_offsite")
    page.locator("form.stacked button[type=submit]").click()
    page.wait_for_load_state()
    assert page.url.endswith(f"/backups/{policy.pk}/")
    assert BackupLocation.objects.get(name="Second NAS").offsite


def test_the_overview_is_readable_at_phone_width(phone_page, tmp_path):
    UserFactory(username="olga-ops", role="it_operations")
    _documents_policy(tmp_path)
    login(phone_page, "olga-ops")
    phone_page.goto(phone_page.base_url + "/backups/")
    assert phone_page.get_by_role("link", name="Document store archive").is_visible()
    # No sideways scrolling: the table turns into stacked cards at phone width.
    assert phone_page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    shot(phone_page, "backups_overview_phone")
