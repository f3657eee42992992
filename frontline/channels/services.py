"""The one ingest path: every inbound message from every channel comes through here.

adapter -> raw payload stored -> InboundMessage -> inbound_message_ingest():
  dedupe by (channel, provider message id) -> resolve the customer by identity
  -> thread into an open ticket or open a new one (follow-up if the thread is closed)
  -> persist message (+ attachments) with its timeline events -> events after commit
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from frontline.accounts.selectors import agent_resolve, team_resolve
from frontline.channels.models import Mailbox, PayloadStatus, RawPayload
from frontline.channels.registry import PayloadHandled, UnsupportedPayload, adapter_get
from frontline.channels.types import THREAD_BY_CUSTOMER, InboundMessage
from frontline.core.errors import DomainError, ValidationFailed
from frontline.customers.models import Customer
from frontline.customers.selectors import customer_get_active
from frontline.customers.services import IdentityInput, customer_resolve
from frontline.tickets import selectors as ticket_selectors
from frontline.tickets import services as ticket_services
from frontline.tickets.actors import Actor
from frontline.tickets.lifecycle import Status

if TYPE_CHECKING:
    from frontline.tickets.models import Ticket

logger = logging.getLogger(__name__)

TICKET_FIELDS_FROM_CHANNEL = {
    "priority", "type", "tags", "custom_fields", "language", "team", "assignee", "is_public",
}  # fmt: skip
PAYLOAD_MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class IngestResult:
    ticket_id: int
    message_id: int
    customer_id: int
    created_ticket: bool
    duplicate: bool = False
    followup_of: int | None = None
    # The ticket as written (new tickets only), so a synchronous caller need not re-read it.
    ticket: Ticket | None = field(default=None, compare=False, repr=False)


def raw_payload_store(
    *,
    channel: str,
    body: bytes,
    provider_message_id: str = "",
    content_type: str = "",
    headers: dict[str, str] | None = None,
) -> tuple[RawPayload, bool]:
    """Persist a provider's payload before answering it. Returns (payload, created).

    A retry of the same provider message returns the stored row and `created=False`.
    """
    provider_message_id = provider_message_id[:255]
    # Optimistic: a retry is the exception, so insert first and look up only on a conflict
    # (one statement on the hot path of every webhook).
    try:
        with transaction.atomic():
            payload = RawPayload.objects.create(
                channel=channel,
                provider_message_id=provider_message_id,
                content_type=content_type[:127],
                body=body,
                headers=headers or {},
            )
    except IntegrityError:
        if not provider_message_id:
            raise
        return RawPayload.objects.get(
            channel=channel, provider_message_id=provider_message_id
        ), False
    return payload, True


@dataclass(frozen=True)
class RawInput:
    """A payload the adapter did not store beforehand because its acknowledgement is the
    commit itself (a synchronous API call): it is stored with the message, atomically."""

    body: bytes
    content_type: str = ""
    headers: dict[str, str] | None = None


def inbound_message_ingest(
    message: InboundMessage, *, raw: RawInput | None = None, mark_payload: bool = True
) -> IngestResult:
    """Store `message` on the right ticket, exactly once.

    `mark_payload=False` leaves the status of its raw payload to the caller (a payload that
    batches several messages is processed only when all of them are in)."""
    message = replace(message, provider_message_id=_strip_nul(message.provider_message_id))
    payload_id = message.raw_payload_id if mark_payload else None
    if message.provider_message_id:
        existing = ticket_selectors.message_by_provider_id(
            channel=message.channel, provider_message_id=message.provider_message_id
        )
        if existing is not None:
            _payload_mark(payload_id, PayloadStatus.DUPLICATE, existing)
            return _duplicate(existing)
    try:
        with transaction.atomic():
            result = _ingest(message)
            if raw is not None:
                RawPayload.objects.create(
                    channel=message.channel,
                    provider_message_id=message.provider_message_id[:255],
                    content_type=raw.content_type[:127],
                    body=raw.body,
                    headers=raw.headers or {},
                    status=PayloadStatus.PROCESSED,
                    ticket_id=result.ticket_id,
                    message_id=result.message_id,
                    processed_at=timezone.now(),
                    attempts=1,
                )
            else:
                _payload_mark(payload_id, PayloadStatus.PROCESSED, None, result)
            return result
    except IntegrityError:
        # Lost a race with the same provider message arriving twice at once.
        if message.provider_message_id:
            existing = ticket_selectors.message_by_provider_id(
                channel=message.channel, provider_message_id=message.provider_message_id
            )
            if existing is not None:
                _payload_mark(payload_id, PayloadStatus.DUPLICATE, existing)
                return _duplicate(existing)
        raise


def _duplicate(existing: Any) -> IngestResult:
    return IngestResult(
        ticket_id=existing.ticket_id,
        message_id=existing.pk,
        customer_id=existing.ticket.requester_id,
        created_ticket=False,
        duplicate=True,
    )


def _strip_nul(value: Any) -> Any:
    """PostgreSQL text and JSON cannot hold NUL characters; mail and webhooks can."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {_strip_nul(k): _strip_nul(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_strip_nul(v) for v in value)
    return value


