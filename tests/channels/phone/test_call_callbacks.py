"""Twilio Voice callbacks end to end: signed form posts to /channels/phone/<key>/…, the
stored payload, the task, the ingest, the ticket, the call-back task."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from django.utils import timezone

from frontline.channels.models import PayloadStatus, RawPayload
from frontline.channels.phone import adapter as phone_adapter
from frontline.channels.phone.handlers import on_call_received
from frontline.channels.services import raw_payload_process
from frontline.core.bus import Event
from frontline.core.models import DomainEvent
from frontline.customers.models import Identity
from frontline.realtime.push import pushes_for
from frontline.tickets.models import Message, Ticket, TicketTask
from tests.channels.phone.conftest import (
    ACCOUNT_SID,
    AUDIO,
    AUTH_TOKEN,
    CALLER,
    OUR_NUMBER,
    fixture,
)
from tests.factories import TeamFactory

pytestmark = pytest.mark.django_db

ANSWERED_SID = "CA5a9d1e4f2b3c6d7e8f9a0b1c2d3e4f5a"
MISSED_SID = "CA0b7e2c9d4f1a3b5c6d7e8f9a0b1c2d3e"
VOICEMAIL_SID = "CA7c3e9a1b5d2f4a6b8c0d1e2f3a4b5c6d"
OUTBOUND_SID = "CAe1644a7eed5088b159577c5802d8be38"
EMPTY_TWIML = b'<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def _call_message(sid: str) -> Message:
    return Message.objects.select_related("ticket", "author_customer").get(
        channel="phone", provider_message_id=f"call:{sid}"
    )


def test_a_completed_inbound_call_lands_on_a_phone_ticket(twilio_voice, voice_account):
    team = TeamFactory()
    voice_account.team_id = team.pk
    voice_account.save()

    response = twilio_voice.call("status_inbound_completed")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    assert response.content == EMPTY_TWIML
    payload = RawPayload.objects.get(channel="phone")
    assert payload.provider_message_id == f"call:{ANSWERED_SID}:completed"
    assert payload.status == PayloadStatus.PROCESSED
    message = _call_message(ANSWERED_SID)
    assert message.text == "Inbound call, 3 min 12 s"
    assert message.direction == "inbound"
    assert message.author_type == "customer"
    assert message.metadata["account_id"] == voice_account.pk
    call = message.metadata["call"]
    assert call["sid"] == ANSWERED_SID
    assert call["direction"] == "inbound"
    assert call["status"] == "completed"
    assert call["from"] == CALLER and call["to"] == OUR_NUMBER
    assert call["duration"] == 192
    assert call["outcome"] == "answered"
    assert call["recording_url"] == "" and call["recording_duration"] is None
    ticket = message.ticket
    assert ticket.channel == "phone"
    assert ticket.team_id == team.pk
    assert ticket.subject == "Inbound call, 3 min 12 s"
    assert ticket.requester.name == "ANA SILVA"
    assert Identity.objects.get(customer=ticket.requester, kind="phone").value == CALLER
    # The call happened when Twilio says it ended, not when it was processed.
    assert message.created_at.isoformat() == "2026-03-10T09:17:16+00:00"
    assert not TicketTask.objects.exists()


def test_the_same_caller_calling_again_continues_the_open_ticket(twilio_voice):
    twilio_voice.call("status_inbound_completed")
    twilio_voice.call("status_inbound_no_answer")
    assert Ticket.objects.count() == 1
    ticket = Ticket.objects.get()
    assert list(ticket.messages.order_by("id").values_list("text", flat=True)) == [
        "Inbound call, 3 min 12 s",
        f"Missed call from {CALLER}",
    ]


def test_a_missed_call_opens_a_ticket_and_one_call_back_task(twilio_voice, callbacks_subscribed):
    twilio_voice.call("status_inbound_no_answer")

    message = _call_message(MISSED_SID)
    assert message.text == f"Missed call from {CALLER}"
    assert message.metadata["call"]["outcome"] == "missed"
    task = TicketTask.objects.get()
    assert task.ticket_id == message.ticket_id
    assert task.kind == "callback"
    assert task.phone == CALLER
    assert task.title == "Call back ANA SILVA after a missed call"
    assert task.created_by == "system"
    assert task.done_at is None
    # Due four hours after the call (Twilio's Timestamp, not when it was processed).
    assert message.created_at.isoformat() == "2026-03-10T11:02:41+00:00"
    assert task.due_at == message.created_at + timedelta(hours=4)
    message.refresh_from_db()
    assert message.metadata["call"]["callback_task_id"] == task.pk
    assert message.ticket.events.filter(kind="task_added").count() == 1


def test_the_same_callback_five_times_gives_one_message_and_one_task(
    twilio_voice, callbacks_subscribed
):
    for _ in range(5):
        response = twilio_voice.call("status_inbound_no_answer")
        assert response.status_code == 200
    assert RawPayload.objects.filter(channel="phone").count() == 1
    assert Message.objects.filter(channel="phone").count() == 1
    assert TicketTask.objects.count() == 1
    # A replayed message.received event (a task retry) adds nothing either.
    message = _call_message(MISSED_SID)
    event = Event(
        name="message.received",
        ticket_id=message.ticket_id,
        data={"message_id": message.pk, "channel": "phone", "visibility": "public"},
    )
    on_call_received(event)
    on_call_received(event)
    assert TicketTask.objects.count() == 1


def test_a_completed_callback_delivered_twice_is_one_message(twilio_voice):
    """Twilio retries a callback it got no answer to: same CallSid, same status."""
    twilio_voice.call("status_inbound_completed")
    twilio_voice.call("status_inbound_completed", SequenceNumber="4")
    assert Message.objects.filter(channel="phone").count() == 1


def test_a_second_missed_call_reuses_the_open_call_back(twilio_voice, callbacks_subscribed):
    twilio_voice.call("status_inbound_no_answer")
    twilio_voice.call(
        "status_inbound_no_answer",
        CallSid="CA1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a",
        Timestamp="Tue, 10 Mar 2026 11:20:00 +0000",
    )
    assert Message.objects.filter(channel="phone").count() == 2
    task = TicketTask.objects.get()
    second = _call_message("CA1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a")
    assert second.metadata["call"]["callback_task_id"] == task.pk


def test_a_call_that_reaches_the_customer_ticks_the_call_back_off(
    twilio_voice, callbacks_subscribed
):
    twilio_voice.call("status_inbound_no_answer")  # 11:02
    task = TicketTask.objects.get()
    twilio_voice.call(
        "status_outbound_api_completed",
        Timestamp=(timezone.now() + timedelta(minutes=1)).strftime("%a, %d %b %Y %H:%M:%S +0000"),
    )
    task.refresh_from_db()
    assert task.done_at is not None
    outbound = _call_message(OUTBOUND_SID)
    assert outbound.ticket_id == task.ticket_id
    assert outbound.metadata["call"]["callbacks_closed"] == [task.pk]
    assert task.ticket.events.filter(kind="task_done").count() == 1


def test_non_final_statuses_show_nothing(twilio_voice, callbacks_subscribed):
    for status in ("queued", "ringing", "in-progress"):
        response = twilio_voice.call("status_inbound_ringing", CallStatus=status)
        assert response.status_code == 200
    assert not Message.objects.exists()
    assert not Ticket.objects.exists()
    assert not TicketTask.objects.exists()
    payloads = RawPayload.objects.filter(channel="phone").order_by("id")
    assert [p.provider_message_id for p in payloads] == [
        f"call:{ANSWERED_SID}:queued",
        f"call:{ANSWERED_SID}:ringing",
        f"call:{ANSWERED_SID}:in-progress",
    ]
    assert all(p.status == PayloadStatus.PROCESSED for p in payloads)
    assert all(p.error.startswith("handled: call ") for p in payloads)


def test_an_outbound_call_belongs_to_the_person_called(twilio_voice, callbacks_subscribed):
    twilio_voice.call("status_outbound_api_completed")
    message = _call_message(OUTBOUND_SID)
    assert message.text == f"Outbound call to {CALLER}, 5 min 5 s"
    call = message.metadata["call"]
    assert call["direction"] == "outbound"
    assert call["provider_direction"] == "outbound-api"
    assert call["phone"] == CALLER
    assert call["outcome"] == "answered"
    assert Identity.objects.get(customer=message.ticket.requester, kind="phone").value == CALLER
    assert message.ticket.requester.name == ""  # CallerName would be our own line's
    assert not TicketTask.objects.exists()


def test_an_unanswered_outbound_call_opens_no_call_back(twilio_voice, callbacks_subscribed):
    twilio_voice.call("status_outbound_api_completed", CallStatus="busy", CallDuration="0")
    message = _call_message(OUTBOUND_SID)
    assert message.text == f"Outbound call to {CALLER} not answered (line busy)"
    assert message.metadata["call"]["outcome"] == "missed"
    assert not TicketTask.objects.exists()


def test_a_withheld_number_still_makes_a_ticket_without_a_call_back(
    twilio_voice, callbacks_subscribed
):
    twilio_voice.call("status_inbound_no_answer", From="anonymous", Caller="anonymous")
    message = _call_message(MISSED_SID)
    assert message.text == "Missed call from a withheld number"
    identity = Identity.objects.get(customer=message.ticket.requester)
    assert (identity.kind, identity.network, identity.value) == (
        "external",
        "phone-withheld",
        MISSED_SID,
    )
    assert not TicketTask.objects.exists()


def test_a_voicemail_keeps_its_recording_and_gets_its_transcription(
    twilio_voice, fake_provider, recording, callbacks_subscribed
):
    twilio_voice.call("status_inbound_voicemail")

    message = _call_message(VOICEMAIL_SID)
    assert message.text == f"Voicemail from {CALLER} (0:42)"
    call = message.metadata["call"]
    assert call["outcome"] == "voicemail"
    assert call["recording_sid"] == "RE9f2c4a6e8b0d1f3a5c7e9b1d3f5a7c9e"
    assert call["recording_duration"] == 42
    attachment = message.attachments.get()
    assert attachment.filename == "voicemail-RE9f2c4a6e8b0d1f3a5c7e9b1d3f5a7c9e.mp3"
    assert attachment.content_type == "audio/mpeg"
    assert attachment.file.read() == AUDIO
    # Fetched from the account's API base with the account's credentials.
    (download,) = fake_provider.received("GET", r"/Recordings/RE\w+\.mp3$")
    expected = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
    assert download.headers["Authorization"] == f"Basic {expected}"
    task = TicketTask.objects.get()
    assert task.title == "Call back ANA SILVA after their voicemail"

    response = twilio_voice.transcription()

    assert response.status_code == 200
    assert response.content == EMPTY_TWIML
    message.refresh_from_db()
    assert message.text == (
        f"Voicemail from {CALLER} (0:42)\n\nTranscription: “Hi, this is Ana Silva. My order "
        "4417 arrived without the charger. Could you call me back this afternoon? Thanks.”"
    )
    assert "charger" in message.html
    transcription = message.metadata["call"]["transcription"]
    assert transcription["sid"] == "TR4d6f8a0c2e4b6d8f0a2c4e6b8d0f2a4c"
    assert transcription["status"] == "completed"
    payload = RawPayload.objects.get(provider_message_id__startswith="transcription:")
    assert payload.status == PayloadStatus.PROCESSED
    assert payload.error.startswith("handled: transcription TR4d6f8a")
    change = DomainEvent.objects.get(name="message.updated")
    assert change.ticket_id == message.ticket_id
    assert change.payload["message_id"] == message.pk
    assert change.payload["change"] == "transcription"
    # An open ticket page hears of it (and offers a reload).
    assert (
        f"ticket.{message.ticket_id}",
        {"type": "ticket", "ticket": message.ticket_id, "event": "message.updated",
         "actor": "channel:phone"},
    ) in pushes_for("message.updated", change.ticket_id, change.payload, change.actor)  # fmt: skip
    assert TicketTask.objects.count() == 1


def test_a_voicemail_recorded_by_the_numbers_twiml_is_recognised_by_its_transcription(
    twilio_voice, callbacks_subscribed
):
    """With <Record transcribe="true"> in the number's TwiML, the status callback reports an
    answered call (the recorder answered) and only the transcription carries the recording."""
    twilio_voice.call("status_inbound_completed", CallSid=VOICEMAIL_SID, CallDuration="58")
    message = _call_message(VOICEMAIL_SID)
    assert message.metadata["call"]["outcome"] == "answered"
    assert not TicketTask.objects.exists()

    twilio_voice.transcription()

    message.refresh_from_db()
    call = message.metadata["call"]
    assert call["outcome"] == "voicemail"
    assert call["recording_sid"] == "RE9f2c4a6e8b0d1f3a5c7e9b1d3f5a7c9e"
    assert message.text.startswith(f"Voicemail from {CALLER}\n\nTranscription: “Hi, this is")
    task = TicketTask.objects.get()
    assert task.title == "Call back ANA SILVA after their voicemail"
    assert call["callback_task_id"] == task.pk
    event = Event(
        name="message.received",
        ticket_id=message.ticket_id,
        data={"message_id": message.pk, "channel": "phone", "visibility": "public"},
    )
    on_call_received(event)
    assert TicketTask.objects.count() == 1


def test_a_failed_transcription_is_noted(twilio_voice, recording):
    twilio_voice.call("status_inbound_voicemail")
    twilio_voice.transcription(TranscriptionStatus="failed", TranscriptionText="")
    message = _call_message(VOICEMAIL_SID)
    assert message.text == (
        f"Voicemail from {CALLER} (0:42)\n\nThe transcription failed: listen to the recording."
    )
    assert message.metadata["call"]["transcription"]["status"] == "failed"


def test_a_transcription_before_its_call_is_retried_then_attached(twilio_voice, recording):
    response = twilio_voice.transcription()

    assert response.status_code == 200
    payload = RawPayload.objects.get(provider_message_id__startswith="transcription:")
    assert payload.status == PayloadStatus.PENDING  # the task retried and left it for later
    assert payload.attempts >= 1
    assert not Message.objects.exists()

    twilio_voice.call("status_inbound_voicemail")
    raw_payload_process(payload.pk)  # the sweeper's retry

    payload.refresh_from_db()
    assert payload.status == PayloadStatus.PROCESSED
    message = _call_message(VOICEMAIL_SID)
    assert "without the charger" in message.text
    assert Message.objects.filter(channel="phone").count() == 1


def test_a_transcription_whose_call_never_comes_becomes_the_voicemail(
    twilio_voice, fake_provider, recording, callbacks_subscribed, monkeypatch
):
    monkeypatch.setattr(phone_adapter, "TRANSCRIPTION_WAIT", timedelta(0))
    twilio_voice.transcription()

    message = _call_message(VOICEMAIL_SID)
    assert message.text.startswith(f"Voicemail from {CALLER}\n\nTranscription: “Hi, this is")
    assert message.metadata["call"]["outcome"] == "voicemail"
    assert message.attachments.get().file.read() == AUDIO
    assert TicketTask.objects.count() == 1
    # The status callback arriving late is the same call: nothing new, nothing downloaded.
    twilio_voice.call("status_inbound_voicemail")
    assert Message.objects.filter(channel="phone").count() == 1
    assert len(fake_provider.received("GET", r"/Recordings/")) == 1
    late = RawPayload.objects.get(provider_message_id=f"call:{VOICEMAIL_SID}:completed")
    assert late.status == PayloadStatus.DUPLICATE


def test_a_recording_twilio_cannot_serve_now_is_retried(twilio_voice, fake_provider, recording):
    fake_provider.fail_next(count=20, status=503)
    twilio_voice.call("status_inbound_voicemail")
    payload = RawPayload.objects.get(channel="phone")
    assert payload.status == PayloadStatus.PENDING
    assert not Message.objects.exists()

    fake_provider.reset()
    raw_payload_process(payload.pk)

    assert _call_message(VOICEMAIL_SID).attachments.get().file.read() == AUDIO


def test_a_recording_still_unavailable_later_leaves_the_link(
    twilio_voice, fake_provider, recording, monkeypatch
):
    monkeypatch.setattr(phone_adapter, "RECORDING_WAIT", timedelta(0))
    fake_provider.fail_next(count=1, status=503)
    twilio_voice.call("status_inbound_voicemail")
    message = _call_message(VOICEMAIL_SID)
    assert not message.attachments.exists()
    call = message.metadata["call"]
    assert call["recording_url"].endswith("/Recordings/RE9f2c4a6e8b0d1f3a5c7e9b1d3f5a7c9e")
    assert "503" in call["recording_error"]


def test_a_recording_twilio_refuses_is_not_retried(twilio_voice, fake_provider):
    twilio_voice.call("status_inbound_voicemail")  # no route for the MP3: 404
    message = _call_message(VOICEMAIL_SID)
    assert not message.attachments.exists()
    assert message.metadata["call"]["recording_error"] == "Twilio answered 404 for the recording"


@pytest.mark.parametrize(
    ("signature", "token"),
    [("", AUTH_TOKEN), (None, "some-other-token"), ("bm90IGEgc2lnbmF0dXJl", AUTH_TOKEN)],
    ids=["missing", "wrong-token", "forged"],
)
def test_unsigned_or_forged_callbacks_are_refused_and_nothing_is_stored(
    twilio_voice, signature, token
):
    for kind, name in (("calls", "status_inbound_completed"), ("transcription", None)):
        params = fixture(name or "transcription_completed")
        response = twilio_voice.post(kind, params, signature=signature, token=token)
        assert response.status_code == 403
    assert not RawPayload.objects.exists()
    assert not Message.objects.exists()


def test_a_multipart_post_is_refused_like_any_unsigned_one(twilio_voice):
    response = twilio_voice.client.post(
        twilio_voice.url("calls"),
        data=fixture("status_inbound_completed"),
        HTTP_X_TWILIO_SIGNATURE="bm90IGEgc2lnbmF0dXJl",
    )
    assert response.status_code == 403
    assert not RawPayload.objects.exists()


def test_a_callback_signed_for_another_twilio_account_is_refused(twilio_voice):
    response = twilio_voice.call(
        "status_inbound_completed", AccountSid="AC00000000000000000000000000000000"
    )
    assert response.status_code == 403
    assert not RawPayload.objects.exists()


def test_a_signature_for_other_parameters_is_refused(twilio_voice):
    """A valid signature over different values (a replay with an edited duration)."""
    from twilio.request_validator import RequestValidator  # type: ignore[import-untyped]

    original = fixture("status_inbound_completed")
    signature = RequestValidator(AUTH_TOKEN).compute_signature(
        f"http://testserver{twilio_voice.url('calls')}", original
    )
    edited = {**original, "CallDuration": "1"}
    assert twilio_voice.post("calls", edited, signature=signature).status_code == 403
    assert not RawPayload.objects.exists()


def test_an_unknown_account_key_is_not_found(twilio_voice, client):
    response = client.post(
        "/channels/phone/no-such-line/calls",
        data="CallSid=CA1",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 404
    assert not RawPayload.objects.exists()


def test_an_inactive_account_is_not_found(twilio_voice, voice_account):
    voice_account.is_active = False
    voice_account.save()
    assert twilio_voice.call("status_inbound_completed").status_code == 404
    assert not RawPayload.objects.exists()


def test_a_sip_trunking_leg_is_kept_as_unsupported(twilio_voice):
    twilio_voice.call("status_inbound_completed", Direction="trunking-originating")
    payload = RawPayload.objects.get(channel="phone")
    assert payload.status == PayloadStatus.UNSUPPORTED
    assert "trunking-originating" in payload.error
    assert not Message.objects.exists()


def test_a_signed_callback_without_a_call_sid_is_kept_as_failed(twilio_voice):
    twilio_voice.call("status_inbound_completed", CallSid=None)
    payload = RawPayload.objects.get(channel="phone")
    assert payload.status == PayloadStatus.FAILED
    assert "CallSid" in payload.error
