"""Demo data for monitoring/: one check of each kind on the demo's ERP services, with a few days
of history so the charts (and the learned baseline band) show something at once.

Loaded by `python manage.py load_demo` after plans.demo. Idempotent: checks are looked up by name
and only created (through monitoring.services) when missing. The HTTP check polls this tool's own
/healthz on the embedded default address, so a newcomer sees it run when the worker runs; the
nightly-export heartbeat got its last push three hours ago."""

from __future__ import annotations

import datetime
import math
import random
from urllib.parse import quote

from django.db import transaction
from django.utils import timezone

from plans.models import ERPService

from . import services
from .models import Check, Sample

CHECKS = [
    {
        "service": "erp-continuity", "name": "ERP Continuity health", "kind": "http",
        "settings": {"url": "http://127.0.0.1:8000/healthz", "expected_status": 200},
        "warning_threshold": 500, "critical_threshold": 2000, "breaches_to_fire": 2, "recoveries_to_clear": 2,
    },
    {
        "service": "erp-db", "name": "ERP database port", "kind": "tcp",
        "settings": {"host": "127.0.0.1", "port": 5432}, "warning_threshold": 200, "breaches_to_fire": 3,
    },
    {
        "service": "erp-app", "name": "ERP application server load", "kind": "prometheus",
        "settings": {"server_url": "http://127.0.0.1:9090", "expression": 'node_load1{job="erp-app"}'},
        "critical_threshold": 16, "use_baseline": True, "baseline_sigma": 3, "breaches_to_fire": 3,
    },
    {
        "service": "erp-db", "name": "Deadlocks and ORA-/PG errors", "kind": "log_pattern",
        "settings": {"pattern": r"ORA-\d{5}|deadlock detected|40P01", "window_minutes": 5},
        "warning_threshold": 0, "critical_threshold": 10,
    },
    {
        "service": "identity", "name": "Login failures per user", "kind": "event_rule",
        "settings": {"event": "login_failure", "rule": "count", "group_by": "user", "window_minutes": 15},
        "warning_threshold": 5, "critical_threshold": 20,
    },
    {
        "service": "finance", "name": "Privileged changes outside working hours", "kind": "event_rule",
        "settings": {"event": "privileged_operation", "rule": "outside_hours", "window_minutes": 60,
                     "work_start": "08:00", "work_end": "19:00", "work_days": [1, 2, 3, 4, 5]},
    },
    {
        "service": "sales", "name": "Nightly ERP order export", "kind": "heartbeat",
        "settings": {"every_minutes": 1440, "grace_minutes": 60}, "interval_seconds": 300,
    },
]  # fmt: skip
HISTORY_DAYS = 7
# Checks that point at servers a demo machine may not have (a Prometheus, the ERP database port):
# loaded paused, with their history, so they raise nothing until someone points them at real
# servers and resumes them.
PAUSED = {"ERP application server load", "ERP database port"}
# The SQL check reads this tool's own database (the demo has no ERP database to query).
SQL_CHECK = {
    "service": "erp-continuity", "name": "Open incidents in ERP Continuity", "kind": "sql",
    "settings": {"query": "SELECT count(*) FROM incidents_incident "
                          "WHERE status IN ('open', 'acknowledged', 'investigating', 'mitigated')"},
    "warning_threshold": 3, "critical_threshold": 10,
}  # fmt: skip


def _own_database_url() -> str | None:
    from django.db import connection

    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return None if "memory" in str(s["NAME"]) else f"sqlite:///{s['NAME']}"
    auth = quote(s["USER"] or "") + (":" + quote(s["PASSWORD"]) if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def _history(check: Check, now: datetime.datetime, rng: random.Random) -> None:
    """A week of samples every 15 minutes: a daily load curve for the Prometheus check, response
    times for the polled HTTP/TCP checks."""
    rows = []
    for i in range(HISTORY_DAYS * 96, 0, -1):
        at = now - datetime.timedelta(minutes=15 * i)
        hour = timezone.localtime(at).hour + timezone.localtime(at).minute / 60
        if check.kind == Check.Kind.PROMETHEUS:
            value = 4 + 5 * max(0.0, math.sin((hour - 6) / 14 * math.pi)) + rng.uniform(-0.6, 0.6)
        else:
            value = rng.uniform(8, 40) if check.kind == Check.Kind.HTTP else rng.uniform(0.3, 2.0)
        rows.append(Sample(monitor_check=check, at=at, value=round(value, 3)))
    Sample.objects.bulk_create(rows[:-1], batch_size=1000)
    # The newest sample goes through the service, so the check has a state and a last value.
    services.record(check=check, value=rows[-1].value, at=rows[-1].at)


@transaction.atomic
def load(stdout) -> None:
    services_by_code = {s.code: s for s in ERPService.objects.all()}
    rng = random.Random(4)
    now = timezone.now()
    created = 0
    specs = list(CHECKS)
    url = _own_database_url()
    if url:
        specs.append({**SQL_CHECK, "settings": {**SQL_CHECK["settings"], "database_url": url}})
    for spec in specs:
        spec = dict(spec)
        service = services_by_code.get(spec.pop("service"))
        if service is None or Check.objects.filter(name=spec["name"]).exists():
            continue
        check = services.check_create(service=service, **spec)
        if check.kind in (Check.Kind.HTTP, Check.Kind.TCP, Check.Kind.PROMETHEUS):
            _history(check, now, rng)
        if check.name in PAUSED:
            services.check_set_paused(check=check, paused=True)
        if check.kind == Check.Kind.HEARTBEAT:
            services.heartbeat_ping(check=check, at=now - datetime.timedelta(hours=3))
        created += 1
    stdout.write(f"monitoring: checks {created} new")
