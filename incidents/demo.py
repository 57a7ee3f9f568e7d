"""Demo data for incidents/: channels, an escalation policy, a past incident with its review, an
open incident raised by monitoring, and next Sunday's maintenance window.

Loaded by `python manage.py load_demo` after plans.demo (it uses its people, services, roles and
plans). Idempotent: everything is looked up by a natural key (channel and policy name, incident
title, silence reason) and only created when missing, through incidents.services.

The channels are created last, so loading the demo does not queue messages about incidents that
are only there to be looked at. The webhook channel points at the discard port and is disabled.
"""

from __future__ import annotations

import datetime

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from plans.models import EmergencyPlan, ERPService, ResponseRole

from . import selectors, services
from .models import EscalationPolicy, Incident, NotificationChannel, Silence

EMAIL_DOMAIN = "huaxin-pm.example"
PAST_TITLE = "ERP database disk full: all ERP transactions stopped"
OPEN_ALERT = {
    "source": "monitoring",
    "fingerprint": "http:sales-order-entry",
    "severity": "sev2",
    "summary": "Sales order entry: HTTP 502 from the ERP application",
}
MAINTENANCE_REASON = "Monthly OS patching of the ERP database servers (replica first, then primary)"


def _user(username: str) -> User | None:
    return User.objects.filter(username=username).first()


def _service(code: str) -> ERPService | None:
    return ERPService.objects.filter(code=code).first()


def _load_policy(report: list[str]) -> None:
    if EscalationPolicy.objects.filter(name="ERP on-call").exists():
        return
    policy = services.policy_create(
        name="ERP on-call",
        description="IT operations first; the incident commander if nobody acknowledges within 15 minutes.",
        is_default=True,
        services=[s for s in (_service(c) for c in ("erp-db", "erp-app", "sales", "inventory")) if s],
    )
    ops_role = ResponseRole.objects.filter(key="it-operations").first()
    commander_role = ResponseRole.objects.filter(key="incident-commander").first()
    if ops_role:
        services.level_create(policy=policy, order=1, delay_minutes=0, notify_role=ops_role)
    if commander_role:
        services.level_create(policy=policy, order=2, delay_minutes=15, notify_role=commander_role)
    report.append("escalation policy")


def _load_past_incident(report: list[str]) -> None:
    if Incident.objects.filter(title=PAST_TITLE).exists():
        return
    db, ops, dba, manager = _service("erp-db"), _user("ops"), _user("zhao.lei"), _user("manager")
    if db is None or ops is None:
        return
    start = timezone.now().replace(hour=8, minute=12, second=0, microsecond=0) - datetime.timedelta(days=20)
    minute = datetime.timedelta(minutes=1)
    incident = services.incident_open(
        title=PAST_TITLE,
        severity="sev1",
        user=ops,
        services=[db],
        description="The WAL volume of the primary filled up; PostgreSQL stopped accepting writes.",
        business_impact="No orders, goods receipts or shipments could be booked for 2 hours.",
        commander=manager,
        detected_at=start - 4 * minute,
        at=start,
    )
    services.incident_transition(incident=incident, to="acknowledged", user=ops, at=start + 3 * minute)
    services.incident_add_note(
        incident=incident,
        user=dba or ops,
        message="WAL volume at 100 %: archiving to the backup server failed since Friday.",
        at=start + 11 * minute,
    )
    services.incident_transition(incident=incident, to="investigating", user=dba or ops, at=start + 12 * minute)
    plan = EmergencyPlan.objects.filter(title="ERP outage (application or database down)").first()
    if plan is not None and plan.versions.filter(status="published").exists():
        items = services.incident_attach_plan(incident=incident, user=ops, plan=plan, at=start + 14 * minute)
        for offset, item in enumerate(items[:4]):
            services.checklist_item_done(item=item, user=ops, at=start + (20 + 10 * offset) * minute)
    services.incident_publish_update(
        incident=incident,
        user=manager or ops,
        message="The ERP is down. Take orders and ship on paper; we expect it back before 11:00.",
        at=start + 25 * minute,
    )
    services.incident_transition(
        incident=incident,
        to="mitigated",
        user=dba or ops,
        note="Archiving fixed, old WAL removed",
        at=start + 95 * minute,
    )
    services.incident_transition(incident=incident, to="resolved", user=ops, at=start + 118 * minute)
    services.incident_transition(incident=incident, to="closed", user=manager or ops, at=start + 2 * 1440 * minute)

    review = services.review_save(
        incident=incident,
        user=manager or ops,
        summary="The ERP stopped for 1 h 58 min because the database's WAL volume filled up.",
        root_cause="WAL archiving had failed for three days after a password change on the backup server; "
        "nobody was alerted because the archive check only logged a warning.",
        went_well="Sales and the warehouse switched to paper within 20 minutes; no order was lost.",
        went_badly="The first alert came from users, not monitoring. The DBA's deputy could not be reached.",
        lessons="Alert on failed WAL archiving and on volume usage above 80 %. Keep deputies' numbers current.",
    )
    services.review_complete(review=review, user=manager or ops)
    today = timezone.localdate()
    for title, owner, due in [
        (
            "Alert when WAL archiving fails or the WAL volume passes 80 %",
            dba or ops,
            today + datetime.timedelta(days=10),
        ),
        ("Store the backup server's credentials in the password vault", ops, today - datetime.timedelta(days=3)),
    ]:
        services.review_add_action_item(review=review, user=manager or ops, title=title, owner=owner, due_date=due)
    report.append("resolved incident with review")


