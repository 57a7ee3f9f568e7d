"""Load the demo data set: a mid-size manufacturer with its ERP services, team, plans and risks.

Each app with demo data has a `demo.py` with `load(stdout)`; they run in the order below (later
apps refer to what earlier ones created). A new app adds one line to DEMO_LOADERS. Every loader is
idempotent, so running the command again creates nothing new.
"""

from importlib import import_module

from django.core.management.base import BaseCommand

DEMO_LOADERS = [
    "plans.demo",
    "risks.demo",
    "incidents.demo",
    "backups.demo",
    "monitoring.demo",
    "drills.demo",
    "training.demo",
]


class Command(BaseCommand):
    help = "Load the demo data set (idempotent: a second run creates nothing new)."

    def handle(self, *args, **options) -> None:
        for path in DEMO_LOADERS:
            import_module(path).load(self.stdout)
        self.stdout.write(self.style.SUCCESS("Demo data loaded. Logins: admin, ops, manager, business / demo-password"))
