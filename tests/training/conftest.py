"""Shared fixtures of the training tests. Tests marked `postgres` skip on SQLite (and fail in CI
without PostgreSQL), with the same autouse fixture as the incident tests."""

import pytest

from plans import services as plan_services
from tests.factories import PlanFactory, StepFactory, VersionFactory


@pytest.fixture
def plan(manager_user):
    """A plan with version 1 published (one step)."""
    plan = PlanFactory()
    draft = VersionFactory(plan=plan, number=1)
    StepFactory(version=draft)
    plan_services.version_publish(version=draft, user=manager_user)
    return plan
