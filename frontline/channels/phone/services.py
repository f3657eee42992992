"""Phone-channel services: voicemail recordings and transcriptions, call-back tasks after
missed calls and voicemails, and calls an agent logs by hand.

A call reaches a ticket through the one ingest service (see adapter.py); what happens after
(a transcription arriving minutes later, a call-back to do, a call made from a desk phone)
is written here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from frontline.channels.accounts import account_secret
from frontline.channels.models import MessagingAccount
from frontline.channels.phone.calls import (
    CallDirection,
    CallReport,
    Outcome,
    call_summary,
    phone_number,
)
from frontline.channels.types import Channel, InboundAttachment
from frontline.core.bus import Event, publish
from frontline.core.errors import PermissionDenied, ValidationFailed
from frontline.tickets import permissions
from frontline.tickets import services as ticket_services
from frontline.tickets.actors import SYSTEM, Actor
from frontline.tickets.lifecycle import Status
from frontline.tickets.models import Message, TaskKind, Ticket, TicketTask
from frontline.tickets.sanitize import text_to_html

PHONE = Channel.PHONE.value
TWILIO_API = "https://api.twilio.com"
RECORDING_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
# A missed call or a voicemail should be answered within this time (business hours are the
# routing engine's concern, not this channel's).
CALLBACK_DUE_AFTER = timedelta(hours=4)
LOGGED_CALL_MAX_SECONDS = 24 * 3600
LOGGED_CALL_NOTES_MAX = 10_000
# A call logged "in the future" beyond clock drift is a typing mistake.
LOGGED_CALL_FUTURE_TOLERANCE = timedelta(minutes=5)
# Published when a stored call message changes (its voicemail transcription arrived), so an
# open ticket page offers a reload.
MESSAGE_UPDATED = "message.updated"


class RetryLater(Exception):
    """A transient condition (Twilio's media server is down, the call a transcription
    belongs to is not stored yet): the payload stays pending and its task retries."""


# --------------------------------------------------------------------------- recordings


def provider_message_id_for(call_sid: str) -> str:
    """One message per call, whichever of its callbacks (or copies of them) arrive."""
    return f"call:{call_sid}"


def _recording_media_url(account: MessagingAccount, recording_url: str) -> str:
    """The MP3 of a Twilio recording, fetched from the account's API base (Twilio's public
    API unless the account names another), never from a host a payload names."""
    path = urlsplit(recording_url).path
    if not path.startswith("/2010-04-01/Accounts/") or "/Recordings/" not in path:
        return ""
    for suffix in (".json", ".mp3", ".wav"):
        path = path.removesuffix(suffix)
    base = (account.api_base_url or TWILIO_API).rstrip("/")
    return f"{base}{path}.mp3"


def recording_fetch(
    account: MessagingAccount, report: CallReport
) -> tuple[InboundAttachment | None, str]:
    """Download the call's recording as an MP3 attachment. Returns (attachment, problem):
    no attachment and the reason when Twilio refuses it or it is too large (the message keeps
    the link). Raises RetryLater when Twilio cannot answer now."""
    url = _recording_media_url(account, report.recording_url)
    if not url:
        return None, "not a Twilio recording URL"
    token = account_secret(account, "auth_token")
    auth = (account.account_sid, token) if account.account_sid and token else None
    limit = int(settings.ATTACHMENT_MAX_BYTES)
    try:
        with (
            httpx.Client(timeout=RECORDING_TIMEOUT, follow_redirects=True) as client,
            client.stream("GET", url, auth=auth) as response,
        ):
            if response.status_code == 429 or response.status_code >= 500:
                raise RetryLater(f"Twilio answered {response.status_code} for the recording")
            if response.status_code >= 400:
                return None, f"Twilio answered {response.status_code} for the recording"
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > limit:
                    return None, f"the recording is larger than the {limit} byte limit"
                chunks.append(chunk)
    except httpx.HTTPError as exc:
        raise RetryLater(f"the recording could not be downloaded: {exc!r}") from exc
    label = "voicemail" if report.outcome == Outcome.VOICEMAIL else "call-recording"
    name = f"{label}-{report.recording_sid or report.sid}.mp3"
    return InboundAttachment(filename=name, content_type="audio/mpeg", content=b"".join(chunks)), ""


# --------------------------------------------------------------------------- transcriptions


@dataclass(frozen=True)
class Transcription:
    """A voicemail transcription as Twilio's transcribeCallback reports it."""

    sid: str
    status: str  # completed or failed
    text: str
    url: str
    recording_sid: str
    call_sid: str
    recording_url: str = ""

    def metadata(self) -> dict[str, str]:
        return {"sid": self.sid, "status": self.status, "text": self.text, "url": self.url}


