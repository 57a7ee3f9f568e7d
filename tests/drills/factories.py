"""Test data for drills: a plan version with steps, a scenario with injects, a drill planned
through drills.services (so its service targets are frozen as in real use)."""

from __future__ import annotations

import datetime

from django.utils import timezone

from drills import services
from drills.models import Drill, Scenario
from plans.models import PlanVersion
from tests.factories import MemberFactory, RoleFactory, ServiceFactory, StepFactory, UserFactory, VersionFactory


def make_scenario(**overrides) -> Scenario:
    fields = {
        "title": f"Scenario {Scenario.objects.count() + 1}",
        "kind": Scenario.Kind.ERP_DOWN,
        "description": "The ERP database is down.",
        "hypothesis": "Orders are taken on paper within 15 minutes.",
        "abort_condition": "A real incident.",
        "injects": [(0, "The service desk gets calls"), (10, "The replica is 3 minutes behind")],
    }
    fields.update(overrides)
    return services.scenario_create(**fields)


def make_drill(
    *, facilitator=None, participants=(), steps=(10, 20, 30), service_targets=((60, 15),), **overrides
) -> Drill:
    """A planned drill. `participants` are users given the drill's participant role; each service
    gets (RTO, RPO) targets from `service_targets`."""
    facilitator = facilitator or UserFactory(role="it_operations")
    version = VersionFactory()
    role = RoleFactory()
    for user in participants:
        MemberFactory(role=role, user=user, rank=role.members.count() + 1, email=user.email)
    for minutes in steps:
        StepFactory(version=version, role=role, expected_minutes=minutes)
    PlanVersion.objects.filter(pk=version.pk).update(status=PlanVersion.Status.PUBLISHED, published_at=timezone.now())
    version.refresh_from_db()
    svcs = [
        ServiceFactory(rto_minutes=rto, rpo_minutes=rpo, mtpd_minutes=max(rto, 480)) for rto, rpo in service_targets
    ]
    fields = {
        "title": "Database failover drill",
        "scenario": overrides.pop("scenario", None) or make_scenario(),
        "plan_version": version,
        "kind": Drill.Kind.SIMULATION,
        "scheduled_start": timezone.now() + datetime.timedelta(days=3),
        "duration_minutes": 120,
        "facilitator": facilitator,
        "participant_roles": [role],
        "services": svcs,
    }
    fields.update(overrides)
    return services.drill_create(**fields)
