"""The SMTP backend for outgoing mail: Django's, plus optional DKIM signing.

DKIM is on when DKIM_SELECTOR and a key (DKIM_PRIVATE_KEY or DKIM_PRIVATE_KEY_FILE) are set;
the signing domain is DKIM_DOMAIN or the From address's domain. The signature covers the
exact bytes handed to the SMTP server.
"""

from __future__ import annotations

import smtplib
from email.utils import parseaddr
from functools import lru_cache
from pathlib import Path
from typing import Any

import dkim
from django.conf import settings
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.core.mail.message import EmailMessage, sanitize_address

SIGNED_HEADERS = [
    b"from", b"to", b"cc", b"subject", b"date", b"message-id", b"in-reply-to", b"references",
    b"reply-to", b"mime-version", b"content-type",
]  # fmt: skip


@lru_cache(maxsize=1)
def _private_key() -> bytes:
    key = getattr(settings, "DKIM_PRIVATE_KEY", "")
    path = getattr(settings, "DKIM_PRIVATE_KEY_FILE", "")
    if not key and path:
        key = Path(path).read_text()
    return key.encode()


def dkim_sign(raw: bytes, *, from_address: str) -> bytes:
    """`raw` with a DKIM-Signature header in front, or unchanged when DKIM is off."""
    selector = getattr(settings, "DKIM_SELECTOR", "")
    key = _private_key() if selector else b""
    if not selector or not key:
        return raw
    domain = getattr(settings, "DKIM_DOMAIN", "") or parseaddr(from_address)[1].rpartition("@")[2]
    signature = dkim.sign(
        raw,
        selector.encode(),
        domain.encode(),
        key,
        include_headers=SIGNED_HEADERS,
        linesep=b"\r\n",
    )
    return bytes(signature) + raw


class EmailBackend(SMTPBackend):
    def _send(self, email_message: EmailMessage) -> bool:
        if not email_message.recipients():
            return False
        encoding = email_message.encoding or settings.DEFAULT_CHARSET
        from_email = sanitize_address(email_message.from_email, encoding)
        recipients = [sanitize_address(addr, encoding) for addr in email_message.recipients()]
        raw = email_message.message().as_bytes(linesep="\r\n")
        signed = dkim_sign(raw, from_address=from_email)
        connection: Any = self.connection
        try:
            connection.sendmail(from_email, recipients, signed)
        except smtplib.SMTPException:
            if not self.fail_silently:
                raise
            return False
        return True
