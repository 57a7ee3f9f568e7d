"""Create (or show) the API token of a machine account that may report backup runs.

    python manage.py backup_token                  # account "backup-bot"
    python manage.py backup_token nas-job --rotate # a new token for account "nas-job"

The account has no password (it cannot log in to the pages) and one permission:
backups.report_backup. Backup jobs send it as `Authorization: Token <key>` to /api/backup-runs/."""

from erpcontinuity.machine_tokens import MachineTokenCommand


class Command(MachineTokenCommand):
    help = "Create or show the API token of a machine account allowed to report backup runs."
    default_username = "backup-bot"
    permission = "backups.report_backup"
