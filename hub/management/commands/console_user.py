"""manage.py console_user NAME --role business|support: a person who uses the console."""

from __future__ import annotations

import os
import secrets

from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from hub.admin.roles import ROLES, RoleError, user_role_set

PASSWORD_ENV = "CONSOLE_USER_PASSWORD"


class Command(BaseCommand):
    help = (
        "Create or update a console user (staff) in one role: business (reads) or support (also acts). "
        f"The password comes from --password, else from ${PASSWORD_ENV}; a new user without either gets a "
        "generated one, printed once. An existing user keeps its password unless one is given or "
        "--new-password asks for a generated one."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        # Checked in handle(), so that call_command() gets the same clear error as the command line.
        parser.add_argument("--role", required=True, help=f"one of: {', '.join(ROLES)}")
        parser.add_argument("--password", help=f"the password (else ${PASSWORD_ENV}, else a generated one)")
        parser.add_argument("--new-password", action="store_true", help="generate a new password and print it")
        parser.add_argument("--email", default=None)

    def handle(self, username, role, password=None, new_password=False, email=None, **options):
        role = (role or "").strip().lower()
        if role not in ROLES:
            raise CommandError(f"Unknown role {role!r}: choose one of {', '.join(ROLES)}.")
        username = username.strip()
        if not username:
            raise CommandError("The username is empty.")
        given = password or os.environ.get(PASSWORD_ENV) or None
        User = get_user_model()  # noqa: N806
        with transaction.atomic():
            user, created = User.objects.get_or_create(username=username)
            generated = None
            if given:
                self._validate(given, user)
                user.set_password(given)
            elif created or new_password:
                generated = secrets.token_urlsafe(12)
                user.set_password(generated)
            if email is not None:
                user.email = email
            user.is_staff = True
            user.is_active = True
            user.save()
            try:
                user_role_set(user=user, role=role)
            except RoleError as exc:
                raise CommandError(str(exc)) from exc
        self.stdout.write(f"{'created' if created else 'updated'} console user {username} with role {role}")
        if generated:
            self.stdout.write(f"password: {generated}")

    def _validate(self, password: str, user) -> None:
        try:
            password_validation.validate_password(password, user)
        except ValidationError as exc:
            raise CommandError("The password is refused: " + " ".join(exc.messages)) from exc
