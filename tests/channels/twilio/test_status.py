"""Twilio status callbacks: delivery states of our replies, in any order, even early."""

from __future__ import annotations

import re

import pytest

from frontline.channels.models import DeliveryReceipt, PayloadStatus, RawPayload
from frontline.tickets.models import Message, TicketEvent
from tests.channels.twilio.conftest import CUSTOMER_NUMBER, form, message_form, new_sid
from tests.fakes.provider_server import Reply

pytestmark = pytest.mark.django_db


@pytest.fixture
def conversation(sms_account, twilio_post):
    """A customer's SMS ticket."""
    twilio_post(sms_account, message_form("inbound_sms"))
    return Message.objects.get().ticket


@pytest.fixture
def sent_reply(conversation, agent_reply, fake_provider):
    reply = agent_reply(conversation, "We are on it.")
    assert reply.delivery_state == "sent"
    assert reply.provider_message_id.startswith("SM")
    return reply


def _status(name: str, sid: str, **overrides: str) -> dict[str, str]:
    return form(name, MessageSid=sid, SmsSid=sid, **overrides)


def test_status_callbacks_out_of_order_end_on_the_furthest_state(
    sms_account, sent_reply, twilio_post
):
    sid = sent_reply.provider_message_id
    for name in ("status_delivered", "status_sent"):  # `sent` arrives late
        response = twilio_post(sms_account, _status(name, sid), endpoint="status")
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/xml")

    sent_reply.refresh_from_db()
    assert sent_reply.delivery_state == "delivered"
    assert RawPayload.objects.filter(provider_message_id__startswith=sid).count() == 2
    assert set(
        DeliveryReceipt.objects.filter(provider_message_id=sid).values_list("state", flat=True)
    ) == {
        "delivered",
        "sent",
    }
    assert all(
        p.status == PayloadStatus.PROCESSED and p.error.startswith("handled: status")
        for p in RawPayload.objects.filter(provider_message_id__startswith=sid)
    )


def test_an_undelivered_message_fails_with_the_error_code(sms_account, sent_reply, twilio_post):
    sid = sent_reply.provider_message_id
    twilio_post(sms_account, _status("status_sent", sid), endpoint="status")
    twilio_post(sms_account, _status("status_undelivered", sid), endpoint="status")

    sent_reply.refresh_from_db()
    assert sent_reply.delivery_state == "failed"
    assert sent_reply.delivery_error == (
        "Undelivered: Twilio error 30003, the handset is unreachable (switched off or out of "
        "coverage)"
    )
    assert TicketEvent.objects.filter(ticket=sent_reply.ticket, kind="delivery_failed").exists()


def test_each_status_of_a_message_is_stored_once(sms_account, sent_reply, twilio_post):
    sid = sent_reply.provider_message_id
    for name in ("status_sent", "status_sent", "status_delivered", "status_delivered"):
        twilio_post(sms_account, _status(name, sid), endpoint="status")

    ids = sorted(
        RawPayload.objects.filter(channel="sms").values_list("provider_message_id", flat=True)
    )
    assert [i for i in ids if i.startswith(sid)] == [f"{sid}:delivered", f"{sid}:sent"]
    assert DeliveryReceipt.objects.filter(provider_message_id=sid).count() == 2


def test_a_callback_before_the_send_has_its_sid_is_kept_then_applied(
    sms_account, conversation, twilio_post, agent_reply, fake_provider
):
    sid = new_sid()

    def answer_with_known_sid(request, match):
        return Reply.json({"sid": sid, "status": "queued", "to": CUSTOMER_NUMBER}, status=201)

    fake_provider.route("POST", r"/Messages\.json$", answer_with_known_sid)
    # Twilio's callback races ahead of the API's answer to our send:
    twilio_post(sms_account, _status("status_delivered", sid), endpoint="status")
    kept = DeliveryReceipt.objects.get(provider_message_id=sid)
    assert kept.applied_at is None and kept.state == "delivered"

    reply = agent_reply(conversation, "Your parcel left the depot.")

    assert reply.provider_message_id == sid
    assert reply.delivery_state == "delivered"
    kept.refresh_from_db()
    assert kept.applied_at is not None and kept.message_id == reply.pk


def test_a_whatsapp_read_receipt_marks_the_reply_read(whatsapp_account, twilio_post, agent_reply):
    twilio_post(whatsapp_account, message_form("inbound_whatsapp"))
    reply = agent_reply(Message.objects.get().ticket, "Good news: it ships today.")
    sid = reply.provider_message_id

    twilio_post(whatsapp_account, _status("status_whatsapp_read", sid), endpoint="status")

    reply.refresh_from_db()
    assert reply.delivery_state == "read"


def test_a_status_posted_to_the_messages_url_is_still_a_status(
    sms_account, sent_reply, twilio_post
):
    sid = sent_reply.provider_message_id
    twilio_post(sms_account, _status("status_delivered", sid))  # the number's own URL

    sent_reply.refresh_from_db()
    assert sent_reply.delivery_state == "delivered"
    assert Message.objects.filter(direction="inbound").count() == 1
    assert RawPayload.objects.filter(provider_message_id=f"{sid}:delivered").exists()


def test_status_callbacks_need_a_valid_signature(sms_account, sent_reply, twilio_post):
    sid = sent_reply.provider_message_id
    before = RawPayload.objects.count()

    response = twilio_post(
        sms_account, _status("status_delivered", sid), endpoint="status", token="wrong"
    )

    assert response.status_code == 403
    assert RawPayload.objects.count() == before
    sent_reply.refresh_from_db()
    assert sent_reply.delivery_state == "sent"


def test_an_unknown_status_is_kept_as_unsupported(sms_account, sent_reply, twilio_post):
    sid = sent_reply.provider_message_id
    twilio_post(
        sms_account, _status("status_sent", sid, MessageStatus="teleported"), endpoint="status"
    )

    payload = RawPayload.objects.get(provider_message_id=f"{sid}:teleported")
    assert payload.status == PayloadStatus.UNSUPPORTED
    assert re.search(r"status 'teleported'", payload.error)
