"""Create (or show) the API token of a machine account that may raise and resolve alerts.

    python manage.py alert_token                 # account "alert-bot"
    python manage.py alert_token zabbix --rotate # a new token for account "zabbix"

The account has no password (it cannot log in to the pages) and one permission:
incidents.raise_alert. Use the token as `Authorization: Token <key>` on /api/alerts/raise/."""

from erpcontinuity.machine_tokens import MachineTokenCommand


class Command(MachineTokenCommand):
    help = "Create or show the API token of a machine account allowed to raise alerts."
    default_username = "alert-bot"
    permission = "incidents.raise_alert"