def _without_nul(message: InboundMessage) -> InboundMessage:
    return replace(
        message,
        text=_strip_nul(message.text),
        html=_strip_nul(message.html),
        subject=_strip_nul(message.subject),
        sender_name=_strip_nul(message.sender_name),
        references=_strip_nul(message.references),
        thread_key=_strip_nul(message.thread_key),
        metadata=_strip_nul(message.metadata),
        ticket_fields=_strip_nul(message.ticket_fields),
        attachments=tuple(
            replace(
                a,
                filename=_strip_nul(a.filename),
                content_type=_strip_nul(a.content_type),
                content_id=_strip_nul(a.content_id),
            )
            for a in message.attachments
        ),
    )


def _ingest(message: InboundMessage) -> IngestResult:
    message = _without_nul(message)
    customer = _customer_for(message)
    actor = Actor.for_customer(customer)
    ticket = ticket_selectors.ticket_for_inbound(
        customer=customer,
        channel=message.channel,
        ticket_id=message.ticket_id,
        references=list(message.references),
        thread_key=message.thread_key,
        thread_by_customer=message.channel in THREAD_BY_CUSTOMER,
    )
    created = False
    followup_of = None
    if ticket is None or ticket.status == Status.CLOSED:
        if ticket is not None:
            followup_of = ticket
        fields = _ticket_fields(message.ticket_fields)
        ticket = ticket_services.ticket_create(
            requester=customer,
            subject=message.subject or _subject_from(message.text),
            channel=message.channel,
            actor=actor,
            thread_key=message.thread_key,
            followup_of=followup_of,
            **fields,
        )
        created = True
    attachments = [
        ticket_services.AttachmentInput(
            filename=a.filename,
            content=a.content,
            content_type=a.content_type,
            content_id=a.content_id,
            inline=a.inline,
        )
        for a in message.attachments
    ]
    stored = ticket_services.message_add(
        ticket=ticket,
        actor=actor,
        text=message.text,
        html=message.html,
        channel=message.channel,
        subject=message.subject,
        provider_message_id=message.provider_message_id,
        attachments=attachments,
        raw_payload_id=message.raw_payload_id,
        metadata=message.metadata,
        received_at=message.received_at,
        ticket_locked=created,
    )
    return IngestResult(
        ticket_id=ticket.pk,
        message_id=stored.pk,
        customer_id=customer.pk,
        created_ticket=created,
        followup_of=followup_of.pk if followup_of else None,
        ticket=ticket if created else None,
    )


def _ticket_fields(raw: dict[str, Any]) -> dict[str, Any]:
    """The new ticket's fields an adapter (or the API caller) chose; teams and agents may be
    named by id or slug/username."""
    unknown = set(raw) - TICKET_FIELDS_FROM_CHANNEL
    if unknown:
        raise ValidationFailed(
            "Unknown ticket fields.", fields={f: ["not settable here"] for f in sorted(unknown)}
        )
    fields = {k: v for k, v in raw.items() if v not in (None, "", [], {})}
    if "team" in fields:
        fields["team"] = team_resolve(fields["team"])
    if "assignee" in fields:
        fields["assignee"] = agent_resolve(fields["assignee"])
    return fields


def _customer_for(message: InboundMessage) -> Customer:
    if message.customer_id is not None:
        known = customer_get_active(message.customer_id)
        if known is None:
            raise ValidationFailed("No such customer.", fields={"requester": ["not found"]})
        return known
    senders = [message.sender] if message.sender else []
    identities = [
        IdentityInput(kind=i.kind, value=i.value, network=i.network)
        for i in (*senders, *message.other_identities)
    ]
    customer, _ = customer_resolve(
        identities=identities, name=message.sender_name, actor=f"channel:{message.channel}"
    )
    return customer


def _subject_from(text: str) -> str:
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return first[:80] + ("…" if len(first) > 80 else "")


