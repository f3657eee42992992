from __future__ import annotations

from celery import shared_task


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


@shared_task(bind=True, acks_late=True, max_retries=8)
def outbound_message_send_task(self, message_id: int) -> None:  # type: ignore[no-untyped-def]
    from frontline.channels.outbound import OutboundRetry, outbound_message_send

    try:
        outbound_message_send(message_id, final_attempt=self.request.retries >= self.max_retries)
    except OutboundRetry as exc:
        raise self.retry(exc=exc, countdown=min(600, 2 ** (self.request.retries + 2))) from exc
