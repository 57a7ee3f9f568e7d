"""The main navigation: each entry shows only to users holding its permission.

Later apps append their entries here. An entry whose URL does not resolve (an app not wired yet)
is skipped rather than breaking every page."""

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

# (url name, label, permission needed or None, access key)
NAV_ITEMS = [
    ("dashboard", _("Dashboard"), "plans.view_erpservice", "d"),
    ("incidents:incident-list", _("Incidents"), "incidents.view_incident", "i"),
    ("incidents:alert-list", _("Alerts"), "incidents.view_alert", None),
    ("monitoring:check-list", _("Monitoring"), "monitoring.view_check", "m"),
    ("status", _("Status"), "incidents.view_status", None),
    ("plans:service-list", _("Services"), "plans.view_erpservice", "s"),
    ("plans:plan-list", _("Plans"), "plans.view_emergencyplan", "p"),
    ("plans:fallback-list", _("Fallback procedures"), "plans.view_fallbackprocedure", "f"),
    ("plans:team", _("Response team"), "plans.view_responserole", "t"),
    ("risks:risk-list", _("Risks"), "risks.view_risk", "r"),
    ("backups:overview", _("Backups"), "backups.view_backuppolicy", "b"),
    ("drills:drill-list", _("Drills"), "drills.view_drill", "x"),
    ("training:my-training", _("My training"), None, "l"),
    ("training:coverage", _("Training coverage"), "training.view_coverage", None),
    ("plans:action-list", _("Action items"), "plans.view_actionitem", "a"),
    ("incidents:stats", _("Statistics"), "incidents.view_incident", None),
    ("audit-log", _("Audit trail"), "auditlog.view_logentry", None),
]


def items_for(user, current_path: str) -> list[dict]:
    items = []
    for url_name, label, perm, key in NAV_ITEMS:
        if perm and not user.has_perm(perm):
            continue
        try:
            url = reverse(url_name)
        except NoReverseMatch:
            continue
        active = current_path == url if url == "/" else current_path.startswith(url)
        items.append({"url": url, "label": label, "active": active, "accesskey": key})
    # Nested sections (/incidents/ and /incidents/alerts/): only the longest matching entry is current.
    current = [item for item in items if item["active"]]
    if len(current) > 1:
        deepest = max(current, key=lambda item: len(item["url"]))
        for item in current:
            item["active"] = item is deepest
    return items