def _payload_mark(
    payload_id: int | None, status: str, existing: Any, result: IngestResult | None = None
) -> None:
    if payload_id is None:
        return
    RawPayload.objects.filter(pk=payload_id).update(
        status=status,
        processed_at=timezone.now(),
        ticket_id=result.ticket_id if result else existing.ticket_id,
        message_id=result.message_id if result else existing.pk,
        error="",
    )


def raw_payload_process(payload_id: int) -> IngestResult | None:
    """Parse a stored payload with its channel's adapter and ingest it. Idempotent."""
    payload = RawPayload.objects.filter(pk=payload_id).first()
    if payload is None or payload.status in (PayloadStatus.PROCESSED, PayloadStatus.DUPLICATE):
        return None
    adapter = adapter_get(payload.channel)
    RawPayload.objects.filter(pk=payload_id).update(attempts=payload.attempts + 1)
    if adapter is None:
        _payload_fail(payload_id, f"no adapter for channel {payload.channel}")
        return None
    try:
        parsed = adapter.parse(bytes(payload.body), payload.headers)
    except PayloadHandled as handled:
        RawPayload.objects.filter(pk=payload_id).update(
            status=PayloadStatus.PROCESSED, processed_at=timezone.now(), error=f"handled: {handled}"
        )
        return None
    except UnsupportedPayload as unsupported:
        logger.warning("raw payload %s kept unprocessed: %s", payload_id, unsupported)
        RawPayload.objects.filter(pk=payload_id).update(
            status=PayloadStatus.UNSUPPORTED, error=_strip_nul(str(unsupported))[:2000]
        )
        return None
    except (ValueError, KeyError, TypeError) as exc:
        _payload_fail(payload_id, f"unparseable payload: {exc}")
        return None
    except Exception as exc:  # transient (a media download timing out): retried, up to a point
        if payload.attempts + 1 >= PAYLOAD_MAX_ATTEMPTS:
            _payload_fail(payload_id, f"failed {PAYLOAD_MAX_ATTEMPTS} times: {exc!r}"[:2000])
            return None
        raise
    messages = [parsed] if isinstance(parsed, InboundMessage) else list(parsed)
    if not messages:
        RawPayload.objects.filter(pk=payload_id).update(
            status=PayloadStatus.PROCESSED, processed_at=timezone.now(), error="handled: empty"
        )
        return None
    try:
        # One payload may batch several messages (Meta does): each is deduplicated on its
        # own provider id, so a retry after a partial failure ingests only what is missing.
        batch = len(messages) > 1
        results = [
            inbound_message_ingest(replace(each, raw_payload_id=payload_id), mark_payload=not batch)
            for each in messages
        ]
        if batch:
            _payload_mark(payload_id, PayloadStatus.PROCESSED, None, results[-1])
    except DomainError as exc:
        _payload_fail(payload_id, exc.message)  # the input is refused: retrying cannot help
        return None
    except Exception as exc:
        if payload.attempts + 1 >= PAYLOAD_MAX_ATTEMPTS:
            _payload_fail(payload_id, f"failed {PAYLOAD_MAX_ATTEMPTS} times: {exc!r}"[:2000])
            return None
        raise  # transient (database busy, ...): the task retries with backoff
    return results[-1]


def _payload_fail(payload_id: int, error: str) -> None:
    error = _strip_nul(error)
    logger.warning("raw payload %s failed: %s", payload_id, error)
    RawPayload.objects.filter(pk=payload_id).update(status=PayloadStatus.FAILED, error=error)


def raw_payloads_pending(older_than: timedelta = timedelta(minutes=2)) -> list[int]:
    """Payloads accepted but never processed (a worker died): the sweeper retries these."""
    cutoff = timezone.now() - older_than
    return list(
        RawPayload.objects.filter(status=PayloadStatus.PENDING, received_at__lt=cutoff)
        .order_by("pk")
        .values_list("pk", flat=True)[:500]
    )


@transaction.atomic
def mailbox_ensure(
    *, address: str, name: str = "", from_name: str = "", aliases: list[str] | None = None
) -> Mailbox:
    """Create the mailbox for `address`, or return it unchanged if it exists (idempotent)."""
    from frontline.channels.email.addressing import base_address

    clean = base_address(address)
    if "@" not in clean or clean.startswith("@") or clean.endswith("@"):
        raise ValidationFailed("Not an email address.", fields={"address": ["invalid"]})
    mailbox, _ = Mailbox.objects.get_or_create(
        address=clean,
        defaults={
            "name": name or clean,
            "from_name": from_name,
            "aliases": sorted({base_address(a) for a in aliases or []}),
        },
    )
    return mailbox
