from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ErpContinuityConfig(AppConfig):
    name = "erpcontinuity"
    verbose_name = "ERP Continuity"

    def ready(self) -> None:
        from . import roles

        # Permissions only exist after every app migrated, so the role → permission mapping is
        # (re)applied after each migrate. It is idempotent.
        post_migrate.connect(roles.sync_role_permissions_handler, dispatch_uid="erpc-sync-roles")
