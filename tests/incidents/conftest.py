"""Shared fixtures of the incident tests.

Tests marked `postgres` need PostgreSQL (tests/conftest.py): skipped on a bare machine with
SQLite, a failure in CI (CI=true)."""

import pytest

from tests.factories import ServiceFactory


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
