"""Meta webhook payloads (Messenger `object: page`, Instagram `object: instagram`) turned into
InboundMessages, delivery reports and notes.

One POST batches entries (one per page or Instagram account) and, in each, `messaging[]`
events (private messages, postbacks, deliveries, reads, echoes) and `changes[]` (public
comments, posts and mentions). Every customer message becomes its own InboundMessage with
the provider's id (`mid`, comment id), so a message Meta delivers twice is stored once.
Events we do not handle are listed in the log and in the messages' metadata; a payload with
nothing we handle is kept as `unsupported`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from django.conf import settings

from frontline.channels import receipts
from frontline.channels.accounts import account_get, account_secret
from frontline.channels.meta.graph import GraphError, graph_call
from frontline.channels.meta.media import media_download
from frontline.channels.models import MessagingAccount, RawPayload
from frontline.channels.registry import PayloadHandled, UnsupportedPayload
from frontline.channels.types import Channel, InboundAttachment, InboundMessage, SenderIdentity
from frontline.customers.models import Identity
from frontline.customers.normalize import InvalidIdentity, normalize_identity
from frontline.tickets.models import DeliveryState, Direction, Message

logger = logging.getLogger(__name__)

OBJECT_FOR_CHANNEL = {Channel.FACEBOOK.value: "page", Channel.INSTAGRAM.value: "instagram"}
# The metadata key naming the page or Instagram account a message came to.
ENTRY_ID_KEY = {Channel.FACEBOOK.value: "page_id", Channel.INSTAGRAM.value: "instagram_account_id"}
# Attachment types whose `payload.url` is a file worth keeping; others (fallback, share,
# reel, template, story_mention, ...) are links, listed in the text and the metadata.
DOWNLOADED_TYPES = frozenset({"image", "video", "audio", "file", "sticker"})
# Facebook feed items that are someone writing to or about the page.
FEED_ITEMS = frozenset({"comment", "post", "status", "photo", "video"})
ENVELOPE_KEYS = frozenset({"sender", "recipient", "timestamp"})
# Timestamps above this are milliseconds (messaging events); below, seconds (feed changes).
MILLISECONDS_FROM = 10**11


class MetaUnavailable(Exception):
    """Graph could not answer a look-up a message needs (a mention's text) for now: the
    payload's task retries later."""


def payload_id_for(body: bytes) -> str:
    """The stored payload's provider id: a hash of the exact body, so a redelivery of the same
    POST is stored once (each message in it is deduplicated on its own id as well)."""
    return "sha256:" + hashlib.sha256(body).hexdigest()


@dataclass
class _Batch:
    channel: str
    url_account: MessagingAccount
    last_attempt: bool
    messages: list[InboundMessage] = field(default_factory=list)
    handled: list[str] = field(default_factory=list)
    unhandled: list[str] = field(default_factory=list)
    accounts: dict[str, MessagingAccount | None] = field(default_factory=dict)
    profiles: dict[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def network(self) -> str:
        return self.channel


def parse_payload(channel: str, body: bytes, headers: dict[str, str]) -> list[InboundMessage]:
    """Every customer message in a Meta payload. Raises PayloadHandled when it held only
    reports and echoes, UnsupportedPayload when it held nothing we handle, ValueError when it
    is not a Meta payload at all."""
    data = json.loads(body)
    if not isinstance(data, dict) or not isinstance(data.get("entry"), list):
        raise ValueError("not a Meta webhook payload (no entry list)")
    expected = OBJECT_FOR_CHANNEL[channel]
    if data.get("object") != expected:
        raise UnsupportedPayload(
            f"object {data.get('object')!r} posted to a {channel} account, which takes "
            f"{expected!r}: point that webhook at the matching account's URL"
        )
    try:
        account_id = int(headers.get("account_id", ""))
    except ValueError as exc:
        raise ValueError("the payload does not say which account received it") from exc
    account = account_get(account_id)
    if account is None:
        raise ValueError(f"the account {account_id} that received this payload is gone")
    batch = _Batch(channel=channel, url_account=account, last_attempt=_last_attempt(channel, body))
    for entry in data["entry"]:
        if not isinstance(entry, dict):
            raise ValueError("an entry that is not an object")
        _entry(batch, entry)
    return _outcome(batch)


def _last_attempt(channel: str, body: bytes) -> bool:
    """Whether the spine will give up on this payload if this attempt fails too; then files
    that cannot be fetched are left out rather than holding the messages back."""
    from frontline.channels.services import PAYLOAD_MAX_ATTEMPTS

    attempts = (
        RawPayload.objects.filter(channel=channel, provider_message_id=payload_id_for(body))
        .values_list("attempts", flat=True)
        .first()
    )
    return attempts is not None and attempts >= PAYLOAD_MAX_ATTEMPTS


def _outcome(batch: _Batch) -> list[InboundMessage]:
    if batch.unhandled:
        logger.warning(
            "%s payload: events not handled: %s", batch.channel, ", ".join(batch.unhandled)
        )
    if batch.messages:
        if not batch.unhandled:
            return batch.messages
        noted = sorted(set(batch.unhandled))
        return [
            replace(m, metadata={**m.metadata, "unhandled_events": noted}) for m in batch.messages
        ]
    if batch.handled:
        notes = list(dict.fromkeys(batch.handled))
        if batch.unhandled:
            notes.append("not handled: " + ", ".join(sorted(set(batch.unhandled))))
        raise PayloadHandled("; ".join(notes))
    raise UnsupportedPayload(
        "no event Frontline handles: " + (", ".join(sorted(set(batch.unhandled))) or "empty")
    )


def _entry_account(batch: _Batch, entry_id: str) -> MessagingAccount | None:
    """The account an entry is for. One Meta app has one webhook URL per object for all its
    pages, so an entry may name another page of the same app: it is routed to that page's
    account, but only if that account trusts the same app secret."""
    if entry_id in batch.accounts:
        return batch.accounts[entry_id]
    url_account = batch.url_account
    found: MessagingAccount | None = None
    if url_account.address in ("", entry_id):
        found = url_account
    else:
        other = MessagingAccount.objects.filter(
            provider=url_account.provider, address=entry_id, is_active=True
        ).first()
        secret = account_secret(url_account, "app_secret")
        if (
            other is not None
            and secret
            and hmac.compare_digest(account_secret(other, "app_secret"), secret)
        ):
            found = other
    batch.accounts[entry_id] = found
    return found


def _entry(batch: _Batch, entry: dict[str, Any]) -> None:
    entry_id = str(entry.get("id") or "")
    account = _entry_account(batch, entry_id)
    if account is None:
        batch.unhandled.append(f"entry for {entry_id}, which no account of this app has")
        return
    for event in entry.get("messaging") or []:
        if not isinstance(event, dict):
            raise ValueError("a messaging event that is not an object")
        _messaging_event(batch, account, entry_id, event)
    for change in entry.get("changes") or []:
        if not isinstance(change, dict):
            raise ValueError("a change that is not an object")
        _change(batch, account, entry_id, change, entry.get("time"))
    for _ in entry.get("standby") or []:
        batch.unhandled.append("standby (another app controls the conversation)")


# -- private messages --------------------------------------------------------------------


def _messaging_event(
    batch: _Batch, account: MessagingAccount, entry_id: str, event: dict[str, Any]
) -> None:
    sender_id = str(_object(event, "sender").get("id") or "")
    if "message" in event:
        _customer_message(batch, account, entry_id, sender_id, event)
    elif "postback" in event:
        _postback(batch, account, entry_id, sender_id, event)
    elif "delivery" in event:
        _delivery(batch, account, sender_id, event["delivery"])
    elif "read" in event:
        _read(batch, account, sender_id, event["read"])
    else:
        kind = next((k for k in event if k not in ENVELOPE_KEYS), "empty")
        batch.unhandled.append(f"messaging:{kind}")


def _customer_message(
    batch: _Batch, account: MessagingAccount, entry_id: str, sender_id: str, event: dict[str, Any]
) -> None:
    message = event["message"]
    if not isinstance(message, dict):
        raise ValueError("a message that is not an object")
    if message.get("is_echo") or (sender_id and sender_id == entry_id):
        batch.handled.append("echo of a message the page sent, ignored")
        return
    if message.get("is_deleted"):
        batch.unhandled.append("messaging:message_deleted")
        return
    mid = str(message.get("mid") or "")
    if not mid or not sender_id:
        raise ValueError("a message without its mid or its sender")
    metadata = _metadata(batch, account, entry_id, sender_id, event.get("timestamp"))
    metadata["mid"] = mid
    quick_reply = message.get("quick_reply")
    if isinstance(quick_reply, dict) and quick_reply.get("payload"):
        metadata["quick_reply_payload"] = str(quick_reply["payload"])
    references: tuple[str, ...] = ()
    reply_to = message.get("reply_to")
    if isinstance(reply_to, dict) and reply_to.get("mid"):
        metadata["reply_to_mid"] = str(reply_to["mid"])
        references = (str(reply_to["mid"]),)
    attachments, notes = _attachments(batch, message.get("attachments"), metadata)
    text = str(message.get("text") or "")
    if message.get("is_unsupported"):
        notes.append(f"[a message whose content {batch.channel} does not pass on to apps]")
    batch.messages.append(
        _inbound(
            batch,
            account,
            sender_id,
            text=_with_notes(text, notes),
            provider_message_id=mid,
            references=references,
            thread_key=_conversation_key(entry_id, sender_id),
            attachments=attachments,
            received_at=_when(event.get("timestamp")),
            metadata=metadata,
        )
    )


def _postback(
    batch: _Batch, account: MessagingAccount, entry_id: str, sender_id: str, event: dict[str, Any]
) -> None:
    """A button or ice-breaker the customer tapped: its title is what they 'said'."""
    postback = event["postback"]
    if not isinstance(postback, dict) or not sender_id:
        raise ValueError("a postback without its sender")
    title = str(postback.get("title") or "")
    payload = str(postback.get("payload") or "")
    mid = str(postback.get("mid") or "") or f"postback:{sender_id}:{event.get('timestamp', '')}"
    metadata = _metadata(batch, account, entry_id, sender_id, event.get("timestamp"))
    metadata.update({"mid": mid, "postback_title": title, "postback_payload": payload})
    batch.messages.append(
        _inbound(
            batch,
            account,
            sender_id,
            text=title or payload,
            provider_message_id=mid,
            thread_key=_conversation_key(entry_id, sender_id),
            received_at=_when(event.get("timestamp")),
            metadata=metadata,
        )
    )


def _attachments(
    batch: _Batch, raw: Any, metadata: dict[str, Any]
) -> tuple[tuple[InboundAttachment, ...], list[str]]:
    """Download the files; list the links (shares, reels, fallbacks) as text notes."""
    if not raw:
        return (), []
    if not isinstance(raw, list):
        raise ValueError("attachments that are not a list")
    files: list[tuple[str, str]] = []
    links: list[dict[str, str]] = []
    for item in raw:
        if not isinstance(item, dict):
            raise ValueError("an attachment that is not an object")
        kind = str(item.get("type") or "")
        payload = _object(item, "payload")
        url = str(payload.get("url") or "")
        if kind in DOWNLOADED_TYPES and url:
            files.append((kind, url))
        elif url:
            links.append({"type": kind, "url": url, "title": str(payload.get("title") or "")})
        else:
            links.append({"type": kind or "unknown", "url": "", "title": ""})
    downloads = media_download(
        files, max_bytes=int(settings.ATTACHMENT_MAX_BYTES), last_attempt=batch.last_attempt
    )
    notes = [
        f"[{link['type']}{': ' + link['title'] if link['title'] else ''}] {link['url']}".strip()
        for link in links
    ]
    notes += [f"[{s['type']} not kept: {s['reason']}]" for s in downloads.skipped]
    if links:
        metadata["links"] = links
    if downloads.skipped:
        metadata["skipped_attachments"] = downloads.skipped
    return tuple(downloads.attachments), notes


# -- delivery reports --------------------------------------------------------------------


def _delivery(batch: _Batch, account: MessagingAccount, customer_id: str, delivery: Any) -> None:
    """Messenger's message_deliveries: `mids` when given, else everything sent before the
    watermark."""
    if not isinstance(delivery, dict):
        raise ValueError("a delivery event that is not an object")
    mids = [str(m) for m in delivery.get("mids") or [] if m]
    for mid in mids:
        receipts.delivery_report(channel=batch.channel, provider_message_id=mid, state="delivered")
    if mids:
        batch.handled.append(f"delivery of {len(mids)} message(s) applied")
        return
    count = _mark_sent_before(batch, account, customer_id, delivery.get("watermark"), "delivered")
    batch.handled.append(f"delivery watermark applied to {count} message(s)")


def _read(batch: _Batch, account: MessagingAccount, customer_id: str, read: Any) -> None:
    """Messenger's message_reads (a watermark: all our messages sent until then were read) and
    Instagram's messaging_seen (the `mid` read, so also every message before it)."""
    if not isinstance(read, dict):
        raise ValueError("a read event that is not an object")
    watermark: Any = read.get("watermark")
    mid = str(read.get("mid") or "")
    if mid:
        receipts.delivery_report(channel=batch.channel, provider_message_id=mid, state="read")
        sent = (
            Message.objects.filter(
                channel=batch.channel, provider_message_id=mid, direction=Direction.OUTBOUND
            )
            .values_list("created_at", flat=True)
            .first()
        )
        watermark = sent or watermark
    count = _mark_sent_before(batch, account, customer_id, watermark, "read")
    batch.handled.append(f"read receipt applied to {count + (1 if mid else 0)} message(s)")


def _mark_sent_before(
    batch: _Batch, account: MessagingAccount, customer_id: str, watermark: Any, state: str
) -> int:
    """Report `state` for the account's replies to this customer written up to `watermark`
    and not yet that far along. Returns how many."""
    until = watermark if isinstance(watermark, datetime) else _when(watermark)
    if until is None or not customer_id:
        return 0
    try:
        _, network, value = normalize_identity("social", customer_id, batch.network)
    except InvalidIdentity:
        return 0
    customers = Identity.objects.filter(kind="social", network=network, value=value).values(
        "customer_id"
    )
    account_tickets = Message.objects.filter(
        channel=batch.channel, direction=Direction.INBOUND, metadata__account_id=account.pk
    ).values("ticket_id")
    earlier = [DeliveryState.SENT]
    if state == DeliveryState.READ:
        earlier.append(DeliveryState.DELIVERED)
    provider_ids = list(
        Message.objects.filter(
            channel=batch.channel,
            direction=Direction.OUTBOUND,
            ticket__requester_id__in=customers,
            ticket_id__in=account_tickets,
            created_at__lte=until,
            delivery_state__in=earlier,
        )
        .exclude(provider_message_id="")
        .values_list("provider_message_id", flat=True)
    )
    for provider_id in provider_ids:
        receipts.delivery_report(
            channel=batch.channel, provider_message_id=provider_id, state=state
        )
    return len(provider_ids)


# -- public comments, posts and mentions -------------------------------------------------


def _change(
    batch: _Batch,
    account: MessagingAccount,
    entry_id: str,
    change: dict[str, Any],
    entry_time: Any,
) -> None:
    name = str(change.get("field") or "")
    value = change.get("value")
    if not isinstance(value, dict):
        raise ValueError(f"a {name or 'nameless'} change without a value object")
    if batch.channel == Channel.FACEBOOK and name == "feed":
        _feed(batch, account, entry_id, value, entry_time)
    elif batch.channel == Channel.FACEBOOK and name == "mention":
        _page_mention(batch, account, entry_id, value, entry_time)
    elif batch.channel == Channel.INSTAGRAM and name == "comments":
        _instagram_comment(batch, account, entry_id, value, entry_time)
    elif batch.channel == Channel.INSTAGRAM and name == "mentions":
        _instagram_mention(batch, account, entry_id, value, entry_time)
    else:
        batch.unhandled.append(f"changes:{name or 'unnamed'}")


def _feed(
    batch: _Batch,
    account: MessagingAccount,
    entry_id: str,
    value: dict[str, Any],
    entry_time: Any,
) -> None:
    """A comment, or a visitor's post, on the page's feed."""
    item = str(value.get("item") or "")
    verb = str(value.get("verb") or "")
    if item not in FEED_ITEMS or verb != "add":
        batch.unhandled.append(f"feed:{item or 'unknown'}:{verb or 'unknown'}")
        return
    author = _object(value, "from")
    author_id = str(author.get("id") or "")
    if author_id == entry_id:
        batch.handled.append(f"the page's own {item}, ignored")
        return
    if not author_id:
        # Meta leaves the author out unless the app may read user content on the page.
        batch.unhandled.append(f"feed:{item} without its author")
        return
    post_id = str(value.get("post_id") or "")
    comment_id = str(value.get("comment_id") or "") if item == "comment" else ""
    if not (comment_id or post_id):
        raise ValueError(f"a feed {item} without its id")
    post = _object(value, "post")
    metadata = _public_metadata(
        batch, account, entry_id, author_id, item=item, post_id=post_id, comment_id=comment_id,
        parent_id=str(value.get("parent_id") or ""),
        permalink=str(post.get("permalink_url") or ""),
    )  # fmt: skip
    notes = [f"[{kind}] {value[kind]}" for kind in ("photo", "video", "link") if value.get(kind)]
    batch.messages.append(
        _inbound(
            batch,
            account,
            author_id,
            name=str(author.get("name") or ""),
            text=_with_notes(str(value.get("message") or ""), notes),
            provider_message_id=comment_id or post_id,
            thread_key=post_id or comment_id,
            received_at=_when(value.get("created_time")) or _when(entry_time),
            metadata=metadata,
            public=True,
        )
    )


def _page_mention(
    batch: _Batch,
    account: MessagingAccount,
    entry_id: str,
    value: dict[str, Any],
    entry_time: Any,
) -> None:
    """Someone mentioned the page in their own post or comment. The text and the author are
    looked up on Graph when the notification leaves them out."""
    item = str(value.get("item") or "")
    verb = str(value.get("verb") or "")
    if item not in ("post", "comment") or verb != "add":
        batch.unhandled.append(f"mention:{item or 'unknown'}:{verb or 'unknown'}")
        return
    post_id = str(value.get("post_id") or "")
    comment_id = str(value.get("comment_id") or "") if item == "comment" else ""
    object_id = comment_id or post_id
    if not object_id:
        raise ValueError("a mention without its post or comment id")
    author = _object(value, "from")
    author_id = str(author.get("id") or value.get("sender_id") or "")
    name = str(author.get("name") or value.get("sender_name") or "")
    text = str(value.get("message") or "")
    permalink = ""
    if not author_id or not text:
        found = _graph_lookup(
            batch, account, object_id, {"fields": "from,message,permalink_url"}, "mention"
        )
        if found is None:
            return
        found_author = _object(found, "from")
        author_id = author_id or str(found_author.get("id") or "")
        name = name or str(found_author.get("name") or "")
        text = text or str(found.get("message") or "")
        permalink = str(found.get("permalink_url") or "")
    if author_id == entry_id:
        batch.handled.append("the page mentioning itself, ignored")
        return
    if not author_id:
        batch.unhandled.append(f"mention:{item} without its author")
        return
    metadata = _public_metadata(
        batch, account, entry_id, author_id, mention=True, item=item, post_id=post_id,
        comment_id=comment_id, permalink=permalink,
    )  # fmt: skip
    batch.messages.append(
        _inbound(
            batch,
            account,
            author_id,
            name=name,
            text=text,
            provider_message_id=object_id,
            thread_key=post_id or object_id,
            received_at=_when(value.get("created_time")) or _when(entry_time),
            metadata=metadata,
            public=True,
        )
    )


def _instagram_comment(
    batch: _Batch,
    account: MessagingAccount,
    entry_id: str,
    value: dict[str, Any],
    entry_time: Any,
) -> None:
    """A comment on one of the account's posts or reels."""
    author = _object(value, "from")
    author_id = str(author.get("id") or "")
    if author_id == entry_id:
        batch.handled.append("the account's own comment, ignored")
        return
    comment_id = str(value.get("id") or "")
    media = _object(value, "media")
    media_id = str(media.get("id") or "")
    if not comment_id or not media_id or not author_id:
        raise ValueError("an Instagram comment without its id, media or author")
    username = str(author.get("username") or "")
    metadata = _public_metadata(
        batch, account, entry_id, author_id, comment_id=comment_id, media_id=media_id,
        media_product_type=str(media.get("media_product_type") or ""),
        parent_id=str(value.get("parent_id") or ""), username=username,
    )  # fmt: skip
    batch.messages.append(
        _inbound(
            batch,
            account,
            author_id,
            name=username,
            username=username,
            text=str(value.get("text") or ""),
            provider_message_id=comment_id,
            thread_key=media_id,
            received_at=_when(entry_time),
            metadata=metadata,
            public=True,
        )
    )


def _instagram_mention(
    batch: _Batch,
    account: MessagingAccount,
    entry_id: str,
    value: dict[str, Any],
    entry_time: Any,
) -> None:
    """Someone @mentioned the account in a caption or a comment on their own media. The
    notification carries only ids; the text and the author's username come from Graph."""
    media_id = str(value.get("media_id") or "")
    comment_id = str(value.get("comment_id") or "")
    if not media_id:
        raise ValueError("an Instagram mention without its media id")
    if comment_id:
        edge = "mentioned_comment"
        fields = f"{edge}.comment_id({comment_id}){{id,text,timestamp,username,media{{permalink}}}}"
    else:
        edge = "mentioned_media"
        fields = f"{edge}.media_id({media_id}){{caption,permalink,timestamp,username}}"
    answer = _graph_lookup(batch, account, entry_id, {"fields": fields}, "mentions")
    if answer is None:
        return
    found = _object(answer, edge)
    username = str(found.get("username") or "")
    if not username:
        batch.unhandled.append("mentions: Instagram did not say who wrote it")
        return
    media = _object(found, "media")
    permalink = str(found.get("permalink") or media.get("permalink") or "")
    text = str((found.get("text") if comment_id else found.get("caption")) or "")
    metadata = _public_metadata(
        batch, account, entry_id, "", mention=True, media_id=media_id, username=username,
        comment_id=comment_id, permalink=permalink,
    )  # fmt: skip
    batch.messages.append(
        _inbound(
            batch,
            account,
            username,
            name=username,
            text=text,
            provider_message_id=comment_id or media_id,
            thread_key=media_id,
            received_at=_when(found.get("timestamp")) or _when(entry_time),
            metadata=metadata,
            public=True,
        )
    )


def _graph_lookup(
    batch: _Batch, account: MessagingAccount, path: str, params: dict[str, str], kind: str
) -> dict[str, Any] | None:
    """A Graph read a public message needs. A passing failure retries the payload (unless this
    is its last attempt); a refusal is recorded as an event not handled."""
    try:
        return graph_call(account, "GET", path, params=params)
    except GraphError as exc:
        if exc.transient and not batch.last_attempt:
            raise MetaUnavailable(f"{kind} look-up failed for now: {exc}") from exc
        batch.unhandled.append(f"{kind}: look-up failed ({exc})")
        return None


# -- building the message ----------------------------------------------------------------


def _metadata(
    batch: _Batch, account: MessagingAccount, entry_id: str, sender_id: str, timestamp: Any
) -> dict[str, Any]:
    metadata: dict[str, Any] = {"account_id": account.pk, ENTRY_ID_KEY[batch.channel]: entry_id}
    if sender_id:
        metadata["sender_id"] = sender_id
    if isinstance(timestamp, int):
        metadata["timestamp"] = timestamp
    return metadata


def _public_metadata(
    batch: _Batch, account: MessagingAccount, entry_id: str, sender_id: str, **fields: Any
) -> dict[str, Any]:
    """A public post's or comment's metadata: the common part, `public`, and each of `fields`
    that has a value (what the reply needs to answer in the right place)."""
    metadata = _metadata(batch, account, entry_id, sender_id, None)
    metadata["public"] = True
    metadata.update({name: value for name, value in fields.items() if value})
    return metadata


def _inbound(
    batch: _Batch,
    account: MessagingAccount,
    sender_value: str,
    *,
    text: str,
    provider_message_id: str,
    thread_key: str,
    metadata: dict[str, Any],
    received_at: datetime | None,
    name: str = "",
    username: str = "",
    references: tuple[str, ...] = (),
    attachments: tuple[InboundAttachment, ...] = (),
    public: bool = False,
) -> InboundMessage:
    if not name and not public:
        name, username = _profile(batch, account, sender_value)
    others: tuple[SenderIdentity, ...] = ()
    if username and username.casefold() != sender_value.casefold():
        # The Instagram username, so a later mention (which names only it) finds this customer.
        others = (SenderIdentity(kind="social", value=username, network=batch.network),)
    ticket_fields: dict[str, Any] = {}
    if account.team_id:
        ticket_fields["team"] = account.team_id
    if public:
        ticket_fields["is_public"] = True
    return InboundMessage(
        channel=batch.channel,
        sender=SenderIdentity(kind="social", value=sender_value, network=batch.network),
        sender_name=name,
        other_identities=others,
        text=text,
        provider_message_id=provider_message_id,
        references=references,
        thread_key=thread_key,
        attachments=attachments,
        received_at=received_at,
        metadata=metadata,
        ticket_fields=ticket_fields,
    )


def _profile(batch: _Batch, account: MessagingAccount, user_id: str) -> tuple[str, str]:
    """(name, username) of a customer new to us, from Graph's user profile API. Fails soft:
    a message is never held back for a name."""
    if user_id in batch.profiles:
        return batch.profiles[user_id]
    profile = ("", "")
    known = Identity.objects.filter(kind="social", network=batch.network, value=user_id.casefold())
    if not known.exists():
        fields = "first_name,last_name" if batch.channel == Channel.FACEBOOK else "name,username"
        try:
            found = graph_call(account, "GET", user_id, params={"fields": fields})
        except GraphError as exc:
            logger.info("no profile for %s %s: %s", batch.channel, user_id, exc)
            found = {}
        if batch.channel == Channel.FACEBOOK:
            parts = (found.get("first_name"), found.get("last_name"))
            name = " ".join(str(p) for p in parts if p)
            profile = (name, "")
        else:
            username = str(found.get("username") or "")
            profile = (str(found.get("name") or username), username)
    batch.profiles[user_id] = profile
    return profile


def _object(container: dict[str, Any], key: str) -> dict[str, Any]:
    """A nested object of a payload, or {} when it is missing or not an object."""
    value = container.get(key)
    return value if isinstance(value, dict) else {}


def _conversation_key(entry_id: str, sender_id: str) -> str:
    """A private conversation is one thread per page and customer, apart from the customer's
    public comments (which thread by post)."""
    return f"dm:{entry_id}:{sender_id}"


def _with_notes(text: str, notes: list[str]) -> str:
    lines = [text] if text else []
    lines += [n for n in notes if n and n not in text]
    return "\n".join(lines)


def _when(value: Any) -> datetime | None:
    """Meta's times: milliseconds (messaging), seconds (feed) or ISO 8601 ("+0000" offsets)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        seconds = value / 1000 if value >= MILLISECONDS_FROM else value
        return datetime.fromtimestamp(seconds, tz=UTC)
    if isinstance(value, str) and value:
        try:
            parsed = datetime.strptime(value, "%Y-%m-%dT%H:%M:%S%z")
        except ValueError:
            return None
        return parsed.astimezone(UTC)
    return None
