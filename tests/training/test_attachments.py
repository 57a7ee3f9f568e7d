"""Course attachments: checked type and size, served only to logged-in users."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from training.models import CourseAttachment

from .factories import CourseFactory

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n%fake but well-formed enough\n"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def upload(client, course, name, content):
    return client.post(
        f"/training/manage/{course.pk}/",
        {"file-file": SimpleUploadedFile(name, content), "file-name": ""},
    )


def test_a_manager_attaches_a_pdf_and_a_logged_in_user_downloads_it(manager_client, business_client, client):
    course = CourseFactory()
    assert upload(manager_client, course, "Sales binder.pdf", PDF).status_code == 302
    attachment = CourseAttachment.objects.get()
    assert attachment.name == "Sales binder.pdf" and "Sales binder" not in attachment.file.name
    response = business_client.get(f"/training/files/{attachment.pk}/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert client.get(f"/training/files/{attachment.pk}/").status_code == 302  # to the login page


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("run.exe", b"MZ\x90\x00", "not accepted"),
        ("fake.pdf", b"MZ\x90\x00 not a pdf", "does not match"),
        ("page.html", b"<script>", "not accepted"),
    ],
)
def test_bad_files_are_refused_with_a_form_error(manager_client, name, content, message):
    course = CourseFactory()
    response = upload(manager_client, course, name, content)
    assert response.status_code == 400
    assert message in str(response.context["attachment_form"].errors["file"])
    assert not CourseAttachment.objects.exists()


def test_a_file_over_the_limit_is_refused(manager_client, monkeypatch):
    monkeypatch.setattr("training.services.MAX_ATTACHMENT_BYTES", 10)
    response = upload(manager_client, CourseFactory(), "big.pdf", PDF)
    assert "too large" in str(response.context["attachment_form"].errors["file"])


def test_business_users_cannot_upload(business_client):
    course = CourseFactory()
    assert upload(business_client, course, "a.pdf", PDF).status_code == 403
