"""The auto-acknowledgement of new email tickets (subscriber of ticket.created)."""

from __future__ import annotations

from email.message import EmailMessage

import pytest
from django.core import mail as django_mail

from frontline.channels.email.adapter import provider_id_for
from frontline.channels.email.handlers import ACK_EVENT, on_ticket_created
from frontline.channels.email.parser import message_id_of
from frontline.channels.models import Mailbox
from frontline.channels.services import raw_payload_process, raw_payload_store
from frontline.core.bus import Event
from frontline.core.models import DomainEvent
from frontline.tickets.models import Ticket

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def mailbox():
    return Mailbox.objects.create(
        name="Support", address="support@example.com", from_name="Shop Support",
        auto_acknowledge=True,
    )  # fmt: skip


def deliver(
    *,
    subject: str = "Broken zipper",
    message_id: str = "<m1@example.org>",
    headers: dict[str, str] | None = None,
    to: str = "support@example.com",
) -> Ticket:
    msg = EmailMessage()
    msg["From"] = "Ana Lima <ana@example.org>"
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = message_id
    for key, value in (headers or {}).items():
        msg[key] = value
    msg.set_content("The zipper broke.")
    raw = msg.as_bytes()
    payload, _ = raw_payload_store(
        channel="email",
        body=raw,
        provider_message_id=provider_id_for(raw, message_id_of(raw)),
        headers={"recipients": to},
    )
    raw_payload_process(payload.pk)
    payload.refresh_from_db()
    return Ticket.objects.get(pk=payload.ticket_id)


def test_ack_sent_once_with_the_right_headers(mailbox, sink):
    ticket = deliver()
    assert sink.arrived.wait(10)
    assert len(sink.messages) == 1
    ack = sink.messages[0]
    assert ack["To"] == "ana@example.org"
    assert ack["From"] == "Shop Support <support@example.com>"
    assert ack["Reply-To"] == "support@example.com"
    assert ack["Auto-Submitted"] == "auto-replied"
    assert ack["Subject"] == f"[#{ticket.pk}] Re: Broken zipper"
    assert ack["In-Reply-To"] == "<m1@example.org>"
    assert ack["References"] == "<m1@example.org>"
    assert ack["Message-ID"].startswith(f"<frontline.t{ticket.pk}.m0.")
    text = ack.get_body(("plain",)).get_content()
    assert f"#{ticket.pk}" in text and "one business day" in text and "Ana Lima" in text
    events = DomainEvent.objects.filter(name=ACK_EVENT, ticket_id=ticket.pk)
    assert events.count() == 1
    assert events.get().payload["to"] == "ana@example.org"

    # the event delivered again (a retried task) sends nothing more
    on_ticket_created(Event(name="ticket.created", ticket_id=ticket.pk, data={"channel": "email"}))
    assert len(sink.messages) == 1
    assert DomainEvent.objects.filter(name=ACK_EVENT).count() == 1


def test_ack_text_placeholders(mailbox):
    mailbox.acknowledge_text = "Dear {customer_name}, ticket {ticket_number} about {subject}."
    mailbox.save()
    ticket = deliver()
    assert len(django_mail.outbox) == 1
    assert django_mail.outbox[0].body == (f"Dear Ana Lima, ticket {ticket.pk} about Broken zipper.")


def test_customer_reply_to_the_ack_threads_into_the_ticket(mailbox):
    ticket = deliver()
    ack_id = django_mail.outbox[0].extra_headers["Message-ID"]
    reply = deliver(
        subject="Re: whatever", message_id="<m2@example.org>", headers={"In-Reply-To": ack_id}
    )
    assert reply.pk == ticket.pk
    assert len(django_mail.outbox) == 1  # no ack for a message on an existing ticket


@pytest.mark.parametrize(
    "headers",
    [
        {"Auto-Submitted": "auto-replied"},
        {"X-Autoreply": "yes"},
        {"Precedence": "bulk"},
        {"List-Id": "<news.example.org>"},
        {"Return-Path": "<>"},
    ],
)
def test_no_ack_for_auto_replies_and_bulk(mailbox, headers):
    ticket = deliver(headers=headers)
    assert ticket.tags.exists()
    assert django_mail.outbox == []
    assert not DomainEvent.objects.filter(name=ACK_EVENT).exists()


def test_no_ack_when_the_mailbox_does_not_ask_for_it(mailbox):
    mailbox.auto_acknowledge = False
    mailbox.save()
    deliver()
    assert django_mail.outbox == []


def test_no_ack_for_other_channels(mailbox):
    from frontline.channels.services import inbound_message_ingest
    from frontline.channels.types import InboundMessage, SenderIdentity

    inbound_message_ingest(
        InboundMessage(
            channel="chat",
            sender=SenderIdentity(kind="email", value="ana@example.org"),
            text="hi",
            metadata={"email": {"recipients": ["support@example.com"]}},
        )
    )
    assert django_mail.outbox == []
