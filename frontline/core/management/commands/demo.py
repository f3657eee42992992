"""`frontline demo`: seed a realistic, idempotent demo (an outdoor-gear shop's support desk)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from frontline.core import demo


class Command(BaseCommand):
    help = (
        "Seed demo data: staff and teams, customers with identities and orders, and tickets "
        "on every channel in every status. Running it again changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
        parser.add_argument("--customers", type=int, default=50, help="how many (default 50)")
        parser.add_argument("--tickets", type=int, default=300, help="how many (default 300)")
        parser.add_argument(
            "--admin-password",
            default=demo.DEFAULT_PASSWORD,
            help=f"password of the admin user when it is created (default {demo.DEFAULT_PASSWORD})",
        )
        parser.add_argument(
            "--url", default="http://127.0.0.1:8000", help="where the server will listen"
        )
        parser.add_argument(
            "--once", action="store_true", help="do nothing if demo data already exists"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        password: str = options["admin_password"]
        if len(password) < 8:
            raise CommandError("The admin password must have at least 8 characters.")
        if options["customers"] < 1 or options["tickets"] < 0:
            raise CommandError("--customers must be at least 1 and --tickets at least 0.")
        verbose = options["verbosity"] > 0
        if options["once"] and demo.demo_seeded():
            if verbose:
                self.stdout.write("Demo data already present; nothing to do.")
            self.stdout.write(self._chat(options["url"]))
            self.stdout.write(self._login(options["url"], password))
            return

        def progress(message: str) -> None:
            if verbose:
                self.stdout.write(f"  {message}")
                self.stdout.flush()

        if verbose:
            self.stdout.write(
                f"Seeding demo data (seed {options['seed']}, {options['customers']} customers, "
                f"{options['tickets']} tickets)..."
            )
        result = demo.seed(
            seed=options["seed"],
            customers=options["customers"],
            tickets=options["tickets"],
            password=password,
            progress=progress,
        )
        if verbose:
            self.stdout.write(
                f"Done in {result.seconds:.1f}s: {result.users_created} users, "
                f"{result.customers_created} customers, {result.orders_created} orders, "
                f"{result.tickets_created} tickets and {result.messages_created} messages "
                f"created ({result.tickets_skipped} tickets already there)."
            )
            self.stdout.write(f"Agents: {', '.join(result.agents)}")
            if result.portal_username:
                self.stdout.write(f"Portal customer: {result.portal_username}")
            self.stdout.write("Staff and the portal customer share the admin's demo password.")
        self.stdout.write(self._chat(options["url"]))
        self.stdout.write(self._login(options["url"], password))

    def _chat(self, url: str) -> str:
        """A chat widget allowed on Frontline's own address, and where to try it."""
        from frontline.channels.chat.services import widget_ensure

        widget = widget_ensure(
            site_key=demo.DEMO_CHAT_SITE_KEY,
            name="Trailpeak Outfitters",
            origin=url,
            greeting="Hi! Ask us about orders, sizes or returns.",
            pre_chat_form=True,
        )
        return f"Try the chat widget at {url.rstrip('/')}/chat/{widget.site_key}/try"

    def _login(self, url: str, password: str) -> str:
        if demo.admin_password_is(password):
            return demo.login_hint(url, password)
        base = url.rstrip("/")
        return f"Log in at {base}/login/ as {demo.ADMIN_USERNAME} (with its existing password)"
