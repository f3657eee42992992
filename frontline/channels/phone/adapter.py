"""The phone channel's adapter: Twilio Voice callbacks in, nothing out.

A call's final status callback becomes one message on channel `phone` (the customer is the
caller of an inbound call, the callee of an outbound one); earlier statuses are noted and
dropped. A voicemail's transcription callback is added to its call's message. Replies on a
phone ticket go by SMS or email: `send` only confirms calls an agent logged by hand.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

from django.conf import settings
from django.utils import timezone

from frontline.channels.accounts import account_get
from frontline.channels.models import MessagingAccount
from frontline.channels.phone import services
from frontline.channels.phone.calls import CallDirection, CallReport, call_report
from frontline.channels.registry import ChannelAdapter, PayloadHandled, UnsupportedPayload
from frontline.channels.types import (
    Channel,
    InboundAttachment,
    InboundMessage,
    OutboundMessage,
    SenderIdentity,
    SendResult,
)

# Stored with each payload by the views: which callback it was, and when it arrived (the
# adapter waits for a late call or a busy media server only so long).
CALLBACK_HEADER = "twilio_callback"
CALL_STATUS_CALLBACK = "call-status"
TRANSCRIPTION_CALLBACK = "transcription"
RECEIVED_AT_HEADER = "received_at"
# A transcription waits this long for its call's status callback, then becomes the call's
# message itself (nothing a caller said is lost when the status callback is not configured).
TRANSCRIPTION_WAIT = timedelta(minutes=30)
# A recording Twilio cannot serve is retried this long, then the call is stored with its link.
RECORDING_WAIT = timedelta(minutes=10)
# A caller who withheld their number is still a customer, known only by the call.
WITHHELD_NETWORK = "phone-withheld"


class CallNotStoredYet(services.RetryLater):
    """A transcription arrived before its call's status callback."""


def callback_form(body: bytes) -> dict[str, str]:
    """A Twilio form post as name -> value (the last value of a repeated name)."""
    parsed = parse_qs(body.decode("utf-8"), keep_blank_values=True)
    return {name: values[-1] for name, values in parsed.items()}


def payload_age(headers: dict[str, str]) -> timedelta:
    """How long ago the payload was accepted; a payload without the note counts as old."""
    try:
        received = datetime.fromisoformat(headers.get(RECEIVED_AT_HEADER, ""))
    except ValueError:
        return timedelta.max
    if timezone.is_naive(received):
        received = received.replace(tzinfo=UTC)
    return timezone.now() - received


def _account(headers: dict[str, str]) -> MessagingAccount:
    raw = headers.get("account_id", "")
    account = account_get(int(raw)) if raw.isdigit() else None
    if account is None:
        raise ValueError("the phone account this payload came to no longer exists")
    return account


class PhoneAdapter:
    channel = Channel.PHONE.value

    def parse(self, body: bytes, headers: dict[str, str]) -> InboundMessage:
        form = callback_form(body)
        account = _account(headers)
        if headers.get(CALLBACK_HEADER) == TRANSCRIPTION_CALLBACK or "TranscriptionSid" in form:
            return self._transcription(form, headers, account)
        report = call_report(form, region=settings.PHONE_DEFAULT_REGION)
        if not report.is_final:
            raise PayloadHandled(f"call {report.sid} is {report.status}: shown when it ends")
        return self._message(report, account, headers)

    def _message(
        self,
        report: CallReport,
        account: MessagingAccount,
        headers: dict[str, str],
        transcription: services.Transcription | None = None,
    ) -> InboundMessage:
        call = report.metadata()
        attachments: tuple[InboundAttachment, ...] = ()
        # A call already stored (its transcription came first) needs no second download.
        if report.recording_url and services.call_message(report.sid) is None:
            try:
                recording, problem = services.recording_fetch(account, report)
            except services.RetryLater as exc:
                if payload_age(headers) < RECORDING_WAIT:
                    raise
                recording, problem = None, str(exc)
            attachments = (recording,) if recording else ()
            if problem:
                call["recording_error"] = problem
        if transcription is not None:
            call["transcription"] = transcription.metadata()
        if report.customer_number:
            sender = SenderIdentity(kind="phone", value=report.customer_number)
        else:
            sender = SenderIdentity(kind="external", value=report.sid, network=WITHHELD_NETWORK)
        inbound = report.direction == CallDirection.INBOUND
        return InboundMessage(
            channel=self.channel,
            sender=sender,
            # For an outbound call, CallerName is our own line's name, not the customer's.
            sender_name=report.caller_name if inbound else "",
            text=services.call_text(call),
            provider_message_id=services.provider_message_id_for(report.sid),
            attachments=attachments,
            received_at=report.ended_at,
            metadata={"account_id": account.pk, "call": call},
            ticket_fields={"team": account.team_id} if account.team_id else {},
        )

    def _transcription(
        self, form: dict[str, str], headers: dict[str, str], account: MessagingAccount
    ) -> InboundMessage:
        status = form.get("TranscriptionStatus", "").strip()
        transcription = services.Transcription(
            sid=form.get("TranscriptionSid", "").strip(),
            status=status,
            text=form.get("TranscriptionText", ""),
            url=form.get("TranscriptionUrl", "").strip(),
            recording_sid=form.get("RecordingSid", "").strip(),
            call_sid=form.get("CallSid", "").strip(),
            recording_url=form.get("RecordingUrl", "").strip(),
        )
        if not transcription.sid or not (transcription.call_sid or transcription.recording_sid):
            raise ValueError("a transcription callback needs TranscriptionSid and CallSid")
        if status not in ("completed", "failed"):
            raise UnsupportedPayload(f"transcription {transcription.sid} with status {status!r}")
        message = services.call_transcription_attach(transcription)
        if message is not None:
            raise PayloadHandled(
                f"transcription {transcription.sid} ({status}) added to message {message.pk}"
            )
        if payload_age(headers) < TRANSCRIPTION_WAIT:
            raise CallNotStoredYet(f"call {transcription.call_sid} is not stored yet")
        # The call's status callback never came: the voicemail becomes the call's message.
        report = call_report(form, region=settings.PHONE_DEFAULT_REGION)
        return self._message(report, account, headers, transcription)

    def send(self, message: OutboundMessage) -> SendResult:
        """Calls logged by hand are recorded, not delivered; nothing else goes out here."""
        logged_call = (message.metadata.get("message") or {}).get("call")
        if isinstance(logged_call, dict) and logged_call:
            return SendResult(state="sent")
        raise ValueError(
            "A phone call cannot carry a typed reply: answer phone tickets by SMS or email."
        )


# The adapters this package registers (apps.py registers every package's ADAPTERS).
ADAPTERS: list[ChannelAdapter] = [PhoneAdapter()]
