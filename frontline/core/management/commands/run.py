"""`frontline run`: migrate, then the ASGI server and the Celery worker + beat, as one group.

Ctrl-C or SIGTERM stops every child cleanly; if one child dies, the others are stopped too,
so a supervisor (systemd, a container runtime) sees the failure and restarts the whole set.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Run Frontline: migrate, serve HTTP + websockets (uvicorn), run the worker and beat."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--no-worker", action="store_true", help="web server only")
        parser.add_argument("--no-migrate", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["no_migrate"]:
            call_command("migrate", interactive=False, verbosity=0)
        if not settings.DEBUG:
            call_command("collectstatic", interactive=False, verbosity=0)
        python = sys.executable
        commands = [
            [
                python,
                "-m",
                "uvicorn",
                "config.asgi:application",
                "--host",
                options["host"],
                "--port",
                str(options["port"]),
                "--log-level",
                "warning",
                "--no-server-header",
                *(["--proxy-headers"] if settings.SECURE_PROXY_SSL_HEADER else []),
            ]
        ]
        if not options["no_worker"]:
            commands.append(
                [
                    python,
                    "-m",
                    "celery",
                    "-A",
                    "config",
                    "worker",
                    "--beat",
                    "--pool",
                    "solo",
                    "--loglevel",
                    "warning",
                    "--schedule",
                    settings.CELERY_BEAT_SCHEDULE_FILENAME,
                    "--without-gossip",
                    "--without-mingle",
                    "--without-heartbeat",
                ]
            )
        names = ["web", "worker"] if not options["no_worker"] else ["web"]
        if settings.SMTP_LISTEN:
            commands.append([python, "-m", "frontline.cli", "smtpd"])
            names.append("smtpd")
        children = [subprocess.Popen(cmd, env=os.environ.copy()) for cmd in commands]
        stopping = False

        def stop(signum: int, frame: FrameType | None) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        url = f"http://{options['host']}:{options['port']}/"
        self.stdout.write(
            f"Frontline is running at {url}  (API docs: {url}api/docs). Ctrl-C stops."
        )
        self.stdout.flush()
        exit_code = 0
        while not stopping:
            for name, child in zip(names, children, strict=False):
                code = child.poll()
                if code is not None:
                    self.stderr.write(f"{name} exited with {code}; stopping.")
                    exit_code = code or 1
                    stopping = True
            time.sleep(0.3)
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 15
        for child in children:
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
        self.stdout.write("Frontline stopped.")
        if exit_code:
            sys.exit(exit_code)
