"""A full email round trip over real SMTP: customer -> `frontline smtpd` -> ticket -> agent reply
-> SMTP sink with threading headers -> customer reply -> same ticket, quote stripped."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

import pytest

from frontline.channels.models import Mailbox, RawPayload
from frontline.tickets.actors import Actor
from frontline.tickets.models import Message, Ticket
from frontline.tickets.services import message_add
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def customer_mail(
    body: str, *, message_id: str, subject: str, in_reply_to: str = ""
) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "Ana Lima <Ana@Example.org>"
    msg["To"] = "support@example.com"
    msg["Subject"] = subject
    msg["Message-ID"] = message_id
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
        msg["References"] = in_reply_to
    msg.set_content(body)
    return msg


def test_round_trip(receiver, sink):
    with smtplib.SMTP("127.0.0.1", receiver, timeout=10) as smtp:
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            smtp.send_message(
                customer_mail("x", message_id="<x@example.org>", subject="x"),
                to_addrs=["nobody@example.com"],
            )
        smtp.send_message(
            customer_mail(
                "My tent pole snapped on the first night.",
                message_id="<first@example.org>",
                subject="Broken tent pole",
            )
        )
        # the same message again (a client retry) is accepted but not stored twice
        smtp.send_message(
            customer_mail(
                "My tent pole snapped on the first night.",
                message_id="<first@example.org>",
                subject="Broken tent pole",
            )
        )
    assert RawPayload.objects.filter(channel="email").count() == 1
    ticket = Ticket.objects.get()
    assert ticket.subject == "Broken tent pole" and ticket.channel == "email"
    assert ticket.requester.identities.get().value == "ana@example.org"
    assert ticket.messages.get().text.startswith("My tent pole snapped")

    agent = UserFactory(first_name="Sam", last_name="Reyes")
    reply = message_add(
        ticket=ticket, actor=Actor.for_user(agent), text="Sorry! A new pole is on its way."
    )
    assert sink.arrived.wait(10)
    sent = sink.messages[0]
    assert sent["To"] == "ana@example.org"
    assert f"[#{ticket.pk}]" in sent["Subject"]
    assert sent["In-Reply-To"] == "<first@example.org>"
    assert "<first@example.org>" in sent["References"]
    assert sent["Message-ID"].startswith(f"<frontline.t{ticket.pk}.m{reply.pk}.")
    assert "A new pole is on its way" in sent.get_body(("plain",)).get_content()
    reply.refresh_from_db()
    assert reply.delivery_state == "sent" and reply.provider_message_id == sent["Message-ID"]

    quoted = "\n".join(f"> {line}" for line in "Sorry! A new pole is on its way.".splitlines())
    with smtplib.SMTP("127.0.0.1", receiver, timeout=10) as smtp:
        smtp.send_message(
            customer_mail(
                "Thank you, it arrived today.\n\n"
                f"On Mon, 23 Nov 2026 at 10:00, Support wrote:\n{quoted}\n",
                message_id="<second@example.org>",
                subject=f"Re: {sent['Subject']}",
                in_reply_to=sent["Message-ID"],
            )
        )
    assert Ticket.objects.count() == 1
    last = Message.objects.filter(ticket=ticket).order_by("-id").first()
    assert last is not None and last.direction == "inbound"
    assert last.text == "Thank you, it arrived today."
    assert "wrote:" in last.metadata["full_text"]


def test_reply_comes_from_the_mailbox_written_to_and_carries_attachments(receiver, sink):
    from frontline.tickets.services import AttachmentInput

    Mailbox.objects.create(name="Billing", address="billing@example.com", from_name="Billing Team")
    msg = customer_mail(
        "Please resend my invoice.", message_id="<inv@example.org>", subject="Invoice"
    )
    msg.replace_header("To", "billing@example.com")
    with smtplib.SMTP("127.0.0.1", receiver, timeout=10) as smtp:
        smtp.send_message(msg)
    ticket = Ticket.objects.get()
    agent = UserFactory()
    message_add(
        ticket=ticket,
        actor=Actor.for_user(agent),
        text="Here it is.",
        attachments=[AttachmentInput(filename="invoice.pdf", content=b"%PDF-1.4 invoice")],
    )
    assert sink.arrived.wait(10)
    sent = sink.messages[0]
    assert sent["From"] == "Billing Team <billing@example.com>"
    assert sent["Reply-To"] == "billing@example.com"
    files = {part.get_filename(): part.get_content() for part in sent.iter_attachments()}
    assert files == {"invoice.pdf": b"%PDF-1.4 invoice"}
