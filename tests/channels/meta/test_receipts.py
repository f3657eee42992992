"""Messenger deliveries and reads, Instagram's seen: our replies' states move forward, also
when a report arrives before we know the reply's id."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from frontline.channels.models import DeliveryReceipt, RawPayload
from frontline.tickets.models import Message
from tests.channels.meta.conftest import fixture, inbound, messaging
from tests.fakes.provider_server import Reply

pytestmark = pytest.mark.django_db


def _conversation(meta_post, account, name="messenger_text"):
    meta_post(account, fixture(name))
    return inbound(account.channel)[0].ticket


def _delivery(mids=None, watermark=None):
    payload = fixture("messenger_delivery")
    delivery = messaging(payload)["delivery"]
    if mids is not None:
        delivery["mids"] = mids
        if not mids:
            del delivery["mids"]
    if watermark is not None:
        delivery["watermark"] = watermark
    return payload


def _read(watermark):
    payload = fixture("messenger_read")
    messaging(payload)["read"]["watermark"] = watermark
    return payload


def _ms(moment):
    return int(moment.timestamp() * 1000)


def test_a_delivery_marks_the_reply_delivered(meta_post, page_account, agent_reply):
    ticket = _conversation(meta_post, page_account)
    reply = agent_reply(ticket, "On its way!")
    assert reply.delivery_state == "sent"

    meta_post(page_account, _delivery(mids=[reply.provider_message_id]))

    reply.refresh_from_db()
    assert reply.delivery_state == "delivered"
    stored = RawPayload.objects.latest("id")
    assert stored.status == "processed"
    assert "delivery of 1 message(s) applied" in stored.error


def test_a_read_watermark_marks_the_replies_written_before_it(meta_post, page_account, agent_reply):
    ticket = _conversation(meta_post, page_account)
    earlier = agent_reply(ticket, "Let me check.")
    meta_post(page_account, _delivery(mids=[earlier.provider_message_id]))
    answered = agent_reply(ticket, "It ships tomorrow.")
    watermark = timezone.now()
    later = agent_reply(ticket, "Tracking number follows.")
    Message.objects.filter(pk=later.pk).update(created_at=watermark + timedelta(seconds=5))

    meta_post(page_account, _read(_ms(watermark)))

    states = {m.pk: m.delivery_state for m in Message.objects.filter(direction="outbound")}
    assert states == {earlier.pk: "read", answered.pk: "read", later.pk: "sent"}


def test_a_delivery_without_mids_applies_its_watermark(meta_post, page_account, agent_reply):
    ticket = _conversation(meta_post, page_account)
    reply = agent_reply(ticket, "Refund issued.")

    meta_post(page_account, _delivery(mids=[], watermark=_ms(timezone.now())))

    reply.refresh_from_db()
    assert reply.delivery_state == "delivered"


def test_a_read_does_not_touch_another_customers_replies(meta_post, page_account, agent_reply):
    ticket = _conversation(meta_post, page_account)
    other_payload = fixture("messenger_batch")
    for event in other_payload["entry"][0]["messaging"]:
        event["sender"]["id"] = "5550001112223334"
    meta_post(page_account, other_payload)
    other_ticket = Message.objects.get(
        provider_message_id=messaging(other_payload)["message"]["mid"]
    ).ticket
    mine = agent_reply(ticket, "For you.")
    theirs = agent_reply(other_ticket, "For someone else.")

    meta_post(page_account, _read(_ms(timezone.now())))

    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert (mine.delivery_state, theirs.delivery_state) == ("read", "sent")


def test_a_delivery_before_the_reply_has_its_mid_is_applied_when_it_does(
    meta_post, page_account, agent_reply, fake_provider
):
    ticket = _conversation(meta_post, page_account)
    reported = fixture("messenger_delivery")["entry"][0]["messaging"][0]["delivery"]["mids"][0]
    fake_provider.route(
        "POST",
        r"^/v21\.0/me/messages$",
        Reply.json({"recipient_id": "6574839201928374", "message_id": reported}),
    )

    meta_post(page_account, fixture("messenger_delivery"))  # Meta's report wins the race
    kept = DeliveryReceipt.objects.get()
    assert (kept.provider_message_id, kept.state, kept.applied_at) == (reported, "delivered", None)

    reply = agent_reply(ticket, "Your refund is on its way.")

    assert reply.provider_message_id == reported
    assert reply.delivery_state == "delivered"
    kept.refresh_from_db()
    assert kept.applied_at is not None and kept.message_id == reply.pk


def test_instagram_seen_marks_that_message_and_the_earlier_ones_read(
    meta_post, instagram_account, agent_reply, fake_provider
):
    ticket = _conversation(meta_post, instagram_account, "instagram_text")
    first = agent_reply(ticket, "Sure, which size?")
    seen_mid = messaging(fixture("instagram_seen"))["read"]["mid"]
    fake_provider.route(
        "POST",
        r"^/v21\.0/me/messages$",
        Reply.json({"recipient_id": "7519283746501928", "message_id": seen_mid}),
    )
    second = agent_reply(ticket, "Done, it's an M now.")
    Message.objects.filter(pk=first.pk).update(created_at=timezone.now() - timedelta(minutes=1))

    meta_post(instagram_account, fixture("instagram_seen"))

    first.refresh_from_db()
    second.refresh_from_db()
    assert second.provider_message_id == seen_mid
    assert (first.delivery_state, second.delivery_state) == ("read", "read")
