"""The `webhook` channel: any network or in-house app bridged through signed JSON webhooks.

One MessagingAccount (provider `generic`) per bridge. Its `address` is the network's name
(`telegram`, `myapp`): customers are recognised by their `external` id on that network, and
by the email or phone the bridge gives, when they match a known customer exactly.

Ids are the bridge's own, so two bridges may both send a message "42", and a bridge may
use one id space for the messages it receives and the replies it sends. Everything stored is
therefore prefixed with the account and the direction: `<account>:in:<id>` for a customer's
message, `<account>:out:<id>` for a reply (what status payloads refer to), and
`<account>:<thread id>` for a thread.
"""

from __future__ import annotations

import base64
import json
import logging
import time
from typing import Any
from urllib.parse import urlsplit

import httpx
from django.conf import settings

from frontline.channels.accounts import account_get, account_secrets
from frontline.channels.models import MessagingAccount, Provider
from frontline.channels.receipts import delivery_report
from frontline.channels.registry import ChannelAdapter, PayloadHandled, UnsupportedPayload
from frontline.channels.types import (
    Channel,
    InboundAttachment,
    InboundMessage,
    OutboundMessage,
    SenderIdentity,
    SendResult,
)
from frontline.channels.webhook import schema, signing
from frontline.channels.webhook.media import download
from frontline.customers.normalize import InvalidIdentity, normalize_identity, normalize_network

logger = logging.getLogger(__name__)

SEND_TIMEOUT = httpx.Timeout(15.0, connect=5.0)
# Replies carry their files inline; bigger files are listed without content (size only).
OUTBOUND_ATTACHMENT_MAX_BYTES = 2 * 1024 * 1024
OUTBOUND_ATTACHMENTS_TOTAL_BYTES = 8 * 1024 * 1024
# The account's signing secrets by name: the current one, then the one retired in a rotation.
SIGNING_FIELDS = ("signing_secret", "previous_signing_secret")


def inbound_id(account_id: int, message_id: str) -> str:
    """A customer message's provider id: unique across bridges and apart from replies."""
    return f"{account_id}:in:{message_id}"


def reply_id(account_id: int, message_id: str) -> str:
    """A reply's provider id (the bridge's id for it, or ours)."""
    return f"{account_id}:out:{message_id}"


def stored_payload_id(account_id: int, payload_type: str, payload_id: str) -> str:
    """The raw payload's key: a status "7" and a message "7" are different payloads."""
    return f"{account_id}:{payload_type}:{payload_id}"


def signing_secrets(account: MessagingAccount) -> list[str]:
    """The current secret first, then the one being retired (either is accepted; replies
    are signed with both while both are set)."""
    values = account_secrets(account)
    return [values[name] for name in SIGNING_FIELDS if values.get(name)]


def network_name(account: MessagingAccount) -> str:
    """The account's network (its `address`), as identities store it."""
    try:
        return normalize_network(account.address)
    except InvalidIdentity as exc:
        raise ValueError(
            f"account {account.pk}: the address must be the network name "
            f"(lower case letters, digits, . _ -), not {account.address!r}"
        ) from exc


