from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from frontline.accounts.models import Role, User
from frontline.accounts.services import user_create, user_update
from frontline.core.errors import DomainError


class Command(BaseCommand):
    help = "Create an admin user non-interactively (or reset the password if it exists)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", required=True)
        parser.add_argument("--email", required=True)
        parser.add_argument("--password", required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        if len(options["password"]) < 8:
            raise CommandError("The password must have at least 8 characters.")
        existing = User.objects.filter(username=options["username"]).first()
        try:
            if existing is not None:
                user_update(user=existing, email=options["email"], role=Role.ADMIN, is_active=True)
                existing.set_password(options["password"])
                existing.save(update_fields=["password"])
                self.stdout.write(f"Updated admin {existing.username}")
                return
            user = user_create(
                username=options["username"],
                email=options["email"],
                password=options["password"],
                role=Role.ADMIN,
            )
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"Created admin {user.username}")
