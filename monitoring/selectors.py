"""Read-only queries of monitoring used by other pages (the dashboard)."""

from __future__ import annotations

from .models import Check

DASHBOARD_CHECKS = 8


def checks_not_ok(limit: int = DASHBOARD_CHECKS) -> dict:
    """Unpaused checks that are not OK, worst first (critical, warning, unknown), with their
    service: {"count": n, "checks": [...the first `limit`]}. Two queries."""
    order = {Check.State.CRITICAL: 0, Check.State.WARNING: 1, Check.State.UNKNOWN: 2}
    bad = Check.objects.filter(paused=False).exclude(state=Check.State.OK).select_related("service")
    checks = sorted(bad.order_by("service__criticality", "name")[:200], key=lambda c: order.get(c.state, 3))
    return {"count": bad.count(), "checks": checks[:limit]}