def call_text(call: dict[str, Any]) -> str:
    """The visible text of a call message: its summary, then the voicemail's words."""
    summary = str(call.get("summary", "")) or "Phone call"
    transcription = call.get("transcription")
    if not isinstance(transcription, dict):
        return summary
    if transcription.get("status") != "completed":
        return f"{summary}\n\nThe transcription failed: listen to the recording."
    words = str(transcription.get("text", "")).strip()
    if not words:
        return f"{summary}\n\nThe transcription is empty: listen to the recording."
    return f"{summary}\n\nTranscription: “{words}”"


def call_message(call_sid: str, recording_sid: str = "", *, lock: bool = False) -> Message | None:
    """The message of a call, by its CallSid (or, failing that, its recording)."""
    messages = Message.objects.filter(channel=PHONE)
    if lock:
        messages = messages.select_for_update()
    found = None
    if call_sid:
        found = messages.filter(provider_message_id=provider_message_id_for(call_sid)).first()
    if found is None and recording_sid:
        found = messages.filter(metadata__call__recording_sid=recording_sid).first()
    return found


@transaction.atomic
def call_transcription_attach(transcription: Transcription) -> Message | None:
    """Add a voicemail's transcription to its call message (text and metadata) and publish
    the change. None if the call is not stored yet. Idempotent.

    A voicemail recorded with <Record> in the number's TwiML reaches us only here: its call's
    status callback reported an answered inbound call (the recorder answered) without a
    recording. Such a call becomes the voicemail it was, with its call-back."""
    message = call_message(transcription.call_sid, transcription.recording_sid, lock=True)
    if message is None:
        return None
    metadata = dict(message.metadata or {})
    call = dict(metadata.get("call") or {})
    if call.get("transcription") == transcription.metadata():
        return message
    call["transcription"] = transcription.metadata()
    became_voicemail = False
    if transcription.recording_url and not call.get("recording_url"):
        call["recording_url"] = transcription.recording_url
        call["recording_sid"] = transcription.recording_sid
        if (
            call.get("direction") == CallDirection.INBOUND
            and call.get("outcome") == Outcome.ANSWERED
        ):
            call["outcome"] = Outcome.VOICEMAIL.value
            call["summary"] = call_summary(
                direction=CallDirection.INBOUND,
                outcome=Outcome.VOICEMAIL,
                number=str(call.get("phone") or ""),
                recording_duration=call.get("recording_duration"),
            )
            became_voicemail = True
    metadata["call"] = call
    message.metadata = metadata
    message.text = call_text(call)
    message.html = text_to_html(message.text)
    message.save(update_fields=["metadata", "text", "html"])
    if became_voicemail:
        call_followup(message.pk)
    ticket = message.ticket
    publish(
        Event(
            name=MESSAGE_UPDATED,
            actor=f"channel:{PHONE}",
            ticket_id=ticket.pk,
            customer_id=ticket.requester_id,
            data={
                "message_id": message.pk,
                "channel": PHONE,
                "visibility": message.visibility,
                "change": "transcription",
                "transcription_status": transcription.status,
            },
        )
    )
    return message


# --------------------------------------------------------------------------- call-backs


def _call_of(message: Message) -> dict[str, Any] | None:
    call = (message.metadata or {}).get("call")
    return dict(call) if isinstance(call, dict) else None


def _callback_title(ticket: Ticket, phone: str, outcome: str) -> str:
    who = ticket.requester.name.strip() or phone
    why = "their voicemail" if outcome == Outcome.VOICEMAIL else "a missed call"
    return f"Call back {who} after {why}"


def _callbacks_close(ticket: Ticket, phone: str, *, before: datetime, actor: Actor) -> list[int]:
    """Tick off the open call-backs to `phone` on `ticket` that were opened before a call
    that reached the customer."""
    tasks = TicketTask.objects.filter(
        ticket=ticket, kind=TaskKind.CALLBACK, phone=phone, done_at=None, created_at__lte=before
    ).order_by("id")
    closed = []
    for task in tasks:
        ticket_services.ticket_task_complete(task=task, actor=actor)
        closed.append(task.pk)
    return closed


