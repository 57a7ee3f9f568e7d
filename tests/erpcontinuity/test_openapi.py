"""The OpenAPI schema generates cleanly and the Swagger UI is served from the sidecar package."""

from __future__ import annotations

import pytest
import yaml
from django.core.management import call_command


@pytest.mark.django_db
def test_the_schema_generates_without_warnings_or_errors(tmp_path):
    # The same check as `manage.py spectacular --validate --fail-on-warn`: any warning (an untyped
    # field, an enum name collision, an unresolvable path parameter) fails the test.
    target = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    schema = yaml.safe_load(target.read_text())
    paths = schema["paths"]
    for path in [
        "/api/services/", "/api/services/{id}/", "/api/departments/", "/api/roles/", "/api/members/",
        "/api/plans/", "/api/plans/{id}/start-draft/", "/api/plan-versions/", "/api/plan-versions/{id}/publish/",
        "/api/plan-steps/", "/api/plan-communications/", "/api/fallbacks/", "/api/action-items/",
        "/api/risks/", "/api/risks/{id}/review/", "/api/risks/heatmap/",
    ]:  # fmt: skip
        assert path in paths, path
    assert "tokenAuth" in schema["components"]["securitySchemes"]


@pytest.mark.django_db
def test_the_schema_is_served(admin_client):
    response = admin_client.get("/api/schema/")
    assert response.status_code == 200
    assert b"ERP Continuity API" in response.content


@pytest.mark.django_db
def test_the_swagger_ui_is_served_without_a_cdn(admin_client, settings):
    # Tests run with DEBUG off, i.e. the manifest storage, which needs `collectstatic` first; the
    # plain storage gives the same URLs without the hash.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    response = admin_client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "cdn.jsdelivr.net" not in html and "unpkg.com" not in html
