from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from frontline.channels.email.smtpd import parse_listen, serve_forever


class Command(BaseCommand):
    help = "Run the built-in SMTP receiver for the configured mailboxes."

    def add_arguments(self, parser: CommandParser) -> None:
        default_host, default_port = parse_listen(settings.SMTP_LISTEN or "127.0.0.1:2525")
        parser.add_argument("--host", default=default_host)
        parser.add_argument("--port", type=int, default=default_port)

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"SMTP receiver on {options['host']}:{options['port']}. Ctrl-C stops.")
        self.stdout.flush()
        serve_forever(options["host"], options["port"])
