"""Delivery reports (sent, delivered, read, failed) from providers, in any order.

A report for a message we know is applied at once (states only move forward, so a late
`sent` after `delivered` changes nothing). A report that arrives before we know the message
(its send's answer is still on the way) is kept and applied when the message gets its
provider id, or by the sweeper.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from frontline.channels.models import DeliveryReceipt
from frontline.tickets.models import DeliveryState, Direction, Message

# Provider states -> ours.
STATE_RANK = ["queued", "sent", "delivered", "read", "failed"]
# Reports older than this with no message are dropped from the pending set (kept as rows).
RECEIPT_PENDING_FOR = timedelta(days=7)


def _outbound(channel: str, provider_message_id: str) -> Message | None:
    return (
        Message.objects.filter(
            channel=channel, provider_message_id=provider_message_id, direction=Direction.OUTBOUND
        )
        .select_related("ticket")
        .first()
    )


def delivery_report(*, channel: str, provider_message_id: str, state: str, error: str = "") -> bool:
    """Apply (or keep for later) a provider's report. Returns True if a message was updated
    now. `state` is one of queued, sent, delivered, read, failed."""
    from frontline.tickets.services import message_delivery_update

    if state not in DeliveryState.values or state in ("received", "not_sent"):
        raise ValueError(f"unknown delivery state {state!r}")
    message = _outbound(channel, provider_message_id)
    if message is None:
        DeliveryReceipt.objects.create(
            channel=channel, provider_message_id=provider_message_id, state=state, error=error
        )
        return False
    if state == "queued":
        return False
    before = message.delivery_state
    message_delivery_update(message=message, state=state, error=error)
    DeliveryReceipt.objects.create(
        channel=channel,
        provider_message_id=provider_message_id,
        state=state,
        error=error,
        applied_at=timezone.now(),
        message_id=message.pk,
    )
    return message.delivery_state != before


@transaction.atomic
def delivery_receipts_apply(*, channel: str, provider_message_id: str) -> int:
    """Apply the reports kept for a message that now has its provider id. Returns how many."""
    from frontline.tickets.services import message_delivery_update

    if not provider_message_id:
        return 0
    pending = list(
        DeliveryReceipt.objects.select_for_update()
        .filter(channel=channel, provider_message_id=provider_message_id, applied_at=None)
        .order_by("id")
    )
    if not pending:
        return 0
    message = _outbound(channel, provider_message_id)
    if message is None:
        return 0
    # Apply in the order of the states, not of arrival: the furthest state wins either way,
    # and a failure after delivery is still recorded.
    for receipt in sorted(pending, key=lambda r: STATE_RANK.index(r.state)):
        if receipt.state != "queued":
            message_delivery_update(message=message, state=receipt.state, error=receipt.error)
    DeliveryReceipt.objects.filter(pk__in=[r.pk for r in pending]).update(
        applied_at=timezone.now(), message_id=message.pk
    )
    return len(pending)


def delivery_receipts_sweep() -> int:
    """Apply kept reports whose message has since become known (beat, every minute)."""
    cutoff = timezone.now() - RECEIPT_PENDING_FOR
    keys = set(
        DeliveryReceipt.objects.filter(applied_at=None, received_at__gte=cutoff).values_list(
            "channel", "provider_message_id"
        )[:1000]
    )
    return sum(
        delivery_receipts_apply(channel=channel, provider_message_id=provider_id)
        for channel, provider_id in keys
    )
