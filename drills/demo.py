"""Demo data for drills/: three scenarios and four drills around the ERP outage plan — one reported
(with step timings, recovery figures, findings and action items), one completed, one planned in
two weeks (on the calendar, facilitated by `ops` so the demo can run it) and one cancelled.

Loaded by `python manage.py load_demo` after plans.demo and incidents.demo. Idempotent: scenarios
and drills are looked up by title and only created when missing, through drills.services.
"""

from __future__ import annotations

import datetime

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from incidents.models import Incident
from incidents.services import incident_transition
from plans.models import EmergencyPlan, ERPService, PlanVersion, ResponseRole

from . import services
from .models import Drill, Finding, Scenario

SCENARIOS = [
    {
        "title": "ERP database server lost during order intake",
        "kind": Scenario.Kind.ERP_DOWN,
        "description": "At 09:30 on a Monday the primary ERP database server fails (disk controller). "
        "The ERP application shows errors; sales and the warehouse cannot book anything.",
        "hypothesis": "Orders can be taken on paper within 15 minutes, the database is failed over to the "
        "replica within 2 hours, and the paper orders are re-keyed within 2 hours of recovery.",
        "abort_condition": "A real incident on any ERP service, or a customer order that cannot be handled.",
        "injects": [
            (0, "The service desk gets the first calls: “ERP shows error 500”."),
            (10, "The DBA reports the primary does not answer; the replica is 3 minutes behind."),
            (30, "The sales director asks when orders can be entered again."),
            (60, "An OEM customer sends an urgent EDI order."),
        ],
    },
    {
        "title": "Ransomware on the file server",
        "kind": Scenario.Kind.SECURITY,
        "description": "Encrypted files appear on the shared drive; the attacker's note asks for payment.",
        "hypothesis": "The infected machines are isolated within 30 minutes and the ERP stays clean.",
        "abort_condition": "Signs that the attack is real.",
        "injects": [
            (0, "A user reports files renamed to *.locked."),
            (20, "The ERP backup server shows failed logins."),
        ],
    },
    {
        "title": "WAN link to the Kunshan warehouse down",
        "kind": Scenario.Kind.NETWORK,
        "description": "The MPLS link fails; Kunshan cannot reach the ERP.",
        "hypothesis": "The backup internet line carries the VPN within 20 minutes.",
        "abort_condition": "",
        "injects": [(0, "Kunshan calls: scanners show “no connection”.")],
    },
]

ROLE_KEYS = ["incident-commander", "it-operations", "dba", "business-owner"]


def _workday(day: datetime.datetime, hour: int = 9, minute: int = 30) -> datetime.datetime:
    """The same day at a working hour, moved back to the Friday before when it falls on a weekend:
    drills happen in office hours, whatever time the demo is loaded."""
    local = timezone.localtime(day).replace(hour=hour, minute=minute, second=0, microsecond=0)
    while local.weekday() >= 5:
        local -= datetime.timedelta(days=1)
    return local


def _scenario(spec: dict) -> Scenario:
    scenario = Scenario.objects.filter(title=spec["title"]).first()
    if scenario is None:
        scenario = services.scenario_create(**spec)
    return scenario


def _plan_version() -> PlanVersion | None:
    plan = EmergencyPlan.objects.filter(title="ERP outage (application or database down)").first()
    if plan is None:
        return None
    return (
        plan.versions.filter(status=PlanVersion.Status.PUBLISHED).first() or plan.versions.order_by("-number").first()
    )


def _plan(title: str, scenario: Scenario, version: PlanVersion, start: datetime.datetime, facilitator: str, **extra):
    return services.drill_create(
        title=title,
        scenario=scenario,
        plan_version=version,
        kind=extra.get("kind", Drill.Kind.SIMULATION),
        scheduled_start=start,
        duration_minutes=extra.get("duration", 180),
        location=extra.get("location", "Meeting room 2 / bridge call"),
        facilitator=User.objects.get(username=facilitator),
        participant_roles=ResponseRole.objects.filter(key__in=ROLE_KEYS),
        services=ERPService.objects.filter(code__in=["erp-db", "sales"]),
    )


