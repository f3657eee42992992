"""The built-in SMTP receiver (aiosmtpd).

Recipients are checked at RCPT time against the configured mailboxes; the size limit is
announced in EHLO and enforced; the raw message is committed to the database before the
250 reply, then processed by a Celery task (and the beat sweeper if that enqueue is lost).
"""

from __future__ import annotations

import logging
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections, connection

from frontline.channels.email.adapter import provider_id_for
from frontline.channels.email.parser import message_id_of

logger = logging.getLogger(__name__)


def _store(content: bytes, recipients: list[str]) -> tuple[int, bool]:
    try:
        return _store_once(content, recipients)
    finally:
        # The SMTP server's worker threads live as long as the server: give connections back.
        connection.close()


def _store_once(content: bytes, recipients: list[str]) -> tuple[int, bool]:
    from frontline.channels.services import raw_payload_store
    from frontline.channels.tasks import raw_payload_process_task

    close_old_connections()
    message_id = message_id_of(content)
    payload, created = raw_payload_store(
        channel="email",
        body=content,
        provider_message_id=provider_id_for(content, message_id),
        content_type="message/rfc822",
        headers={"recipients": ",".join(recipients), "via": "smtp"},
    )
    if created:
        try:
            raw_payload_process_task.delay(payload.pk)
        except Exception:  # the sweeper retries pending payloads; the mail is safe
            logger.exception("could not enqueue processing of payload %s", payload.pk)
    return payload.pk, created


def _recipient_known(address: str) -> bool:
    from frontline.channels.selectors import mailbox_for_address

    close_old_connections()
    try:
        return mailbox_for_address(address) is not None
    finally:
        connection.close()


class FrontlineSMTPHandler:
    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if not await sync_to_async(_recipient_known, thread_sensitive=True)(address):
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        if isinstance(content, str):
            content = content.encode("utf-8", errors="surrogateescape")
        try:
            payload_id, created = await sync_to_async(_store, thread_sensitive=True)(
                content, list(envelope.rcpt_tos)
            )
        except Exception:
            logger.exception("could not store an inbound message")
            return "451 4.3.0 Could not store the message, try again later"
        state = "queued" if created else "already received"
        return f"250 2.0.0 OK {state} as {payload_id}"


def smtp_controller(host: str, port: int) -> Controller:
    return Controller(
        FrontlineSMTPHandler(),
        hostname=host,
        port=port,
        data_size_limit=settings.SMTP_MAX_MESSAGE_BYTES,
        decode_data=False,
        server_hostname=settings.EMAIL_FROM_ADDRESS.rpartition("@")[2] or "frontline",
        ident="Frontline ESMTP",
    )


def parse_listen(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    return host or "127.0.0.1", int(port)


def serve_forever(host: str, port: int, **_: Any) -> None:
    import signal
    import threading

    controller = smtp_controller(host, port)
    controller.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    signal.signal(signal.SIGINT, lambda *a: stop.set())
    logger.warning("SMTP receiver listening on %s:%s", host, port)
    try:
        stop.wait()
    finally:
        controller.stop()
