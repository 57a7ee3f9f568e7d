"""Fixtures shared by every test: one user and one logged-in client per role."""

import pytest
from django.test import Client

from tests.factories import UserFactory
from tests.needs import unavailable


@pytest.fixture(autouse=True)
def _fast_and_static_free_settings(settings):
    """Tests run with DEBUG off like production, but without collectstatic: plain static storage
    (no manifest needed) and a fast password hasher (the default one costs ~0.5 s per user)."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _require_postgres_when_marked(request):
    """Tests marked `postgres` need PostgreSQL (row locks, concurrent transactions, pg_restore)."""
    if request.node.get_closest_marker("postgres"):
        from django.db import connection

        if connection.vendor != "postgresql":
            unavailable("needs PostgreSQL (DATABASE_URL=postgres://...)")


@pytest.fixture
def admin_user(db):
    return UserFactory(username="alice-admin", role="administrator", is_staff=True)


@pytest.fixture
def ops_user(db):
    return UserFactory(username="oscar-ops", role="it_operations")


@pytest.fixture
def manager_user(db):
    return UserFactory(username="maria-manager", role="manager")


@pytest.fixture
def business_user(db):
    return UserFactory(username="bob-business", role="business_user")


def _client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def admin_client(admin_user):  # noqa: F811 - replaces pytest-django's superuser client on purpose
    return _client_for(admin_user)


@pytest.fixture
def ops_client(ops_user):
    return _client_for(ops_user)


@pytest.fixture
def manager_client(manager_user):
    return _client_for(manager_user)


@pytest.fixture
def business_client(business_user):
    return _client_for(business_user)


@pytest.fixture
def role_clients(admin_client, ops_client, manager_client, business_client, client):
    """Every role's client by name, plus an anonymous one."""
    return {
        "administrator": admin_client,
        "it_operations": ops_client,
        "manager": manager_client,
        "business_user": business_client,
        "anonymous": client,
    }
