"""The built-in SMTP receiver driven by a real SMTP client, `swaks`: a mail becomes a ticket,
an unknown recipient is refused with 550 and an oversized message with 552."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from collections.abc import Callable, Iterator

import pytest
from aiosmtpd.controller import Controller

from frontline.channels.email.smtpd import smtp_controller
from frontline.channels.models import Mailbox, RawPayload
from frontline.tickets.models import Ticket

pytestmark = pytest.mark.django_db(transaction=True)

SWAKS = shutil.which("swaks")
if SWAKS is None:
    if os.environ.get("CI"):
        pytest.fail("swaks is not installed (scripts/test-deps.sh installs it)", pytrace=False)
    pytest.skip(
        "swaks is not installed: run scripts/test-deps.sh (make test does)",
        allow_module_level=True,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def receiver(settings) -> Iterator[Callable[..., int]]:
    """Start the receiver (optionally with a smaller size limit); returns its port."""
    Mailbox.objects.create(name="Support", address="support@example.com")
    started: list[Controller] = []

    def start(max_bytes: int | None = None) -> int:
        if max_bytes is not None:
            settings.SMTP_MAX_MESSAGE_BYTES = max_bytes
        port = free_port()
        controller = smtp_controller("127.0.0.1", port)
        controller.start()
        started.append(controller)
        return port

    yield start
    for controller in started:
        controller.stop()


def swaks(port: int, *, to: str, subject: str, body: str) -> subprocess.CompletedProcess[str]:
    assert SWAKS is not None
    options = [
        ("--server", "127.0.0.1"),
        ("--port", str(port)),
        ("--from", "ana@example.org"),
        ("--to", to),
        ("--header", f"Subject: {subject}"),
        ("--header", "From: Ana Lima <ana@example.org>"),
        ("--body", body),
        ("--timeout", "20"),
    ]
    return subprocess.run(
        [SWAKS, *(part for pair in options for part in pair)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_mail_becomes_ticket(receiver):
    port = receiver()
    done = swaks(
        port,
        to="support@example.com",
        subject="Broken zipper",
        body="The zipper of my jacket broke on the second day.",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "250 2.0.0 OK queued as" in done.stdout
    ticket = Ticket.objects.get()
    assert ticket.subject == "Broken zipper"
    assert ticket.channel == "email"
    assert ticket.requester.identities.get(kind="email").value == "ana@example.org"
    assert ticket.requester.name == "Ana Lima"
    message = ticket.messages.get()
    assert message.direction == "inbound"
    assert message.text.strip() == "The zipper of my jacket broke on the second day."
    assert RawPayload.objects.get(channel="email").status == "processed"


def test_unknown_recipient_is_refused(receiver):
    port = receiver()
    done = swaks(port, to="nobody@example.com", subject="Hello", body="Is anyone there?")
    assert done.returncode != 0
    assert "550" in done.stdout
    assert "No such mailbox" in done.stdout
    assert not Ticket.objects.exists()
    assert not RawPayload.objects.exists()


def test_oversized_message_is_refused(receiver):
    port = receiver(max_bytes=2000)
    # 60 lines of 70 characters: over the limit, but every line within SMTP's 1000
    big = "\n".join(f"{i:02d} " + "x" * 67 for i in range(60))
    done = swaks(port, to="support@example.com", subject="Too big", body=big)
    assert done.returncode != 0
    assert "552" in done.stdout, done.stdout
    assert not Ticket.objects.exists()
    assert not RawPayload.objects.exists()
    # a small one still goes through on the same limit
    done = swaks(port, to="support@example.com", subject="Small", body="Short and sweet.")
    assert done.returncode == 0, done.stdout + done.stderr
    assert Ticket.objects.get().subject == "Small"
