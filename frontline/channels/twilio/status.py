"""Twilio's status callbacks (MessageStatus of our outbound messages) as delivery reports.

Callbacks arrive in any order and may come before the send's own answer; the spine's receipts
keep what it cannot apply yet. A reply longer than Twilio's 1600 characters goes out as several
Messages: each part's StatusCallback URL carries `part`, `parts` and (after the first part)
`first`, the sid the reply is known by, so every part's report lands on that one message.
Twilio signs that URL, query included, so these values are as trustworthy as the body.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import NoReturn

from frontline.channels.receipts import delivery_report
from frontline.channels.registry import PayloadHandled, UnsupportedPayload
from frontline.channels.twilio.client import error_text

# Twilio's message statuses -> our delivery states.
STATUS_STATE = {
    "accepted": "queued",
    "scheduled": "queued",
    "queued": "queued",
    "sending": "queued",
    "sent": "sent",
    "delivered": "delivered",
    "read": "read",
    "failed": "failed",
    "undelivered": "failed",
    "canceled": "failed",
}
# Statuses of inbound messages: nothing of ours to update.
INBOUND_STATUSES = frozenset({"receiving", "received"})
MESSAGE_SID = re.compile(r"^(SM|MM)[0-9a-fA-F]{32}$")

# Keys under which the view keeps the status URL's query with the stored payload.
PART_HEADER, PARTS_HEADER, FIRST_SID_HEADER = "twilio_part", "twilio_parts", "twilio_first_sid"
STATUS_QUERY_HEADERS = {"part": PART_HEADER, "parts": PARTS_HEADER, "first": FIRST_SID_HEADER}


def status_dedupe_id(form: Mapping[str, str]) -> str:
    """One stored payload per (message, status): a retried callback is stored once, while
    queued, sent and delivered for the same message are each kept."""
    sid = form.get("MessageSid") or form.get("SmsSid") or ""
    status = form.get("MessageStatus") or form.get("SmsStatus") or ""
    return f"{sid}:{status}" if sid and status else ""


def _part_of(headers: Mapping[str, str]) -> tuple[int, int, str]:
    try:
        part = int(headers.get(PART_HEADER) or 1)
        parts = int(headers.get(PARTS_HEADER) or 1)
    except ValueError as exc:
        raise ValueError(f"bad part numbers in the status URL: {exc}") from exc
    first = headers.get(FIRST_SID_HEADER, "")
    if first and not MESSAGE_SID.match(first):
        raise ValueError(f"bad first-part sid in the status URL: {first!r}")
    if not 1 <= part <= parts:
        raise ValueError(f"part {part} of {parts} in the status URL")
    return part, parts, first


def status_apply(*, channel: str, form: Mapping[str, str], headers: Mapping[str, str]) -> NoReturn:
    """Report a status callback to the spine, then raise PayloadHandled (or
    UnsupportedPayload for a status this version does not know)."""
    sid = form.get("MessageSid") or form.get("SmsSid") or ""
    status = (form.get("MessageStatus") or form.get("SmsStatus") or "").strip().lower()
    if not sid or not status:
        raise UnsupportedPayload("a Twilio status callback without MessageSid or MessageStatus")
    if status in INBOUND_STATUSES:
        raise PayloadHandled(f"status {status} of inbound message {sid}: nothing to update")
    state = STATUS_STATE.get(status)
    if state is None:
        raise UnsupportedPayload(f"Twilio message status {status!r} of {sid}")
    part, parts, first = _part_of(headers)
    reply_sid = first or sid
    error = ""
    if state == "failed":
        reason = form.get("ErrorMessage") or form.get("ChannelStatusMessage") or ""
        error = f"{status.capitalize()}: {error_text(form.get('ErrorCode'), reason)}"
        if parts > 1:
            error = f"Part {part} of {parts}: {error}"
    elif state in ("delivered", "read") and part < parts:
        # The reply is delivered when its last part is; an earlier part only shows it left.
        state = "sent"
    applied = delivery_report(
        channel=channel, provider_message_id=reply_sid, state=state, error=error
    )
    where = reply_sid if reply_sid == sid else f"{reply_sid} (part {part} of {parts}: {sid})"
    outcome = "applied" if applied else "recorded"
    raise PayloadHandled(f"status {status} of {where} {outcome} as {state}")
