"""Shared fixtures of the incident tests.

Tests marked `postgres` need PostgreSQL (row locks, concurrent transactions). On a bare machine
with SQLite they are skipped; in CI (CI=true) a missing PostgreSQL is a failure, never a skip."""

import os

import pytest
from django.db import connection

from tests.factories import ServiceFactory


@pytest.fixture(autouse=True)
def _require_postgres_when_marked(request):
    if request.node.get_closest_marker("postgres") and connection.vendor != "postgresql":
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("This test needs PostgreSQL, and CI must run it (set DATABASE_URL=postgres://...).")
        pytest.skip("needs PostgreSQL (DATABASE_URL=postgres://...)")


@pytest.fixture
def erp_db(db):
    return ServiceFactory(name="ERP database", code="erp-db", kind="infrastructure", criticality=1)


@pytest.fixture
def sales(erp_db):
    service = ServiceFactory(name="Sales", code="sales", criticality=1)
    service.depends_on.add(erp_db)
    return service


@pytest.fixture
def shipping(erp_db):
    service = ServiceFactory(name="Shipping", code="shipping", criticality=2)
    service.depends_on.add(erp_db)
    return service


@pytest.fixture
def receiver():
    from .receiver import Receiver

    with Receiver() as r:
        yield r