class GenericWebhookAdapter:
    channel = Channel.WEBHOOK.value

    def parse(self, body: bytes, headers: dict[str, str]) -> InboundMessage:
        account = self._account(headers)
        try:
            data = json.loads(body)
        except ValueError as exc:
            raise ValueError(f"not JSON: {exc}") from exc
        kind = data.get("type") if isinstance(data, dict) else None
        if kind not in schema.KNOWN_TYPES:
            raise UnsupportedPayload(f"messaging webhook payload of type {kind!r}")
        payload = schema.inbound_payload.validate_json(body)  # ValidationError is a ValueError
        if isinstance(payload, schema.StatusPayload):
            raise self._status(account, payload)
        return self._message(account, payload)

    def _account(self, headers: dict[str, str]) -> MessagingAccount:
        raw = headers.get("account_id", "")
        account = account_get(int(raw)) if raw.isdigit() else None
        if account is None or account.provider != Provider.GENERIC:
            raise ValueError(f"no messaging webhook account {raw!r} for this payload")
        return account

    def _status(self, account: MessagingAccount, payload: schema.StatusPayload) -> PayloadHandled:
        """Apply (or keep for later) a delivery report; what was done, to raise."""
        applied = delivery_report(
            channel=self.channel,
            provider_message_id=reply_id(account.pk, payload.message_id),
            state=payload.status,
            error=payload.error,
        )
        outcome = "applied" if applied else "recorded (no change now; kept if the reply is unknown)"
        return PayloadHandled(f"status {payload.status} of {payload.message_id}: {outcome}")

    def _message(self, account: MessagingAccount, payload: schema.MessagePayload) -> InboundMessage:
        network = network_name(account)
        sender = payload.sender
        attachments, refused = self._attachments(payload.attachments)
        metadata: dict[str, Any] = {
            "account_id": account.pk,
            "network": network,
            "message_id": payload.id,
            "thread_id": payload.thread_id,
            "public": payload.public,
            "sender_metadata": payload.metadata,
        }
        if refused:
            metadata["attachments_refused"] = refused
        ticket_fields: dict[str, Any] = {}
        if account.team_id:
            ticket_fields["team"] = account.team_id
        if payload.public:
            ticket_fields["is_public"] = True
        return InboundMessage(
            channel=self.channel,
            sender=SenderIdentity(kind="external", value=sender.id, network=network),
            sender_name=sender.name,
            other_identities=_contact_identities(sender),
            text=payload.text,
            html=payload.html,
            attachments=attachments,
            provider_message_id=inbound_id(account.pk, payload.id),
            # The same thread id on two bridges is two conversations.
            thread_key=f"{account.pk}:{payload.thread_id}" if payload.thread_id else "",
            received_at=payload.timestamp,
            metadata=metadata,
            ticket_fields=ticket_fields,
        )

    def _attachments(
        self, files: list[schema.Attachment]
    ) -> tuple[tuple[InboundAttachment, ...], list[dict[str, str]]]:
        """The files to store, and those that could not be fetched (with the reason).

        A file over ATTACHMENT_MAX_BYTES is still passed on: the ingest keeps it as a
        `rejected` record (no content), so the agent sees that something was sent."""
        limit = int(settings.ATTACHMENT_MAX_BYTES)
        stored: list[InboundAttachment] = []
        refused: list[dict[str, str]] = []
        for item in files:
            if item.url is None:
                content = item.content()
            else:
                fetched = download(str(item.url), max_bytes=limit)
                if fetched.problem:
                    refused.append({"filename": item.filename, "reason": fetched.problem})
                    continue
                # Over the limit, the content is never stored: a placeholder one byte over
                # makes the ingest record the file as rejected without reading it all.
                content = bytes(limit + 1) if fetched.too_large else fetched.content
            # An empty content type is guessed from the file name when stored.
            stored.append(
                InboundAttachment(
                    filename=item.filename, content_type=item.content_type, content=content
                )
            )
        return tuple(stored), refused

    def send(self, message: OutboundMessage) -> SendResult:
        """POST the reply to the account's outbound URL, signed. Raises on any failure, so
        the outbound task retries with backoff and finally shows the error to the agent."""
        account = account_get(message.metadata.get("account_id"))
        if account is None or account.provider != Provider.GENERIC:
            raise ValueError("no messaging webhook account to reply from")
        url = account.outbound_url
        if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc:
            raise ValueError(
                f"account {account.name!r}: the outbound URL must be an http(s) URL, not {url!r}"
            )
        secrets = signing_secrets(account)
        if not secrets:
            raise ValueError(f"account {account.name!r} has no signing secret")
        if not message.recipient.value:
            raise ValueError(f"this customer has no {account.address} id to reply to")
        own_id = f"frontline-{message.message_id}"
        inbound = message.metadata.get("inbound") or {}
        body = (
            schema.OutboundMessage(
                id=own_id,
                ticket_id=message.ticket_id,
                thread_id=str(inbound.get("thread_id") or ""),
                to=schema.Recipient(id=message.recipient.value),
                text=message.text,
                html=message.html,
                public=bool(inbound.get("public", False)),
                attachments=_outbound_attachments(message.attachments),
            )
            .model_dump_json()
            .encode()
        )
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Frontline",
            "Idempotency-Key": own_id,
            signing.SIGNATURE_HEADER: signing.sign(secrets, body, time.time()),
        }
        try:
            response = httpx.post(url, content=body, headers=headers, timeout=SEND_TIMEOUT)
        except httpx.HTTPError as exc:
            raise ConnectionError(f"could not post the reply to {url}: {exc!r}") from exc
        if not response.is_success:
            raise ConnectionError(
                f"the bridge answered {response.status_code}: {response.text[:300]}"
            )
        bridge_id = _answered_id(response)
        return SendResult(provider_message_id=reply_id(account.pk, bridge_id or own_id))


def _contact_identities(sender: schema.Sender) -> tuple[SenderIdentity, ...]:
    """The sender's email and phone, to recognise a known customer; invalid ones are
    dropped (logged), never fatal: the external id alone identifies the sender."""
    found: list[SenderIdentity] = []
    for kind, value in (("email", sender.email), ("phone", sender.phone)):
        if not value:
            continue
        try:
            normalize_identity(kind, value, default_region=settings.PHONE_DEFAULT_REGION)
        except InvalidIdentity as exc:
            logger.info("dropped the sender's %s: %s", kind, exc)
            continue
        found.append(SenderIdentity(kind=kind, value=value))
    return tuple(found)


def _outbound_attachments(
    files: tuple[InboundAttachment, ...],
) -> list[schema.OutboundAttachment]:
    """Small files inline (base64); larger ones, or once the total is reached, listed with
    their size and no content."""
    listed: list[schema.OutboundAttachment] = []
    total = 0
    for item in files:
        size = len(item.content)
        fits = (
            size <= OUTBOUND_ATTACHMENT_MAX_BYTES
            and total + size <= OUTBOUND_ATTACHMENTS_TOTAL_BYTES
        )
        if fits:
            total += size
        listed.append(
            schema.OutboundAttachment(
                filename=item.filename,
                content_type=item.content_type or "application/octet-stream",
                size=size,
                content_base64=base64.b64encode(item.content).decode() if fits else None,
            )
        )
    return listed


def _answered_id(response: httpx.Response) -> str:
    """The bridge's id for the reply (`{"id": ...}` in its answer), if it gave one."""
    try:
        data = response.json()
    except ValueError:
        return ""
    value = data.get("id") if isinstance(data, dict) else None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return ""
    return str(value)[:200]


# The adapters this package registers (apps.py registers every package's ADAPTERS).
ADAPTERS: list[ChannelAdapter] = [GenericWebhookAdapter()]
