"""Agent replies on Messenger and Instagram.

A private conversation is answered through the Send API (`POST /me/messages`), split on word
boundaries into the platform's text limit; Facebook files are uploaded with the message. A
public ticket is answered where the customer wrote: a comment on Facebook, a reply to the
comment on Instagram, or (for an Instagram @mention on someone else's media) through the
account's `mentions` edge. Any refusal raises, so the outbound task retries with backoff.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from django.utils import timezone

from frontline.channels.accounts import account_get
from frontline.channels.meta.graph import GraphError, graph_call
from frontline.channels.models import MessagingAccount
from frontline.channels.outbound import parts_record, parts_sent
from frontline.channels.types import Channel, InboundAttachment, OutboundMessage, SendResult

# Longest text one message may carry: Messenger counts 2000 characters, Instagram 1000
# bytes of UTF-8 (so an emoji counts for four).
TEXT_LIMITS = {Channel.FACEBOOK.value: 2000, Channel.INSTAGRAM.value: 1000}
LIMIT_IN_BYTES = {Channel.FACEBOOK.value: False, Channel.INSTAGRAM.value: True}
# Meta's standard messaging window after the customer's last message.
RESPONSE_WINDOW = timedelta(hours=24)
# Kept in the reply's metadata while it goes out in several parts, so a retry after a partial
# failure sends only the parts still missing (the customer never gets one twice).
PARTS_SENT_KEY = "meta_parts_sent"


def send_reply(channel: str, message: OutboundMessage) -> SendResult:
    """Send from the account the customer wrote to, where they wrote: in public under their
    comment when the ticket's last inbound message was public, else privately."""
    account = account_get(message.metadata.get("account_id"))
    if account is None or account.channel != channel:
        raise GraphError(f"no {channel} account to send this reply from")
    inbound = message.metadata.get("inbound") or {}
    if inbound.get("public"):
        return _public_reply(channel, account, message, inbound)
    return _private_message(channel, account, message, inbound)


def split_text(text: str, limit: int, *, in_bytes: bool = False) -> list[str]:
    """`text` in pieces of at most `limit` characters (UTF-8 bytes with `in_bytes`), cut at
    the last space or line break that fits (mid-word only when one word is longer)."""
    rest = text.strip()
    parts: list[str] = []
    while _size(rest, in_bytes) > limit:
        fit = _prefix_that_fits(rest, limit, in_bytes)
        window = rest[: fit + 1]
        cut = max(window.rfind(" "), window.rfind("\n"), window.rfind("\t"))
        if cut <= 0:
            cut = max(fit, 1)
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        parts.append(rest)
    return parts


def _size(text: str, in_bytes: bool) -> int:
    return len(text.encode()) if in_bytes else len(text)


def _prefix_that_fits(text: str, limit: int, in_bytes: bool) -> int:
    """How many leading characters of `text` fit in `limit`."""
    low, high = 0, min(len(text), limit)
    while low < high:
        middle = (low + high + 1) // 2
        if _size(text[:middle], in_bytes) <= limit:
            low = middle
        else:
            high = middle - 1
    return low


# -- public replies ----------------------------------------------------------------------


def _public_reply(
    channel: str, account: MessagingAccount, message: OutboundMessage, inbound: dict[str, Any]
) -> SendResult:
    text = message.text.strip()
    if not text:
        raise GraphError("a public reply needs text")
    if channel == Channel.FACEBOOK:
        target = str(inbound.get("comment_id") or inbound.get("post_id") or "")
        if not target:
            raise GraphError("the customer's comment or post is not known")
        answer = graph_call(account, "POST", f"{target}/comments", json={"message": text})
    elif inbound.get("mention"):
        account_id = str(inbound.get("instagram_account_id") or account.address)
        body = {"media_id": str(inbound.get("media_id") or ""), "message": text}
        if inbound.get("comment_id"):
            body["comment_id"] = str(inbound["comment_id"])
        answer = graph_call(account, "POST", f"{account_id}/mentions", json=body)
    else:
        comment_id = str(inbound.get("comment_id") or "")
        if not comment_id:
            raise GraphError("the customer's comment is not known")
        answer = graph_call(account, "POST", f"{comment_id}/replies", json={"message": text})
    return SendResult(
        provider_message_id=str(answer.get("id") or ""),
        state="sent",
        error=_not_sent_note(message.attachments, "public replies take text only"),
    )


