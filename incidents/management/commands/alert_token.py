"""Create (or show) the API token of a machine account that may raise and resolve alerts.

    python manage.py alert_token                 # account "alert-bot"
    python manage.py alert_token zabbix --rotate # a new token for account "zabbix"

The account has no password (it cannot log in to the pages) and one permission:
incidents.raise_alert. Use the token as `Authorization: Token <key>` on /api/alerts/raise/."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management.base import BaseCommand
from django.db import transaction
from rest_framework.authtoken.models import Token


class Command(BaseCommand):
    help = "Create or show the API token of a machine account allowed to raise alerts."

    def add_arguments(self, parser):
        parser.add_argument("username", nargs="?", default="alert-bot")
        parser.add_argument("--rotate", action="store_true", help="Replace the existing token with a new one.")

    @transaction.atomic
    def handle(self, *args, username: str, rotate: bool, **options):
        user, created = get_user_model().objects.get_or_create(username=username)
        if created:
            user.set_unusable_password()
            user.save()
        user.user_permissions.add(Permission.objects.get(content_type__app_label="incidents", codename="raise_alert"))
        if rotate:
            Token.objects.filter(user=user).delete()
        token, _ = Token.objects.get_or_create(user=user)
        self.stdout.write(token.key)
