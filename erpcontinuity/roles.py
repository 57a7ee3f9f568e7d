"""The four roles and what each may do.

Groups are created by a migration (erpcontinuity/migrations/0001); their permissions are applied
after every `migrate` by `sync_role_permissions`, because a permission row only exists once its
app has migrated. Later apps add their codenames here.

- administrator: everything, including users and the audit trail.
- it_operations: runs the continuity core day to day (services, team, plan drafts, fallbacks,
  action items), reads and proposes risks; does not approve plans.
- manager: reads everything, approves and publishes plans, owns the risk register, reads the audit trail.
- business_user: reads services, published plans and fallback procedures; changes nothing there.
"""

from __future__ import annotations

ADMINISTRATOR = "administrator"
IT_OPERATIONS = "it_operations"
MANAGER = "manager"
BUSINESS_USER = "business_user"
ROLES = (ADMINISTRATOR, IT_OPERATIONS, MANAGER, BUSINESS_USER)


def _crud(app: str, model: str, actions: str = "vacd") -> list[str]:
    names = {"v": "view", "a": "add", "c": "change", "d": "delete"}
    return [f"{app}.{names[a]}_{model}" for a in actions]


CORE_MODELS = [
    ("plans", "erpservice"),
    ("plans", "department"),
    ("plans", "responserole"),
    ("plans", "teammember"),
    ("plans", "emergencyplan"),
    ("plans", "planversion"),
    ("plans", "planstep"),
    ("plans", "communicationrule"),
    ("plans", "fallbackprocedure"),
    ("plans", "actionitem"),
]

INCIDENT_MODELS = [
    ("incidents", "incident"),
    ("incidents", "timelineentry"),
    ("incidents", "checklistitem"),
    ("incidents", "alert"),
    ("incidents", "silence"),
    ("incidents", "escalationpolicy"),
    ("incidents", "escalationlevel"),
    ("incidents", "notificationchannel"),
    ("incidents", "notification"),
    ("incidents", "postincidentreview"),
]

BACKUP_MODELS = [
    ("backups", "backuppolicy"),
    ("backups", "backuplocation"),
    ("backups", "backuprun"),
    ("backups", "verification"),
]

MONITORING_MODELS = [
    ("monitoring", "check"),
    ("monitoring", "sample"),
    ("monitoring", "hourlyaggregate"),
    ("monitoring", "event"),
]

# Drills (drills/) and training (training/): each app's permissions per role, merged below.
# Drills: managers plan (scenarios, drills), read every drill and report, and may run any drill;
# ops read every drill and run those they facilitate (object check in drills/services.py can_run);
# business users see only the drills they take part in (view_drill without view_all_drills).
DRILL_PERMISSIONS: dict[str, list[str]] = {
    IT_OPERATIONS: ["drills.view_scenario", "drills.view_drill", "drills.view_all_drills", "drills.run_drill"],
    MANAGER: [
        *_crud("drills", "scenario"),
        *_crud("drills", "drill"),
        "drills.view_all_drills",
        "drills.run_drill",
    ],
    BUSINESS_USER: ["drills.view_drill"],
}
TRAINING_PERMISSIONS: dict[str, list[str]] = {
    # Everyone takes courses and acknowledges plans with no permission (logged in is enough);
    # managers author courses, assign them and read coverage.
    IT_OPERATIONS: [],
    MANAGER: [
        *[p for m in ("course", "question", "choice", "assignment", "courseattachment") for p in _crud("training", m)],
        *[p for m in ("attempt", "completion", "acknowledgement") for p in _crud("training", m, "v")],
        "training.view_coverage",
    ],
    BUSINESS_USER: [],
}

ROLE_PERMISSIONS: dict[str, list[str]] = {
    IT_OPERATIONS: [
        *[p for app, model in CORE_MODELS for p in _crud(app, model)],
        *_crud("risks", "risk", "vac"),
        # Incident response: ops run it end to end, and may raise alerts through the API.
        *[p for app, model in INCIDENT_MODELS for p in _crud(app, model)],
        "incidents.raise_alert",
        "incidents.view_status",
        # Backups: ops run them end to end, and backup jobs report through an ops token.
        *[p for app, model in BACKUP_MODELS for p in _crud(app, model)],
        "backups.report_backup",
        # Monitoring: ops manage checks, and agents push metrics/heartbeats through an ops token.
        *[p for app, model in MONITORING_MODELS for p in _crud(app, model)],
        "monitoring.push_metrics",
    ],
    MANAGER: [
        *[p for app, model in CORE_MODELS for p in _crud(app, model)],
        "plans.approve_planversion",
        *_crud("risks", "risk"),
        "auditlog.view_logentry",
        # Managers read every incident and statistic, and write post-incident reviews.
        *[p for app, model in INCIDENT_MODELS for p in _crud(app, model, "v")],
        *_crud("incidents", "postincidentreview", "ac"),
        "incidents.view_status",
        # Managers read backup policies, runs and verifications.
        *[p for app, model in BACKUP_MODELS for p in _crud(app, model, "v")],
        # Managers read checks and their samples.
        *[p for app, model in MONITORING_MODELS for p in _crud(app, model, "v")],
    ],
    BUSINESS_USER: [
        "plans.view_erpservice",
        "plans.view_emergencyplan",
        "plans.view_fallbackprocedure",
        "incidents.view_status",
    ],
}

for _extra in (DRILL_PERMISSIONS, TRAINING_PERMISSIONS):
    for _role, _names in _extra.items():
        ROLE_PERMISSIONS[_role].extend(_names)


def sync_role_permissions() -> None:
    from django.contrib.auth.models import Group, Permission

    all_perms = {
        f"{p.content_type.app_label}.{p.codename}": p for p in Permission.objects.select_related("content_type")
    }
    for role in ROLES:
        group, _ = Group.objects.get_or_create(name=role)
        if role == ADMINISTRATOR:
            wanted = list(all_perms.values())
        else:
            wanted = [all_perms[name] for name in ROLE_PERMISSIONS.get(role, []) if name in all_perms]
        group.permissions.set(wanted)


def sync_role_permissions_handler(sender, **kwargs) -> None:
    # Run once per migrate, after the last app with models (post_migrate is sent per app, and
    # each app's permissions are created by its own signal), so every permission exists by then.
    from django.apps import apps

    with_models = [config for config in apps.get_app_configs() if config.models_module is not None]
    if with_models and sender is with_models[-1]:
        sync_role_permissions()


def user_role(user) -> str | None:
    """The main role of a user, for navigation and landing pages."""
    if not user.is_authenticated:
        return None
    if user.is_superuser:
        return ADMINISTRATOR
    names = {g.name for g in user.groups.all()}
    for role in ROLES:
        if role in names:
            return role
    return None