def _load_open_incident(report: list[str]) -> None:
    if (
        selectors.alert_list(filters={"source": OPEN_ALERT["source"]})
        .filter(fingerprint=OPEN_ALERT["fingerprint"])
        .exists()
    ):
        return
    sales, ops = _service("sales"), _user("ops")
    if sales is None:
        return
    now = timezone.now()
    alert = services.raise_alert(**OPEN_ALERT, service=sales, at=now - datetime.timedelta(minutes=25))
    for minutes in (20, 15, 10, 5):
        services.raise_alert(**OPEN_ALERT, service=sales, at=now - datetime.timedelta(minutes=minutes))
    incident = alert.incident
    if ops is not None:
        services.incident_transition(
            incident=incident, to="acknowledged", user=ops, at=now - datetime.timedelta(minutes=21)
        )
        services.incident_add_note(
            incident=incident,
            user=ops,
            message="Two of three application servers answer 502; restarting them one by one.",
            at=now - datetime.timedelta(minutes=18),
        )
        services.incident_publish_update(
            incident=incident,
            user=ops,
            message="Order entry in the ERP fails for most users. Take orders on the paper form; "
            "we will tell you when to enter them.",
            at=now - datetime.timedelta(minutes=15),
        )
    report.append("open incident from an alert")


def _next_sunday_window() -> tuple[datetime.datetime, datetime.datetime]:
    today = timezone.localdate()
    days = (6 - today.weekday()) % 7 or 7
    sunday = today + datetime.timedelta(days=days)
    start = timezone.make_aware(datetime.datetime.combine(sunday, datetime.time(2, 0)))
    return start, start + datetime.timedelta(hours=4)


def _load_maintenance(report: list[str]) -> None:
    if Silence.objects.filter(reason=MAINTENANCE_REASON).exists():
        return
    db = _service("erp-db")
    if db is None:
        return
    starts_at, ends_at = _next_sunday_window()
    services.silence_create(
        user=_user("zhao.lei"),
        kind=Silence.Kind.MAINTENANCE,
        service=db,
        starts_at=starts_at,
        ends_at=ends_at,
        reason=MAINTENANCE_REASON,
    )
    report.append("maintenance window")


CHANNELS = [
    {
        "name": "IT operations mail",
        "kind": "email",
        "target": f"it-ops@{EMAIL_DOMAIN}",
        "audience": "ops",
        "min_severity": "sev4",
    },
    {
        "name": "Management mail (SEV1–SEV2)",
        "kind": "email",
        "target": f"management@{EMAIL_DOMAIN}",
        "audience": "management",
        "min_severity": "sev2",
    },
    {
        "name": "Ops chat webhook (example, disabled)",
        "kind": "webhook",
        "target": "http://127.0.0.1:9/",
        "audience": "ops",
        "enabled": False,
    },
    {
        "name": "Sales DingTalk group (example, disabled)",
        "kind": "dingtalk",
        "target": "http://127.0.0.1:9/robot/send?access_token=example",
        "secret": "SECexample",
        "audience": "business",
        "min_severity": "sev2",
        "enabled": False,
    },
]


def _load_channels(report: list[str]) -> None:
    for spec in CHANNELS:
        if not NotificationChannel.objects.filter(name=spec["name"]).exists():
            services.channel_create(**spec)
            report.append(f"channel {spec['name']}")


def load(stdout) -> None:
    report: list[str] = []
    with transaction.atomic():
        _load_past_incident(report)  # before the policy: a past incident escalates nobody today
        _load_policy(report)
        _load_open_incident(report)
        _load_maintenance(report)
        _load_channels(report)
    stdout.write("incidents: " + (", ".join(report) + " created" if report else "nothing new"))