# -- private messages --------------------------------------------------------------------


def _private_message(
    channel: str, account: MessagingAccount, message: OutboundMessage, inbound: dict[str, Any]
) -> SendResult:
    # The id the customer last wrote from (a username identity cannot receive messages).
    recipient_id = str(inbound.get("sender_id") or message.recipient.value)
    if not recipient_id:
        raise GraphError(f"the customer has no {channel} id to write to")
    messaging = _messaging_type(account, inbound)
    texts = split_text(message.text, TEXT_LIMITS[channel], in_bytes=LIMIT_IN_BYTES[channel])
    linked = _instagram_linkable(message) if channel == Channel.INSTAGRAM else []
    files: list[Any] = list(message.attachments) if channel == Channel.FACEBOOK else linked
    if not texts and not files:
        raise GraphError("the reply has nothing to send")
    count = len(texts) + len(files)
    sent = parts_sent(message, PARTS_SENT_KEY)[:count] if count > 1 else []
    for index in range(len(sent), count):
        if index < len(texts):
            body = {"recipient": {"id": recipient_id}, **messaging}
            body["message"] = {"text": texts[index]}
            answer = graph_call(account, "POST", "me/messages", json=body)
        elif channel == Channel.FACEBOOK:
            answer = _upload(account, recipient_id, messaging, files[index - len(texts)])
        else:
            kind, link = files[index - len(texts)][1:]
            body = {"recipient": {"id": recipient_id}, **messaging}
            body["message"] = {"attachment": {"type": kind, "payload": {"url": link}}}
            answer = graph_call(account, "POST", "me/messages", json=body)
        sent.append(str(answer.get("message_id") or answer.get("id") or ""))
        if count > 1:
            parts_record(message.message_id, PARTS_SENT_KEY, sent)
    sent_by_link = {id(item[0]) for item in linked}
    skipped = tuple(
        a
        for a in (message.attachments if channel != Channel.FACEBOOK else ())
        if id(a) not in sent_by_link
    )
    return SendResult(
        provider_message_id=sent[-1],
        state="sent",
        error=_not_sent_note(skipped, "Instagram messages take images, videos and sounds"),
    )


def _instagram_linkable(message: OutboundMessage) -> list[tuple[InboundAttachment, str, str]]:
    """(file, type, signed link) of the reply's images, videos and sounds: Instagram fetches
    them by URL (channels/files.py); other files cannot go."""
    found = []
    for attachment, link in zip(message.attachments, message.attachment_links, strict=False):
        kind = attachment.content_type.split("/")[0]
        if kind in ("image", "video", "audio"):
            found.append((attachment, kind, link))
    return found


def _messaging_type(account: MessagingAccount, inbound: dict[str, Any]) -> dict[str, str]:
    """RESPONSE inside the 24-hour window. Past it, pages approved for Meta's Human Agent
    feature (account option `human_agent_tag`) may still answer for 7 days with that tag."""
    last = inbound.get("timestamp")
    if account.options.get("human_agent_tag") and isinstance(last, int):
        elapsed = timezone.now().timestamp() - last / 1000
        if elapsed > RESPONSE_WINDOW.total_seconds():
            return {"messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"}
    return {"messaging_type": "RESPONSE"}


def _upload(
    account: MessagingAccount,
    recipient_id: str,
    messaging: dict[str, str],
    attachment: InboundAttachment,
) -> dict[str, Any]:
    """A file sent with the message itself (multipart `filedata`), as the Send API allows."""
    kind = attachment.content_type.split("/")[0]
    kind = kind if kind in ("image", "video", "audio") else "file"
    message = {"attachment": {"type": kind, "payload": {"is_reusable": False}}}
    return graph_call(
        account,
        "POST",
        "me/messages",
        data={
            "recipient": json.dumps({"id": recipient_id}),
            **messaging,
            "message": json.dumps(message),
        },
        files={
            "filedata": (
                attachment.filename or "attachment",
                attachment.content,
                attachment.content_type or "application/octet-stream",
            )
        },
    )


def _not_sent_note(attachments: tuple[InboundAttachment, ...], why: str) -> str:
    """Said on the reply when files could not go with it (Meta takes only links there)."""
    if not attachments:
        return ""
    names = ", ".join(a.filename for a in attachments)
    return f"attachments not sent ({why}): {names}"
