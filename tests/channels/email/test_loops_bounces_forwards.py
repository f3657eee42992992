"""Auto-replies, mail loops, floods, bounces (DSNs) and agent forwards on the email channel."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from frontline.accounts.models import Role
from frontline.channels.email import loops
from frontline.channels.models import Mailbox, RawPayload
from frontline.channels.services import raw_payload_process, raw_payload_store
from frontline.tickets.actors import Actor
from frontline.tickets.models import Message, Ticket
from frontline.tickets.services import message_add, message_delivery_update
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def mailbox(settings):
    settings.EMAIL_FROM_ADDRESS = "noreply@example.com"
    return Mailbox.objects.create(
        name="Support", address="support@example.com", aliases=["help@example.com"]
    )


def mail(
    *,
    sender: str = "Ana Lima <ana@example.org>",
    subject: str = "Broken zipper",
    body: str = "The zipper broke.",
    message_id: str = "<m1@example.org>",
    headers: dict[str, str] | None = None,
) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "support@example.com"
    msg["Subject"] = subject
    msg["Message-ID"] = message_id
    for key, value in (headers or {}).items():
        msg[key] = value
    msg.set_content(body)
    return msg.as_bytes()


def deliver(raw: bytes) -> RawPayload:
    from frontline.channels.email.adapter import provider_id_for
    from frontline.channels.email.parser import message_id_of

    payload, _ = raw_payload_store(
        channel="email",
        body=raw,
        provider_message_id=provider_id_for(raw, message_id_of(raw)),
        headers={"recipients": "support@example.com", "via": "test"},
    )
    raw_payload_process(payload.pk)
    payload.refresh_from_db()
    return payload


# --- pure helpers ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "auto"),
    [
        ({"Auto-Submitted": "auto-replied"}, True),
        ({"Auto-Submitted": "auto-generated"}, True),
        ({"Auto-Submitted": "no"}, False),
        ({"X-Autoreply": "yes"}, True),
        ({"X-Autorespond": "1"}, True),
        ({"Return-Path": "<>"}, True),
        ({"Return-Path": "< >"}, True),
        ({"Return-Path": "<ana@example.org>"}, False),
        ({}, False),
    ],
)
def test_is_auto_generated(headers, auto):
    assert loops.is_auto_generated(headers) is auto


def test_is_bulk_and_flood_and_own_address():
    assert loops.is_bulk({"Precedence": "bulk"}) and loops.is_bulk({"List-Id": "<x.y>"})
    assert loops.is_bulk({"precedence": "JUNK"}) and not loops.is_bulk({"Precedence": "first"})
    assert not loops.is_flood(19, 20) and loops.is_flood(20, 20)
    assert loops.is_own_address("Support+T4@Example.com", ["support@example.com"])
    assert not loops.is_own_address("ana@example.org", ["support@example.com"])


def test_forward_subject():
    assert loops.forward_subject("Fwd: FW: WG: TR: Broken tent") == "Broken tent"
    assert loops.forward_subject("fwd:Re: Broken") == "Re: Broken"
    assert loops.forward_subject("Forwarding plans") == "Forwarding plans"


@pytest.mark.parametrize(
    "text",
    [
        "Please help her.\n\n---------- Forwarded message ---------\n"
        "From: Ana Lima <ana@example.org>\nDate: Mon, 23 Nov 2026\nSubject: Broken tent\n"
        "To: <sam@shop.example>\n\nMy tent broke.\n",
        "Please help her.\n\nBegin forwarded message:\n\n"
        "From: Ana Lima <ana@example.org>\nSubject: Broken tent\nDate: 23 November 2026\n\n"
        "My tent broke.\n",
        "Please help her.\n\n-----Original Message-----\n"
        "From: Ana Lima [mailto:ana@example.org]\nSent: Monday\nSubject: Broken tent\n\n"
        "My tent broke.\n",
        "Please help her.\n\n---------- Weitergeleitete Nachricht ---------\n"
        "Von: Ana Lima <ana@example.org>\nBetreff: Broken tent\n\nMy tent broke.\n",
        "Please help her.\n\n-------- Message transféré --------\n"
        "De : Ana Lima <ana@example.org>\nObjet : Broken tent\n\nMy tent broke.\n",
        "Please help her.\n\n---------- Forwarded message ---------\n"
        "*From:* Ana Lima <ana@example.org>\n*Subject:* Broken tent\n\nMy tent broke.\n",
    ],
)
def test_forwarded_in_text(text):
    found = loops.forwarded_in_text(text)
    assert found is not None
    assert found.address == "ana@example.org" and found.name == "Ana Lima"
    assert found.subject == "Broken tent"
    assert found.note == "Please help her."
    assert found.text == "My tent broke."


def test_original_message_marker_needs_a_from():
    assert loops.forwarded_in_text("Hi\n\n-----Original Message-----\nno headers\n") is None
    assert loops.forwarded_in_text("Just a message, nothing forwarded.") is None


# --- loops, auto-replies, floods -------------------------------------------------------------


@pytest.mark.parametrize(
    "sender",
    [
        "support@example.com",
        "Help <HELP@example.com>",
        "noreply@example.com",
        "support+x@example.com",
    ],
)
def test_mail_from_our_own_address_is_not_a_ticket(sender):
    payload = deliver(mail(sender=sender))
    assert payload.status == "failed"
    assert "mail loop: from our own address" in payload.error
    assert bytes(payload.body)
    assert Ticket.objects.count() == 0


def test_auto_reply_is_ingested_tagged_and_flagged():
    payload = deliver(
        mail(subject="Out of office", headers={"Auto-Submitted": "auto-replied"}, body="Away.")
    )
    assert payload.status == "processed"
    ticket = Ticket.objects.get()
    assert list(ticket.tags.values_list("name", flat=True)) == ["auto-reply"]
    assert ticket.messages.get().metadata["email"]["auto_submitted"] is True


def test_null_return_path_counts_as_auto_generated():
    deliver(mail(headers={"Return-Path": "<>"}))
    message = Message.objects.get()
    assert message.metadata["email"]["auto_submitted"] is True
    assert list(message.ticket.tags.values_list("name", flat=True)) == ["auto-reply"]


def test_bulk_is_tagged():
    deliver(mail(headers={"Precedence": "bulk", "List-Id": "<news.shop.example>"}))
    ticket = Ticket.objects.get()
    assert list(ticket.tags.values_list("name", flat=True)) == ["bulk"]
    assert ticket.messages.get().metadata["email"]["bulk"] is True


def test_flood_is_flagged(settings):
    settings.EMAIL_FLOOD_LIMIT = 3
    for n in range(4):
        deliver(mail(message_id=f"<f{n}@example.org>", subject=f"Mail {n}"))
    messages = list(Message.objects.order_by("id"))
    assert [bool(m.metadata["email"].get("flood")) for m in messages] == [
        False,
        False,
        False,
        True,
    ]
    assert list(messages[3].ticket.tags.values_list("name", flat=True)) == ["flood"]


# --- bounces ---------------------------------------------------------------------------------


def sent_reply() -> Message:
    deliver(mail())
    ticket = Ticket.objects.get()
    reply = message_add(ticket=ticket, actor=Actor.for_user(UserFactory()), text="On its way.")
    own_id = f"<frontline.t{ticket.pk}.m{reply.pk}.abc123@example.com>"
    return message_delivery_update(message=reply, state="sent", provider_message_id=own_id)


def dsn(original_id: str, *, embed: str = "message/rfc822", status: str = "5.1.1") -> bytes:
    original = (
        f"From: Support <support@example.com>\r\nTo: ana@example.org\r\n"
        f"Subject: Re: Broken zipper [#1]\r\nMessage-ID: {original_id}\r\n"
    )
    if embed == "message/rfc822":
        original += "\r\nOn its way.\r\n"
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.org>\r\n"
        "To: support@example.com\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "Message-ID: <dsn1@mx.example.org>\r\n"
        "Return-Path: <>\r\n"
        "Auto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        "--B\r\nContent-Type: text/plain\r\n\r\nI could not deliver your message.\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.org\r\n\r\n"
        "Final-Recipient: rfc822; ana@example.org\r\n"
        "Action: failed\r\n"
        f"Status: {status}\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 <ana@example.org>: Recipient address rejected\r\n"
        f"\r\n--B\r\nContent-Type: {embed}\r\n\r\n{original}"
        "--B--\r\n"
    ).encode()


@pytest.mark.parametrize("embed", ["message/rfc822", "text/rfc822-headers"])
def test_bounce_marks_our_message_failed_and_makes_no_ticket(embed):
    reply = sent_reply()
    payload = deliver(dsn(reply.provider_message_id, embed=embed))
    reply.refresh_from_db()
    assert reply.delivery_state == "failed"
    assert "5.1.1" in reply.delivery_error
    assert "Recipient address rejected" in reply.delivery_error
    assert "ana@example.org" in reply.delivery_error
    assert Ticket.objects.count() == 1
    assert Message.objects.count() == 2
    assert payload.status == "processed"
    assert f"bounce for message {reply.pk} recorded" in payload.error
    assert reply.ticket.events.filter(kind="delivery_failed").count() == 1


def test_bounce_found_by_our_message_id_pattern():
    reply = sent_reply()
    Message.objects.filter(pk=reply.pk).update(provider_message_id="")
    deliver(dsn(f"<frontline.t{reply.ticket_id}.m{reply.pk}.zz@example.com>"))
    reply.refresh_from_db()
    assert reply.delivery_state == "failed"


def test_delayed_notice_does_not_fail_the_message():
    reply = sent_reply()
    payload = deliver(dsn(reply.provider_message_id, status="4.4.1"))
    reply.refresh_from_db()
    assert reply.delivery_state == "sent"
    assert "ignored" in payload.error and Ticket.objects.count() == 1


def test_bounce_of_a_message_that_is_not_ours_is_an_ordinary_auto_reply():
    payload = deliver(dsn("<someone-else@other.example>"))
    assert payload.status == "processed"
    ticket = Ticket.objects.get()
    assert "auto-reply" in ticket.tags.values_list("name", flat=True)
    assert ticket.messages.get().metadata["email"]["bounce"] is True


# --- agent forwards --------------------------------------------------------------------------


def test_agent_forward_makes_the_original_sender_the_requester():
    agent = UserFactory(role=Role.AGENT, email="Sam@Shop.example")
    payload = deliver(
        mail(
            sender="Sam Reyes <sam@shop.example>",
            subject="Fwd: Broken tent",
            body="Could you take this one? She is a good customer.\n\n"
            "---------- Forwarded message ---------\n"
            "From: Ana Lima <ana@example.org>\n"
            "Date: Mon, 23 Nov 2026 at 10:00\n"
            "Subject: Broken tent\n"
            "To: Sam Reyes <sam@shop.example>\n\n"
            "My tent pole snapped on the first night.\n",
        )
    )
    assert payload.status == "processed"
    ticket = Ticket.objects.get()
    assert ticket.subject == "Broken tent"
    assert ticket.requester.identities.get().value == "ana@example.org"
    assert ticket.requester.name == "Ana Lima"
    message = ticket.messages.get()
    assert message.text == "My tent pole snapped on the first night."
    assert message.metadata["forwarded_by"] == {"user_id": agent.pk, "address": "sam@shop.example"}
    assert message.metadata["forward_note"] == "Could you take this one? She is a good customer."
    assert "Forwarded message" in message.metadata["full_text"]


def test_agent_forward_as_attached_message():
    UserFactory(role=Role.SUPERVISOR, email="lee@shop.example")
    outer = EmailMessage()
    outer["From"] = "Lee <lee@shop.example>"
    outer["To"] = "support@example.com"
    outer["Subject"] = "FW: Refund"
    outer["Message-ID"] = "<outer@shop.example>"
    outer.set_content("See below, please refund.")
    inner = EmailMessage()
    inner["From"] = "Bo Chen <bo@example.net>"
    inner["To"] = "lee@shop.example"
    inner["Subject"] = "Refund"
    inner.set_content("I want my money back.")
    outer.add_attachment(inner)
    deliver(outer.as_bytes())
    ticket = Ticket.objects.get()
    assert ticket.subject == "Refund"
    assert ticket.requester.identities.get().value == "bo@example.net"
    message = ticket.messages.get()
    assert message.text == "I want my money back."
    assert message.metadata["forward_note"] == "See below, please refund."


def test_forward_from_a_customer_or_inactive_agent_stays_as_is():
    UserFactory(role=Role.AGENT, email="old@shop.example", is_active=False)
    body = (
        "FYI\n\n---------- Forwarded message ---------\n"
        "From: Ana Lima <ana@example.org>\nSubject: x\n\nHello\n"
    )
    deliver(mail(sender="old@shop.example", subject="Fwd: x", body=body))
    deliver(
        mail(sender="cy@example.net", subject="Fwd: y", body=body, message_id="<m2@example.org>")
    )
    values = sorted(t.requester.identities.get().value for t in Ticket.objects.all())
    assert values == ["cy@example.net", "old@shop.example"]
