"""Machine accounts for tools that call the API: no password (they cannot log in to the pages),
exactly one permission, and a token to send as `Authorization: Token <key>`.

Each app's `<x>_token` management command is a `MachineTokenCommand` naming its permission."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management.base import BaseCommand
from django.db import transaction
from rest_framework.authtoken.models import Token


@transaction.atomic
def machine_token(*, username: str, permission: str, rotate: bool = False) -> str:
    """The token of machine account `username` holding `permission` ("app_label.codename");
    the account is created on first use, and `rotate` replaces its token with a new one."""
    app_label, codename = permission.split(".", 1)
    user, created = get_user_model().objects.get_or_create(username=username)
    if created:
        user.set_unusable_password()
        user.save()
    user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    if rotate:
        Token.objects.filter(user=user).delete()
    token, _ = Token.objects.get_or_create(user=user)
    return token.key


class MachineTokenCommand(BaseCommand):
    default_username = ""
    permission = ""

    def add_arguments(self, parser):
        parser.add_argument("username", nargs="?", default=self.default_username)
        parser.add_argument("--rotate", action="store_true", help="Replace the existing token with a new one.")

    def handle(self, *args, username: str, rotate: bool, **options):
        self.stdout.write(machine_token(username=username, permission=self.permission, rotate=rotate))
