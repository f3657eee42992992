"""A real Dovecot IMAP server for the importer's tests (scripts/dovecot.sh), one per session.

Without dovecot installed the IMAP tests are skipped locally and fail on CI (`CI` set), where
`scripts/test-deps.sh` must have installed it.
"""

from __future__ import annotations

import email
import email.policy
import os
import shutil
import socket
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from frontline.channels.email.smtpd import smtp_controller
from frontline.channels.models import Mailbox

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = ROOT / "scripts" / "dovecot.sh"
BASH = shutil.which("bash") or "/bin/bash"


@dataclass(frozen=True)
class Dovecot:
    host: str
    port: int
    user: str
    password: str
    directory: Path

    @property
    def conf(self) -> Path:
        return self.directory / "dovecot.conf"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _installed() -> bool:
    return bool(shutil.which("dovecot")) or Path("/usr/sbin/dovecot").exists()


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    if not _installed():
        reason = "dovecot is not installed (apt-get install dovecot-imapd; scripts/test-deps.sh)"
        if os.environ.get("CI"):
            pytest.fail(f"CI: {reason}", pytrace=False)
        pytest.skip(reason)
    # A short path: dovecot's unix sockets live under it (108-byte limit).
    directory = Path(tempfile.mkdtemp(prefix="fl-dovecot-"))
    env = {**os.environ, "DOVECOT_DIR": str(directory), "DOVECOT_PORT": str(_free_port())}
    up = subprocess.run(
        [BASH, str(SCRIPT), "up"],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if up.returncode != 0:
        shutil.rmtree(directory, ignore_errors=True)
        pytest.fail(f"scripts/dovecot.sh up failed:\n{up.stdout}\n{up.stderr}", pytrace=False)
    try:
        yield Dovecot(
            host="127.0.0.1",
            port=int(env["DOVECOT_PORT"]),
            user="support@example.test",
            password="secret",
            directory=directory,
        )
    finally:
        subprocess.run(
            [BASH, str(SCRIPT), "down"],
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=60,
            check=False,
        )
        shutil.rmtree(directory, ignore_errors=True)


# --- SMTP: the customer's mail provider (a sink) and `frontline smtpd` (the receiver) ---


def free_smtp_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Sink:
    """An SMTP server that keeps what it receives (the customer's mail provider)."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.arrived = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(
            email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        )
        self.arrived.set()
        return "250 OK"


@pytest.fixture
def sink(settings):
    handler = Sink()
    port = free_smtp_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "frontline.channels.email.backend.EmailBackend"  # as in production
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_FROM_ADDRESS = "support@example.com"
    yield handler
    controller.stop()


@pytest.fixture
def receiver():
    Mailbox.objects.create(name="Support", address="support@example.com")
    port = free_smtp_port()
    controller = smtp_controller("127.0.0.1", port)
    controller.start()
    yield port
    controller.stop()
