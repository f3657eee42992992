from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from frontline.accounts.models import ApiToken, User
from frontline.accounts.services import api_token_create, api_token_revoke
from frontline.core.errors import DomainError


class Command(BaseCommand):
    help = "Manage API tokens: create (prints the secret alone on its last line), list, revoke."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="create a token")
        create.add_argument("--user", required=True, help="username")
        create.add_argument("--name", required=True)
        create.add_argument("--scope", choices=["read", "write"], default="read")
        listing = sub.add_parser("list", help="list a user's tokens")
        listing.add_argument("--user", required=True)
        revoke = sub.add_parser("revoke", help="revoke a token by id")
        revoke.add_argument("token_id", type=int)

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "revoke":
            try:
                token = api_token_revoke(token_id=options["token_id"])
            except DomainError as exc:
                raise CommandError(exc.message) from exc
            self.stdout.write(f"Revoked {token}")
            return
        user = User.objects.filter(username=options["user"]).first()
        if user is None:
            raise CommandError(f"No user {options['user']!r}.")
        if action == "list":
            for tok in ApiToken.objects.filter(user=user):
                state = "revoked" if tok.revoked_at else "active"
                self.stdout.write(
                    f"{tok.pk}\t{tok.name}\t{tok.prefix}…\t{tok.scope}\t{state}\t"
                    f"last used {tok.last_used_at or 'never'}"
                )
            return
        try:
            issued = api_token_create(user=user, name=options["name"], scope=options["scope"])
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            f"Token {issued.token.name!r} ({issued.token.scope}) for {user.username}. "
            "It is shown once; store it now:"
        )
        self.stdout.write(issued.secret)