@transaction.atomic
def call_followup(message_id: int, *, actor: Actor = SYSTEM) -> TicketTask | None:
    """What a call leaves to do, once per call message and outcome (a replayed event changes
    nothing):

    - an inbound call that was missed or went to voicemail opens a call-back task for the
      caller's number, due in four hours, for the ticket's assignee; an open call-back to the
      same number on the ticket is reused, so three missed calls make one thing to do;
    - a call that reached the customer (either way) ticks off the call-backs to that number
      opened before it.

    Returns the call-back task the call opened or reused, if any."""
    message = (
        Message.objects.select_for_update()
        .select_related("ticket", "ticket__requester")
        .filter(pk=message_id, channel=PHONE)
        .first()
    )
    if message is None:
        return None
    call = _call_of(message)
    outcome = call.get("outcome") if call else None
    if call is None or call.get("followed_up") == outcome:
        return None
    ticket = message.ticket
    phone = str(call.get("phone") or "")
    task = None
    if phone and outcome == Outcome.ANSWERED:
        call["callbacks_closed"] = _callbacks_close(
            ticket, phone, before=message.created_at, actor=actor
        )
    elif (
        phone
        and outcome in (Outcome.MISSED, Outcome.VOICEMAIL)
        and call.get("direction") == CallDirection.INBOUND
        and ticket.status != Status.CLOSED
    ):
        task = (
            TicketTask.objects.filter(
                ticket=ticket, kind=TaskKind.CALLBACK, phone=phone, done_at=None
            )
            .order_by("id")
            .first()
        )
        if task is None:
            task = ticket_services.ticket_task_add(
                ticket=ticket,
                actor=actor,
                title=_callback_title(ticket, phone, str(outcome)),
                kind=TaskKind.CALLBACK,
                phone=phone,
                due_at=message.created_at + CALLBACK_DUE_AFTER,
                assignee=ticket.assignee,
            )
        call["callback_task_id"] = task.pk
    call["followed_up"] = outcome  # a call found to be a voicemail later is followed up again
    message.metadata = {**(message.metadata or {}), "call": call}
    message.save(update_fields=["metadata"])
    return task


# --------------------------------------------------------------------------- logged by hand


def _logged_phone(ticket: Ticket, phone: str, errors: dict[str, list[str]]) -> str:
    """The number typed (E.164), or the customer's own number when none was typed."""
    if phone.strip():
        number = phone_number(phone, region=settings.PHONE_DEFAULT_REGION)
        if not number:
            errors["phone"] = ["not a phone number"]
        return number
    known = (
        ticket.requester.identities.filter(kind="phone", network="")
        .order_by("id")
        .values_list("value", flat=True)
        .first()
    )
    if not known:
        errors["phone"] = ["required: the customer has no phone number on file"]
    return known or ""


def _logged_time(happened_at: datetime | None, errors: dict[str, list[str]]) -> datetime:
    now = timezone.now()
    if happened_at is None:
        return now
    if timezone.is_naive(happened_at):
        happened_at = timezone.make_aware(happened_at)
    if happened_at > now + LOGGED_CALL_FUTURE_TOLERANCE:
        errors["happened_at"] = ["in the future"]
    return happened_at


@transaction.atomic
def call_log(
    *,
    ticket: Ticket,
    actor: Actor,
    direction: str,
    phone: str,
    duration_seconds: int,
    outcome: str,
    notes: str = "",
    happened_at: datetime | None = None,
) -> Message:
    """Record a call made or taken outside Frontline (a desk phone, a mobile) on the ticket:
    a public message on the phone channel, authored by the agent, with the notes as its text.

    Nothing is delivered (the call happened); a missed inbound call or a voicemail opens a
    call-back, and a call that reached the customer ticks off the open ones, as for calls
    Twilio reports."""
    user = actor.user
    if actor.kind != "user" or user is None or not permissions.can_update_ticket(user, ticket):
        raise PermissionDenied(
            f"You may not log calls on ticket #{ticket.pk}.", fields={"ticket": ["not allowed"]}
        )
    errors: dict[str, list[str]] = {}
    if ticket.status == Status.CLOSED:
        errors["ticket"] = ["closed"]
    if direction not in {d.value for d in CallDirection}:
        errors["direction"] = ["inbound or outbound"]
    if outcome not in {o.value for o in Outcome}:
        errors["outcome"] = ["answered, missed, voicemail or failed"]
    if (
        isinstance(duration_seconds, bool)
        or not isinstance(duration_seconds, int)
        or not 0 <= duration_seconds <= LOGGED_CALL_MAX_SECONDS
    ):
        errors["duration_seconds"] = [f"between 0 and {LOGGED_CALL_MAX_SECONDS} seconds"]
    elif outcome in (Outcome.MISSED, Outcome.FAILED) and duration_seconds > 0:
        errors["duration_seconds"] = ["a missed or failed call has no duration"]
    number = _logged_phone(ticket, phone, errors)
    notes = notes.replace("\r\n", "\n").strip()
    if len(notes) > LOGGED_CALL_NOTES_MAX:
        errors["notes"] = [f"at most {LOGGED_CALL_NOTES_MAX} characters"]
    when = _logged_time(happened_at, errors)
    if errors:
        raise ValidationFailed("The call could not be logged.", fields=errors)
    summary = call_summary(
        direction=direction, outcome=outcome, number=number, duration=duration_seconds
    )
    call = {
        "direction": direction,
        "outcome": outcome,
        "duration": duration_seconds,
        "phone": number,
        "summary": summary,
        "logged_by": user.pk,
        "happened_at": when.isoformat(),
    }
    message = ticket_services.message_add(
        ticket=ticket,
        actor=actor,
        text=notes or summary,
        channel=PHONE,
        metadata={"call": call},
        received_at=when,
    )
    call_followup(message.pk, actor=actor)
    message.refresh_from_db(fields=["metadata"])
    return message
