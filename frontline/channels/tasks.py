from __future__ import annotations

import logging
from typing import Any

from celery import shared_task

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=8)
def raw_payload_process_task(payload_id: int) -> None:
    from frontline.channels.services import raw_payload_process

    raw_payload_process(payload_id)


@shared_task
def raw_payloads_sweep() -> int:
    """Retry payloads a crashed worker left pending (beat, every minute)."""
    from frontline.channels.services import raw_payloads_pending

    ids = raw_payloads_pending()
    for payload_id in ids:
        raw_payload_process_task.delay(payload_id)
    return len(ids)


@shared_task
def delivery_receipts_sweep() -> int:
    """Apply delivery reports that arrived before their message was known (beat, every
    minute)."""
    from frontline.channels.receipts import delivery_receipts_sweep as sweep

    return sweep()


@shared_task(bind=True, acks_late=True, max_retries=8)
def outbound_message_send_task(self, message_id: int) -> None:  # type: ignore[no-untyped-def]
    from frontline.channels.outbound import OutboundRetry, outbound_message_send

    try:
        outbound_message_send(message_id, final_attempt=self.request.retries >= self.max_retries)
    except OutboundRetry as exc:
        raise self.retry(exc=exc, countdown=min(600, 2 ** (self.request.retries + 2))) from exc


# Longer than the send task's whole retry budget (about 17 minutes of backoff), so a message
# whose task is still retrying is never sent twice.
OUTBOUND_STUCK_AFTER_MINUTES = 30


@shared_task
def outbound_stuck_sweep() -> int:
    """Re-queue replies whose send task was lost (beat, every 5 minutes)."""
    from datetime import timedelta

    from frontline.tickets.selectors import messages_stuck_queued

    ids = messages_stuck_queued(older_than=timedelta(minutes=OUTBOUND_STUCK_AFTER_MINUTES))
    for message_id in ids:
        outbound_message_send_task.delay(message_id)
    return len(ids)


@shared_task
def imap_poll_due() -> int:
    """Poll every active IMAP mailbox that is due (beat, every minute). Never raises."""
    from frontline.channels.email.imap import mailboxes_due

    ids = mailboxes_due()
    for mailbox_id in ids:
        try:
            imap_poll_mailbox.delay(mailbox_id)
        except Exception:  # one broken enqueue must not stop the others; beat retries
            logger.exception("could not enqueue the IMAP poll of mailbox %s", mailbox_id)
    return len(ids)


@shared_task
def imap_poll_mailbox(mailbox_id: int) -> dict[str, Any]:
    """Import new mail of one mailbox; errors are recorded on it (with backoff), not raised."""
    from frontline.channels.email.imap import mailbox_poll

    return mailbox_poll(mailbox_id).as_dict()