def _run(drill: Drill, start: datetime.datetime, *, slow: bool) -> None:
    """Play a drill through: steps with timings, the disruption and restore of each service."""
    services.drill_transition(drill=drill, to=Drill.Status.RUNNING, at=start)
    t = start
    for result in drill.service_results.all():
        services.service_disrupted(drill=drill, service_id=result.service_id, at=start + datetime.timedelta(minutes=2))
    for i, step in enumerate(drill.plan_version.steps.order_by("order", "id")):
        services.step_start(drill=drill, step_id=step.pk, at=t)
        factor = 1.6 if slow and i % 3 == 1 else 0.9
        t += datetime.timedelta(minutes=max(1, round(step.expected_minutes * factor)))
        outcome = "problem" if factor > 1 else "done"
        note = "Replica promotion waited for the on-call DBA's VPN token." if factor > 1 else ""
        services.step_finish(drill=drill, step_id=step.pk, outcome=outcome, note=note, at=t)
    for result in drill.service_results.select_related("service"):
        minutes = (150 if slow else 50) if result.service.code == "erp-db" else 95
        services.service_restored(
            drill=drill,
            service_id=result.service_id,
            data_loss_minutes=4 if result.service.code == "erp-db" else 10,
            at=start + datetime.timedelta(minutes=2 + minutes),
        )
    services.inject_log(drill=drill, inject_id=drill.scenario.injects.first().pk, at=start)


def _findings(drill: Drill, owner: User) -> None:
    today = timezone.localdate()
    specs = [
        (Finding.Kind.WENT_WELL, "low", "Paper order forms were at every sales desk", None),
        (
            Finding.Kind.DID_NOT,
            "high",
            "Database failover took longer than the RTO",
            today - datetime.timedelta(days=5),
        ),
        (
            Finding.Kind.PLAN_GAP,
            "medium",
            "The plan does not say who re-keys EDI orders",
            today + datetime.timedelta(days=20),
        ),
    ]
    for kind, severity, title, due in specs:
        finding = services.finding_create(drill=drill, kind=kind, severity=severity, title=title)
        if due:
            services.finding_add_action(finding=finding, owner=owner, due_date=due)


def _drill_alert(drill: Drill, start: datetime.datetime, *, acknowledged_by: User) -> None:
    """The synthetic alert of a drill, acknowledged 4 minutes after it fired and resolved when the
    drill ended, so the report shows a time to acknowledge."""
    drill = services.drill_raise_alert(drill=drill, at=start + datetime.timedelta(minutes=3))
    incident = drill.alert.incident
    for minutes, status in ((7, Incident.Status.ACKNOWLEDGED), (110, Incident.Status.RESOLVED)):
        incident = incident_transition(
            incident=incident, to=status, user=acknowledged_by, at=start + datetime.timedelta(minutes=minutes)
        )


def load(stdout) -> None:
    version = _plan_version()
    if version is None:
        stdout.write("drills: skipped (no ERP outage plan)")
        return
    created = 0
    now = timezone.now().replace(second=0, microsecond=0)
    with transaction.atomic():
        scenarios = [_scenario(spec) for spec in SCENARIOS]
        erp, ransomware, wan = scenarios
        if not Drill.objects.filter(title="Q3 database failover simulation").exists():
            start = _workday(now - datetime.timedelta(days=70))
            drill = _plan("Q3 database failover simulation", erp, version, start, "manager")
            _run(drill, start, slow=True)
            _findings(drill, User.objects.get(username="zhao.lei"))
            services.drill_transition(
                drill=drill, to=Drill.Status.COMPLETED, hypothesis_held=False,
                summary="Paper fallback worked; the failover missed the 2 h RTO by 30 minutes.",
                at=start + datetime.timedelta(minutes=170),
            )  # fmt: skip
            services.drill_transition(drill=drill, to=Drill.Status.REPORTED, at=start + datetime.timedelta(days=2))
            created += 1
        if not Drill.objects.filter(title="Q4 order intake tabletop").exists():
            start = _workday(now - datetime.timedelta(days=9), hour=14, minute=0)
            drill = _plan("Q4 order intake tabletop", erp, version, start, "ops", kind=Drill.Kind.TABLETOP)
            _run(drill, start, slow=False)
            _drill_alert(drill, start, acknowledged_by=User.objects.get(username="ops"))
            services.finding_create(drill=drill, kind=Finding.Kind.WENT_WELL, severity="low",
                                    title="Failover runbook followed without questions")  # fmt: skip
            services.drill_transition(drill=drill, to=Drill.Status.COMPLETED, hypothesis_held=True,
                                      at=start + datetime.timedelta(minutes=120))  # fmt: skip
            created += 1
        if not Drill.objects.filter(title="Ransomware walkthrough").exists():
            start = _workday(now - datetime.timedelta(days=30))
            drill = _plan("Ransomware walkthrough", ransomware, version, start, "manager", kind=Drill.Kind.WALKTHROUGH)
            services.drill_transition(drill=drill, to=Drill.Status.CANCELLED, reason="Month-end close.", at=start)
            created += 1
        if not Drill.objects.filter(title="Kunshan WAN failover drill").exists():
            start = _workday(now + datetime.timedelta(days=14))
            _plan("Kunshan WAN failover drill", wan, version, start, "ops")
            created += 1
    stdout.write(f"drills: scenarios {len(scenarios)}, drills: {created} new")
